// PostDeployVerification with Grafana panels: one probe command per panel, named `<verification>-grafana-<panel>`,
// the Grafana token a secret variable of those commands only, production's inconclusive rule on each.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, settle, unwrap, type MockState } from "../support/mocks";

let mocks: MockState;
let mod: typeof import("../../../components/post-deploy-verification");

beforeAll(async () => {
  mocks = installMocks();
  mod = await import("../../../components/post-deploy-verification");
});

const base = {
  probeScript: "/repo/dist/src/verify/probe.js",
  apiBaseUrl: "https://api.example",
  workerBaseUrl: "http://worker:3001",
  namespace: "nova-prod",
  alertmanagerUrl: "http://am:9093",
  budget: { attempts: 3, timeoutSeconds: 5 },
  triggers: ["sha256:a"],
};
const grafanaPanels = {
  url: "https://grafana.example",
  dashboardUid: "nova-release",
  windowSeconds: 600,
  variables: { namespace: "nova-prod" },
  panels: [
    { name: "traffic", title: "Traffic", conditions: ["> 0"] },
    { name: "module-toggles", title: "Module toggles", conditions: [] },
    { name: "billing", id: 3, conditions: ["== 0"] },
  ],
};

describe("PostDeployVerification with Grafana panels", () => {
  it("runs one probe per panel after the other checks, the token in their secret environment only", async () => {
    const v = new mod.PostDeployVerification("g", {
      ...base,
      grafanaPanels,
      grafanaAuthorization: pulumi.secret("Bearer glsa_comp_1"),
      inconclusiveFails: true,
    });
    expect(
      mod
        .verificationChecks({ ...base, grafanaPanels })
        .map(([n]) => n)
        .slice(-3),
    ).toEqual(["grafana-traffic", "grafana-module-toggles", "grafana-billing"]);
    expect(v.checks).toHaveLength(7);
    await settle();
    expect(mocks.named("g-grafana-traffic").inputs.create).toBe(
      "node /repo/dist/src/verify/probe.js grafana --name grafana-traffic --url https://grafana.example " +
        "--dashboard nova-release --panel-title Traffic --condition '> 0' --var namespace=nova-prod --window 600 " +
        "--inconclusive-fails --attempts 3 --timeout 5 --backoff-ms 2000",
    );
    expect(mocks.named("g-grafana-billing").inputs.create).toContain("--panel-id 3 --condition '== 0'");
    expect(mocks.named("g-grafana-module-toggles").inputs.create).toContain("--panel-title 'Module toggles'");
    for (const name of ["g-grafana-traffic", "g-grafana-module-toggles", "g-grafana-billing"]) {
      expect(unwrap(mocks.named(name).inputs.environment), name).toEqual({
        secret: true,
        value: { NOVA_GRAFANA_AUTHORIZATION: "Bearer glsa_comp_1" },
      });
    }
    for (const name of ["g-api-health", "g-alerts-quiet"]) {
      expect(mocks.named(name).inputs.environment, name).toBeUndefined();
    }
    for (const r of mocks.resources.filter((x) => x.name.startsWith("g-"))) {
      expect(JSON.stringify(r.inputs.create ?? "")).not.toContain("glsa_comp_1");
    }
  });

  it("tolerates a panel without data outside production, and adds nothing without panels", async () => {
    new mod.PostDeployVerification("h", { ...base, grafanaPanels });
    await settle();
    expect(String(mocks.named("h-grafana-traffic").inputs.create)).not.toContain("--inconclusive-fails");
    expect(mocks.named("h-grafana-traffic").inputs.environment).toBeUndefined();
    expect(mod.verificationChecks(base).some(([n]) => n.startsWith("grafana-"))).toBe(false);
  });
});
