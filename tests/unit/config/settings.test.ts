import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigValidationError, parseStackSettings } from "../../../src/config";
import { DIGEST_A, productionRaw, sandboxRaw, without } from "../support/config-fixtures";

const opts = { stack: "production", projectDir: "/repo" };

function problemKeys(raw: Record<string, unknown>, isSecret?: (k: string) => boolean): string[] {
  try {
    parseStackSettings(raw, { ...opts, ...(isSecret ? { isSecret } : {}) });
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.problems.map((p) => p.key).sort();
    throw err;
  }
  return [];
}

const k = (...keys: string[]) => keys.map((x) => `nova-rollout:${x}`).sort();

describe("parseStackSettings: valid stacks", () => {
  it("types a production config", () => {
    const s = parseStackSettings(productionRaw(), opts);
    expect(s.environment).toBe("production");
    expect(s.cluster).toEqual({
      mode: "gke",
      project: "nova-prod",
      region: "us-central1",
      clusterName: "nova-prod",
      nodeCount: 3,
      machineType: "e2-standard-4",
    });
    expect(s.scaling).toEqual({
      apiReplicas: 3,
      workerReplicas: 2,
      autoscalingEnabled: true,
      apiMaxReplicas: 10,
      workerMaxReplicas: 6,
      targetCpuPercent: 70,
    });
    expect(s.images.api).toEqual({ service: "api", repository: "nova-rms-api", digest: DIGEST_A });
    expect(s.pausedCronJobs).toEqual(["nova-billing-drill"]);
    expect(s.verification.attempts).toBe(5);
    expect(s.evidenceDir).toBe("/repo/tests/drills/logs");
  });

  it("resolves relative paths against the project and keeps URLs", () => {
    const s = parseStackSettings(sandboxRaw(), { stack: "local", projectDir: "/repo" });
    expect(s.cluster).toMatchObject({ kubeconfigPath: "/repo/.sandbox/kubeconfig", context: "nova-sandbox" });
    expect(s.database.backupDestination).toBe("/repo/.sandbox/backups");
    expect(parseStackSettings(productionRaw(), opts).database.backupDestination).toBe(
      "gs://nova-prod-backups/pre-release",
    );
  });

  it("treats an empty value as unset (Pulumi.yaml declares optional keys with empty defaults)", () => {
    const s = parseStackSettings(productionRaw({ syntheticE2eCommand: "", kubeconfigPath: " " }), opts);
    expect(s.verification.syntheticE2eCommand).toBeUndefined();
  });

  it("accepts typed values as well as their text form", () => {
    const s = parseStackSettings(
      productionRaw({ apiReplicas: 4, autoscalingEnabled: false, pausedCronJobs: ["a"] }),
      opts,
    );
    expect(s.scaling.apiReplicas).toBe(4);
    expect(s.pausedCronJobs).toEqual(["a"]);
  });
});

