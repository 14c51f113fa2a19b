import { loadSandboxProgram } from "./support/sandbox-program";
import { beforeAll, describe, expect, it } from "vitest";
import { SECRET_ENV_NAMES, SECRET_KEYS } from "../../src/config";
import { SECRET_CHECKSUM_ANNOTATION } from "../../src/contract";
import { sandboxRaw } from "./support/config-fixtures";
import { promiseOf, unwrap, type MockState } from "./support/mocks";

// The whole program on a sandbox stack, under mocks: what it registers, in which order, and what it never touches.
let mocks: MockState;
let program: typeof import("../../index");

beforeAll(async () => {
  ({ mocks, program } = await loadSandboxProgram());
});

describe("the program on a sandbox stack", () => {
  it("registers no gcp or docker resource and makes no gcp or docker invoke", () => {
    expect(mocks.resources.filter((r) => /^(gcp|docker):/.test(r.type))).toEqual([]);
    expect(mocks.calls.filter((c) => /^(gcp|docker):/.test(c.token))).toEqual([]);
  });

  it("registers the provider first and the namespace as the first Kubernetes object", () => {
    const custom = mocks.resources.filter((r) => !r.type.startsWith("nova:"));
    expect(custom[0]?.name).toBe("nova-k8s");
    expect(custom[0]?.type).toBe("pulumi:providers:kubernetes");
    const firstK8s = custom.find((r) => r.type.startsWith("kubernetes:"));
    expect(firstK8s?.name).toBe("nova-namespace");
  });

  it("orders the rollout: dump, rehearsal, pauses and digest checks before the chart; verification after it", () => {
    const chart = mocks.named("nova-release");
    expect(chart.dependsOn).toEqual(
      expect.arrayContaining([
        "nova-db-dump",
        "nova-db-migration-rehearsal",
        "nova-secret",
        "nova-jobs-pause-nova-billing-drill",
        "nova-jobs-pause-ci-schedules",
        "nova-api-digest",
        "nova-worker-digest",
      ]),
    );
    expect(mocks.named("nova-db-migration-rehearsal").dependsOn).toContain("nova-db-dump");
    expect(mocks.named("nova-verify-api-health").dependsOn).toContain("nova-release");
    for (const name of ["nova-jobs-resume-nova-billing-drill", "nova-jobs-resume-ci-schedules"]) {
      expect(mocks.named(name).dependsOn).toEqual(
        expect.arrayContaining([
          "nova-verify-api-health",
          "nova-verify-alerts-quiet",
          "nova-verify-synthetic-e2e",
        ]),
      );
    }
    expect(mocks.named("nova-jobs-pause-ci-schedules").inputs.create).toBe(
      "node dist/src/ci/schedules.js disable --api https://api.github.com nova-rms/nova-rms:nightly-e2e.yml",
    );
  });

  it("feeds the chart the pinned digests, sandbox values and the secrets checksum", async () => {
    const values = mocks.named("nova-release").inputs.values as Record<string, Record<string, unknown>>;
    expect(values.api?.image).toEqual({ repository: "nova-rms-api", digest: `sha256:${"a".repeat(64)}` });
    expect(values.secrets?.checksum).toMatch(/^[a-f0-9]{16}$/);
    expect(mocks.named("nova-release").inputs.valueYamlFiles).toHaveLength(1);
    expect(await promiseOf(program.imageRefs)).toEqual({
      api: `127.0.0.1:35000/nova/nova-rms-api@sha256:${"a".repeat(64)}`,
      worker: `127.0.0.1:35000/nova/nova-rms-worker@sha256:${"b".repeat(64)}`,
    });
  });

  it("keeps every secret value secret in what it registers", () => {
    expect(unwrap(mocks.named("nova-secret").inputs.stringData).secret).toBe(true);
    expect(unwrap(mocks.named("nova-k8s").inputs.kubeconfig).secret).toBe(true);
    expect(unwrap(mocks.named("nova-db-dump").inputs.environment).secret).toBe(true);
    expect(unwrap(mocks.named("nova-jobs-pause-nova-billing-drill").inputs.environment).secret).toBe(true);
    const plain = JSON.stringify(mocks.resources.map((r) => ({ ...r, inputs: stripSecrets(r.inputs) })));
    for (const value of ["sandbox-jwt", "sandbox-billing", "postgres://nova@127.0.0.1:55432/nova"]) {
      expect(plain).not.toContain(value);
    }
    // The checksum key is in no input at all, secret or not.
    expect(JSON.stringify(mocks.resources)).not.toContain(String(sandboxRaw().secretsChecksumKey));
  });

  it("keys the secrets checksum with nova-rollout:secretsChecksumKey from config", async () => {
    const { secretsChecksum } = await import("../../components/app-secrets");
    const raw = sandboxRaw();
    const values = Object.fromEntries(SECRET_KEYS.map((k) => [SECRET_ENV_NAMES[k], String(raw[k])]));
    const meta = mocks.named("nova-secret").inputs.metadata as { annotations: Record<string, string> };
    expect(meta.annotations[SECRET_CHECKSUM_ANNOTATION]).toBe(
      secretsChecksum(values, String(raw.secretsChecksumKey)),
    );
    const chart = mocks.named("nova-release").inputs.values as { secrets?: { checksum?: string } };
    expect(chart.secrets?.checksum).toBe(meta.annotations[SECRET_CHECKSUM_ANNOTATION]);
  });
});

function stripSecrets(value: unknown): unknown {
  const u = unwrap(value);
  if (u.secret) return "[secret]";
  if (Array.isArray(value)) return value.map(stripSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripSecrets(v)]));
  }
  return value;
}
