import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

// The stack file's settings, as each case needs them (the reader is replaced; everything else is real).
const settings = vi.hoisted((): { current: unknown } => ({ current: undefined }));
vi.mock("../../../src/config", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../../src/config")>()),
  loadStackSettingsFromFile: () => {
    if (settings.current === undefined) throw new Error("Pulumi.prod.yaml: no such file");
    return settings.current;
  },
}));

let clusterState: typeof import("../../../cli/cluster-state").clusterState;
let emergencySteps: typeof import("../../../cli/cluster-state").emergencySteps;

// A kubectl on PATH that records its arguments and answers like an unsuspended CronJob / a Deployment.
let bin = "";
const calls = () =>
  fs.existsSync(path.join(bin, "calls"))
    ? fs.readFileSync(path.join(bin, "calls"), "utf8").trim().split("\n").filter(Boolean)
    : [];
const savedPath = process.env.PATH;
beforeAll(async () => {
  ({ clusterState, emergencySteps } = await import("../../../cli/cluster-state"));
  bin = fs.mkdtempSync(path.join(os.tmpdir(), "nova-kubectl-"));
  fs.writeFileSync(path.join(bin, "kubectl"), `#!/bin/sh\necho "$*" >> '${bin}/calls'\necho false\n`, {
    mode: 0o755,
  });
  process.env.PATH = `${bin}:${savedPath ?? ""}`;
});
afterAll(() => {
  process.env.PATH = savedPath;
  fs.rmSync(bin, { recursive: true, force: true });
});
beforeEach(() => fs.rmSync(path.join(bin, "calls"), { force: true }));

const base = { namespace: "nova-prod", pausedCronJobs: ["nova-billing-drill"] };

describe("the emergency steps name the stack's own cluster and context", () => {
  it("a GKE stack: its cluster's credentials first, then kubectl with that cluster's context", async () => {
    settings.current = {
      ...base,
      cluster: {
        mode: "gke",
        project: "nova-prod",
        region: "us-central1",
        clusterName: "nova-prod",
        nodeCount: 3,
        machineType: "e2-standard-4",
      },
    };
    const state = await clusterState("/repo", "prod");
    const k = "kubectl --context gke_nova-prod_us-central1_nova-prod";
    expect(emergencySteps(state, "prod")).toEqual([
      "  1. gcloud container clusters get-credentials nova-prod --region us-central1 --project nova-prod",
      `  2. ${k} -n nova-prod rollout undo deployment/nova-api deployment/nova-worker`,
      `  3. ${k} -n nova-prod patch cronjob nova-billing-drill --field-manager=nova-rollout-suspend -p '{"spec":{"suspend":false}}'`,
      "  4. npm run rollout -- history --stack prod, then rollback --to <version> once the cause is fixed",
    ]);
    // What the report says the cluster runs was read from that context too, never the current one.
    expect(calls().length).toBeGreaterThan(0);
    expect(calls().every((c) => c.includes("--context gke_nova-prod_us-central1_nova-prod"))).toBe(true);
  });

  it("a kubeconfig stack: its kubeconfig and context", async () => {
    settings.current = {
      ...base,
      cluster: { mode: "kubeconfig", kubeconfigPath: "/etc/nova/prod kubeconfig", context: "prod" },
    };
    const state = await clusterState("/repo", "prod");
    expect(state.kubectl).toBe("kubectl --kubeconfig '/etc/nova/prod kubeconfig' --context prod");
    expect(state.setup).toEqual([]);
    expect(
      calls().every((c) =>
        c.startsWith("--request-timeout=15s --kubeconfig /etc/nova/prod kubeconfig --context prod "),
      ),
    ).toBe(true);
  });

  it("a stack file that cannot be read: placeholders, and nothing read from the current context", async () => {
    settings.current = undefined;
    const state = await clusterState("/repo", "prod");
    expect(calls()).toEqual([]);
    expect(state.lines.join("\n")).toMatch(
      /unknown \(Pulumi\.prod\.yaml could not be read: .*not read from your current kubectl context\)/,
    );
    expect(emergencySteps(state, "prod")[0]).toBe(
      "  1. kubectl --kubeconfig <the kubeconfig of prod> --context <its context> -n <namespace> rollout undo deployment/nova-api deployment/nova-worker",
    );
  });
});
