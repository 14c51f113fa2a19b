// Dashboard panels in production shape: a production-shaped stack with the committed production enforcement reads the
// traffic, module-toggle and billing panels of a dashboard through the Grafana stand-in's query API (the dashboard's
// model, its queries with the dashboard's variable, the frames over the verification window), on the real engine and
// the sandbox's Kubernetes API. With data the release verifies; a panel without data fails production's verification
// as inconclusive, naming the panel. The Grafana token (a secret config value the stand-in requires) is in no output,
// state or evidence.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../cli/errors";
import { SANDBOX, sandboxImageDigests } from "./harness";
import { ProductionWorld } from "./production-world";
import { type EvidenceProject, filesUnder } from "./scenario";

const STACK = "it-prod-grafana";
const NS = "it-prod-grafana";
const TOKEN_VALUE = `glsa_it_panels_${crypto.randomBytes(10).toString("hex")}`;
const TOKEN = `Bearer ${TOKEN_VALUE}`;
const PANELS = {
  url: SANDBOX.standins.grafana,
  dashboardUid: "nova-release",
  windowSeconds: 600,
  variables: { namespace: NS },
  panels: [
    { title: "Traffic", condition: "> 0" },
    { title: "Module toggles", condition: ">= 1" },
    { id: 3, name: "billing", condition: "== 0" },
  ],
};

let world: ProductionWorld;
let stack: Stack;
let evidence: EvidenceProject;
const outputs: string[] = [];

/** The Grafana stand-in's control endpoint (POST /__grafana). */
async function grafana(body: unknown): Promise<void> {
  const res = await fetch(`${SANDBOX.standins.grafana}/__grafana`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`stand-in grafana: answered ${res.status}: ${await res.text()}`);
}

const results = async () =>
  ((await stack.outputs())["verificationResults"]?.value ?? []) as {
    check: string;
    ok: boolean;
    detail: string;
  }[];

const rolloutUp = () =>
  world.rollout(["up", "--stack", STACK, "--no-auto-rollback"], {
    NOVA_OPERATOR: world.sre.name,
    NOVA_SSH_KEY_FILE: world.sre.keyFile,
  });

beforeAll(async () => {
  world = await ProductionWorld.create("nova-prod-grafana-it-", [NS]);
  // The stand-in's panels answer their defaults, and every Grafana API call must carry the stack's token.
  await grafana({ reset: true });
  await grafana({ authorization: TOKEN });
  stack = await world.projectStack(
    STACK,
    world.prodConfig(NS, { imageTag: "sandbox", grafanaPanels: JSON.stringify(PANELS) }),
  );
  await stack.setConfig("nova-rollout:grafanaAuthorization", { value: TOKEN, secret: true });
  evidence = world.evidence(STACK);
}, 600_000);

afterAll(async () => {
  // Other tests share the stand-in: its panels, annotations and authorization back to their defaults.
  await grafana({ reset: true }).catch(() => undefined);
  await world?.dispose();
}, 900_000);

describe.sequential("Grafana dashboard panels in a production-shaped release", () => {
  it("with every panel answering data, the release verifies; each panel judged through the query API", async () => {
    await world.ready(evidence, "sandbox", sandboxImageDigests());
    const up = await rolloutUp();
    outputs.push(up.out);
    expect(up.code, up.out).toBe(0);
    const byCheck = new Map((await results()).map((r) => [r.check, r]));
    expect(byCheck.get("grafana-traffic")).toMatchObject({
      ok: true,
      detail: 'successful: panel "Traffic" answered 4 values over the last 600 s, all > 0',
    });
    expect(byCheck.get("grafana-module-toggles")?.detail).toMatch(/^successful: panel "Module toggles"/);
    // The Billing panel, inside a collapsed row, found by its id.
    expect(byCheck.get("grafana-billing")?.detail).toBe(
      "successful: panel id 3 answered 4 values over the last 600 s, all == 0",
    );

    // `rollout verify` reads the same panels in process, with the stack's decrypted token.
    const verify = await world.rollout(["verify", "--stack", STACK]);
    outputs.push(verify.out);
    expect(verify.out).toMatch(/pass {2}grafana-traffic/);
    expect(verify.out).toMatch(/pass {2}grafana-billing/);
  }, 900_000);

  it("with the billing panel answering no data, production's verification fails as inconclusive, naming the panel", async () => {
    await grafana({ panel: "Billing", values: null });
    // A verification setting that changes every check's command, so the checks run again for the same release.
    await stack.setConfig("nova-rollout:verifyAttempts", { value: "2" });
    const up = await rolloutUp();
    outputs.push(up.out);
    expect(up.code, up.out).toBe(EXIT.verificationFailed);
    expect(up.out).toMatch(
      /\[grafana-billing\] INCONCLUSIVE: inconclusive: panel id 3 answered no data over the last 600 s \(queries A\)/,
    );
    expect(up.out).toContain("nova-verify-grafana-billing");
    // The panels with data still pass: only the billing panel failed the release.
    expect(up.out).not.toMatch(/\[grafana-traffic\] INCONCLUSIVE|\[grafana-module-toggles\] INCONCLUSIVE/);
  }, 900_000);

  it("the Grafana token is in no output, state file or evidence file", () => {
    const text = outputs.join("\n");
    expect(text).not.toContain(TOKEN_VALUE);
    const leaks = [...world.backendFiles(), ...filesUnder(evidence.evidenceDir)].filter((f) =>
      fs.readFileSync(f).includes(TOKEN_VALUE),
    );
    expect(leaks).toEqual([]);
    // The state holds the panel checks (the token encrypted in their environment).
    const state = world
      .backendFiles()
      .filter((f) => f.endsWith(".json"))
      .map((f) => fs.readFileSync(f, "utf8"))
      .join("\n");
    expect(state).toContain("grafana-billing");
  });
});
