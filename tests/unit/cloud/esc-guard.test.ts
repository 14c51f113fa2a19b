// What a Pulumi ESC environment imported by Pulumi.production.yaml can inject, it injects as stack config
// (`values.pulumiConfig`) and as environment variables (`values.environmentVariables`). Neither turns the program
// guard off: a production stack stays production (its target decides, not a label) and stays blocked while unready.
// Each case asserts a production-only outcome; the sandbox control shows the same guard lets a sandbox stack through.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { classifyStackFile, gateForStack } from "../../../src/evidence";
import { productionRaw, sandboxRaw } from "../support/config-fixtures";

const REPO = path.resolve(__dirname, "..", "..", "..");
const NOW = new Date("2026-11-25T18:30:00Z");
/** A stack name with no evidence on file anywhere in the repository. */
const STACK = "esc-production";

const flat = (raw: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.includes(":") ? k : `nova-rollout:${k}`, v]));

const guard = (raw: Record<string, unknown>, stack = STACK) =>
  gateForStack({ stack, config: flat(raw), projectDir: REPO, now: NOW });

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

describe("ESC-provided values and the program guard", () => {
  it("control: the same guard lets a sandbox stack through", () => {
    // No cluster behind it: a unit test must not depend on whether this machine's sandbox is up (a kubeconfig whose
    // cluster does not answer is unidentified, and so production).
    const verdict = guard(
      sandboxRaw({ kubeconfigPath: path.join(os.tmpdir(), "nova-esc-guard-no-cluster", "kubeconfig") }),
      "esc-sandbox",
    );
    expect(verdict.stackClass.production).toBe(false);
    expect(verdict.findings).toEqual([]);
  });

  it("control: the committed production values are production and blocked", () => {
    const verdict = guard(productionRaw());
    expect(verdict.stackClass.production).toBe(true);
    expect(verdict.findings.map((f) => f.checkId)).toContain("bundle");
  });

  describe.each<[string, Record<string, unknown>]>([
    ["environment relabelled sandbox", { "nova-rollout:environment": "sandbox" }],
    [
      "environment staging and another namespace",
      { "nova-rollout:environment": "staging", "nova-rollout:namespace": "nova-staging" },
    ],
    ["an enforcement override key", { "nova-rollout:enforcement": "advisory" }],
    ["a gate switch", { "nova-rollout:gate": "off", "nova-rollout:readinessGate": "false" }],
    ["a pack config pointing at local.json", { "nova-rollout:policyPackConfig": "policy/config/local.json" }],
  ])("pulumiConfig from ESC: %s", (_label, injected) => {
    it("keeps the stack production and blocked", () => {
      const verdict = guard({ ...productionRaw(), ...injected });
      expect(verdict.stackClass.production).toBe(true);
      expect(verdict.findings.length).toBeGreaterThan(0);
    });
  });

  it("names the target that keeps a relabelled stack production", () => {
    const verdict = guard({ ...productionRaw(), environment: "sandbox", namespace: "nova-staging" });
    expect(verdict.stackClass.protectedTargets).toEqual(
      expect.arrayContaining(["GCP project nova-prod", "GKE cluster nova-prod"]),
    );
    expect(verdict.findings.map((f) => f.checkId)).toContain("bundle");
  });

  it("environmentVariables from ESC change nothing", () => {
    Object.assign(process.env, {
      NOVA_ENFORCEMENT: "advisory",
      NOVA_ENVIRONMENT: "sandbox",
      NOVA_GATE: "off",
      NOVA_SKIP_GATE: "true",
      NOVA_POLICY_PACK_CONFIG: "policy/config/local.json",
      PULUMI_STACK: "local",
    });
    const verdict = guard(productionRaw());
    expect(verdict.stackClass.production).toBe(true);
    expect(verdict.findings.map((f) => f.checkId)).toContain("bundle");
  });
});

describe("a Pulumi.production.yaml that imports an ESC environment", () => {
  it("is still classified by its target", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-esc-"));
    try {
      for (const rel of ["Pulumi.yaml", "policy/config/production.json", "policy/trust/roster.json"]) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.copyFileSync(path.join(REPO, rel), path.join(dir, rel));
      }
      const committed = fs.readFileSync(path.join(REPO, "Pulumi.production.yaml"), "utf8");
      fs.writeFileSync(
        path.join(dir, "Pulumi.production.yaml"),
        `environment:\n  - nova/production-gcp\n${committed}`,
      );
      const cls = classifyStackFile(dir, "production");
      expect(cls.production).toBe(true);
      expect(cls.protectedTargets).toEqual(expect.arrayContaining(["namespace nova-prod"]));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