// Each malformed config names exactly the keys that are wrong.
const malformed: [string, Record<string, unknown>, string[]][] = [
  ["unknown environment", productionRaw({ environment: "prod" }), k("environment")],
  ["missing environment", without(productionRaw(), "environment"), k("environment")],
  ["namespace with capitals", productionRaw({ namespace: "Nova-Prod" }), k("namespace")],
  ["namespace too long", productionRaw({ namespace: "n".repeat(64) }), k("namespace")],
  ["unknown cluster mode", productionRaw({ clusterMode: "eks" }), k("clusterMode")],
  [
    "gke without region and cluster name",
    without(productionRaw(), "gcpRegion", "gkeClusterName"),
    k("gcpRegion", "gkeClusterName"),
  ],
  [
    "kubeconfig mode without path and context",
    productionRaw({ clusterMode: "kubeconfig" }),
    k("kubeconfigPath", "kubeconfigContext"),
  ],
  [
    "registry with scheme",
    productionRaw({ imageRegistry: "https://us-docker.pkg.dev/x" }),
    k("imageRegistry"),
  ],
  ["tag with a slash", productionRaw({ imageTag: "release/1" }), k("imageTag")],
  ["digest is a tag", productionRaw({ apiImageDigest: "latest" }), k("apiImageDigest")],
  ["digest too short", productionRaw({ workerImageDigest: "sha256:abc" }), k("workerImageDigest")],
  [
    "tag-only images",
    without(productionRaw(), "apiImageDigest", "workerImageDigest"),
    k("apiImageDigest", "workerImageDigest"),
  ],
  ["unknown resolver", productionRaw({ imageResolver: "ecr" }), k("imageResolver")],
  [
    "build in production",
    productionRaw({ imageResolver: "build", apiBuildContext: "a", workerBuildContext: "b" }),
    k("imageResolver"),
  ],
  [
    "build without contexts",
    productionRaw({ environment: "staging", imageResolver: "build" }),
    k("apiBuildContext", "workerBuildContext"),
  ],
  ["replicas zero", productionRaw({ workerReplicas: "0" }), k("workerReplicas")],
  ["replicas not a number", productionRaw({ apiReplicas: "three" }), k("apiReplicas")],
  ["replicas fractional", productionRaw({ apiReplicas: "2.5" }), k("apiReplicas")],
  ["single api replica in production", productionRaw({ apiReplicas: "1" }), k("apiReplicas")],
  ["autoscaling flag not boolean", productionRaw({ autoscalingEnabled: "yes" }), k("autoscalingEnabled")],
  ["max below replicas", productionRaw({ apiMaxReplicas: "2" }), k("apiMaxReplicas")],
  ["cpu target over 100", productionRaw({ autoscalingTargetCpu: "150" }), k("autoscalingTargetCpu")],
  ["missing required secret", without(productionRaw(), "databaseUrl"), k("databaseUrl")],
  [
    "unknown required secret",
    productionRaw({ requiredSecrets: '["databaseUrl","sessionKey"]' }),
    k("requiredSecrets"),
  ],
  ["required secrets not a list", productionRaw({ requiredSecrets: "databaseUrl" }), k("requiredSecrets")],
  ["unknown secret source", productionRaw({ secretSource: "vault" }), k("secretSource")],
  [
    "secret manager without project",
    without(
      productionRaw({
        secretSource: "gcp-secret-manager",
        clusterMode: "kubeconfig",
        kubeconfigPath: "k",
        kubeconfigContext: "c",
        imageResolver: "pinned",
      }),
      "gcpProject",
    ),
    k("gcpProject"),
  ],
  ["missing backup destination", without(productionRaw(), "backupDestination"), k("backupDestination")],
  ["missing rehearsal database", without(productionRaw(), "rehearsalDatabaseUrl"), k("rehearsalDatabaseUrl")],
  ["api URL without scheme", productionRaw({ apiBaseUrl: "api.nova.example" }), k("apiBaseUrl")],
  ["alertmanager URL is ftp", productionRaw({ alertmanagerUrl: "ftp://am" }), k("alertmanagerUrl")],
  [
    "paused cron jobs with an empty name",
    productionRaw({ pausedCronJobs: '["nova-billing-drill",""]' }),
    k("pausedCronJobs"),
  ],
  ["verify attempts zero", productionRaw({ verifyAttempts: "0" }), k("verifyAttempts")],
  ["verify timeout too long", productionRaw({ verifyTimeoutSeconds: "601" }), k("verifyTimeoutSeconds")],
  ["a typo in a key", productionRaw({ apiReplica: "3" }), k("apiReplica")],
  [
    "sandbox on gke with docker resolver",
    sandboxRaw({
      clusterMode: "gke",
      gcpProject: "p",
      gcpRegion: "r",
      gkeClusterName: "c",
      imageResolver: "docker",
    }),
    k("clusterMode", "imageResolver"),
  ],
  [
    "sandbox with secret manager",
    sandboxRaw({ secretSource: "gcp-secret-manager", gcpProject: "p" }),
    k("secretSource"),
  ],
  [
    "several type errors at once",
    productionRaw({ environment: "qa", apiReplicas: "-1", namespace: "_", imageTag: "", bogus: 1 }),
    k("environment", "apiReplicas", "namespace", "imageTag", "bogus"),
  ],
];

describe("parseStackSettings: malformed configs name every bad key", () => {
  it("has a table of at least 25 cases", () => expect(malformed.length).toBeGreaterThanOrEqual(25));

  it.each(malformed)("%s", (_name, raw, keys) => {
    expect(problemKeys(raw)).toEqual(keys);
  });

  it("renders one message with every key, the expectation and the fix, without a stack trace", () => {
    let message = "";
    try {
      parseStackSettings(productionRaw({ apiReplicas: "0", namespace: "X" }), opts);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      [
        'Stack config of "production" has 2 problems:',
        "  - nova-rollout:namespace: expected a DNS-1123 label (lowercase letters, digits and '-')",
        "  - nova-rollout:apiReplicas: expected a whole number ≥ 1",
        "Fix each with `pulumi config set <key> <value> --stack production` (add --secret for secrets), then run again.",
      ].join("\n"),
    );
    expect(message).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it("names secrets stored in plain text when the engine says which keys are secret", () => {
    const secretKeys = new Set(["nova-rollout:databaseUrl", "nova-rollout:rehearsalDatabaseUrl"]);
    expect(problemKeys(productionRaw(), (key) => secretKeys.has(key))).toEqual(
      k("billingApiKey", "jwtSigningKey"),
    );
  });

  it("rejects every replica count below 1 and accepts every one from 2 to 100 in production", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 0 }), (n) => {
        expect(problemKeys(productionRaw({ apiReplicas: String(n) }))).toContain("nova-rollout:apiReplicas");
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 100 }), (n) => {
        const s = parseStackSettings(productionRaw({ apiReplicas: String(n), apiMaxReplicas: "500" }), opts);
        expect(s.scaling.apiReplicas).toBe(n);
      }),
    );
  });

  it("rejects any digest that is not sha256 and 64 lowercase hex characters", () => {
    fc.assert(
      fc.property(
        fc
          .string({ minLength: 1, maxLength: 80 })
          .filter((s) => !/^sha256:[a-f0-9]{64}$/.test(s) && s.trim() !== ""),
        (digest) => {
          expect(problemKeys(productionRaw({ apiImageDigest: digest }))).toEqual(k("apiImageDigest"));
        },
      ),
    );
  });
});
