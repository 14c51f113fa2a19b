// What a rollback restores and to what: the target's deployed config without its verification settings (the stack's
// current checks verify the restored release), no project defaults written into the stack file, and only admitted,
// succeeded, not rejected updates as targets.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  projectConfigDefaults,
  rollbackConfigChanges,
  sameConfigValue,
  VERIFICATION_KEYS,
} from "../../../cli/actions/rollback-config";
import { repositoryChange } from "../../../cli/actions/rollback";
import { rollbackTarget, toReleaseEntry, type ReleaseEntry } from "../../../cli/history";
import { CONFIG_KEYS, VERIFICATION_CONFIG_KEYS } from "../../../src/config";

const REPO = path.resolve(__dirname, "..", "..", "..");
const A1 = `sha256:${"1".repeat(64)}`;
const A2 = `sha256:${"2".repeat(64)}`;
const W1 = `sha256:${"3".repeat(64)}`;
const BUNDLE = "b".repeat(64);
const k = (key: string) => `nova-rollout:${key}`;

describe("the verification keys", () => {
  it("are keys of the stack config schema, listed once", () => {
    for (const key of VERIFICATION_CONFIG_KEYS) expect(CONFIG_KEYS).toContain(key);
    expect(new Set(VERIFICATION_CONFIG_KEYS).size).toBe(VERIFICATION_CONFIG_KEYS.length);
    expect([...VERIFICATION_KEYS]).toContain(k("metricChecks"));
  });
});

describe("the config a rollback restores", () => {
  const defaults = projectConfigDefaults(REPO);
  const metricChecks = JSON.stringify([{ name: "error-ratio", query: "q", condition: "< 0.01" }]);
  const current = {
    [k("imageTag")]: { value: "r2" },
    [k("apiImageDigest")]: { value: A2 },
    [k("apiReplicas")]: { value: "4" },
    [k("metricChecks")]: { value: metricChecks },
    [k("prometheusUrl")]: { value: "http://prometheus:9090" },
    [k("verifyAttempts")]: { value: "7" },
    [k("alertmanagerUrl")]: { value: "http://alertmanager:9093/new" },
    [k("requiredSecrets")]: { value: '["databaseUrl","jwtSigningKey","billingApiKey"]' },
  };
  // The target ran before the metric check existed, with the defaults of the keys it did not set.
  const target = {
    [k("imageTag")]: "r1",
    [k("apiImageDigest")]: A1,
    [k("apiReplicas")]: "2",
    [k("metricChecks")]: "[]",
    [k("prometheusUrl")]: "",
    [k("verifyAttempts")]: "5",
    [k("alertmanagerUrl")]: "http://alertmanager:9093/old",
    [k("gkeNodeCount")]: "3",
    [k("clusterMode")]: "kubeconfig",
    [k("requiredSecrets")]: '[ "databaseUrl", "jwtSigningKey", "billingApiKey" ]',
  };

  it("reads the project defaults from Pulumi.yaml, lists as JSON", () => {
    expect(defaults[k("gkeNodeCount")]).toBe("3");
    expect(defaults[k("autoscalingEnabled")]).toBe("false");
    expect(JSON.parse(defaults[k("requiredSecrets")] ?? "null")).toEqual([
      "databaseUrl",
      "jwtSigningKey",
      "billingApiKey",
    ]);
    expect(defaults[k("imageTag")]).toBeUndefined();
  });

  it("keeps every verification setting as the stack has it now", () => {
    const { set, remove } = rollbackConfigChanges(target, current, defaults);
    for (const key of VERIFICATION_CONFIG_KEYS) {
      expect(set).not.toHaveProperty(k(key));
      expect(remove).not.toContain(k(key));
    }
  });

  it("re-applies what was deployed; a value equal to the project default is removed, never written", () => {
    const { set, remove } = rollbackConfigChanges(target, current, defaults);
    expect(set).toEqual({ [k("imageTag")]: "r1", [k("apiImageDigest")]: A1 });
    // apiReplicas 2 is the project default: the stack file's 4 is removed rather than 2 written.
    expect(remove).toEqual([k("apiReplicas")]);
  });

  it("writes nothing for defaults the stack does not set", () => {
    const { set, remove } = rollbackConfigChanges(
      { [k("gkeNodeCount")]: "3", [k("secretManagerPrefix")]: "nova-" },
      {},
      defaults,
    );
    expect(set).toEqual({});
    expect(remove).toEqual([]);
  });

  it("replaces a secret the target ran with as plain config (secrets are never in history)", () => {
    const { set } = rollbackConfigChanges(
      { [k("imageTag")]: "r1" },
      { [k("imageTag")]: { value: "r1", secret: true } },
      defaults,
    );
    expect(set).toEqual({ [k("imageTag")]: "r1" });
  });

  it.each([
    ['["a","b"]', '[ "a", "b" ]', true],
    ['{"a":1}', '{"a": 1}', true],
    ['["a"]', '["b"]', false],
    ["3", "3", true],
    ["3", "03", false],
  ])("compares %s and %s as config values", (a, b, same) => {
    expect(sameConfigValue(a, b)).toBe(same);
  });

  it("prints the stack file change and the git commands that put it into the repository", () => {
    const lines = repositoryChange(
      "production",
      entry(3, "succeeded", A1, { admitted: true }),
      { set: { [k("imageTag")]: "r1" }, remove: [k("apiReplicas")] },
      { [k("imageTag")]: { value: "r2" }, [k("apiReplicas")]: { value: "4" } },
      "tests/drills/logs",
    ).join("\n");
    expect(lines).toContain("nova-rollout:imageTag: r2 -> r1");
    expect(lines).toContain("nova-rollout:apiReplicas: 4 -> (removed: the project default)");
    expect(lines).toContain("git add Pulumi.production.yaml tests/drills/logs/production");
    expect(lines).toMatch(/git switch -c rollback\/production-update-3/);
  });
});

function entry(
  version: number,
  result: ReleaseEntry["result"],
  api: string,
  o: { admitted?: boolean; kind?: ReleaseEntry["kind"] } = {},
): ReleaseEntry {
  return toReleaseEntry({
    version,
    result,
    kind: o.kind ?? "update",
    startTime: new Date(Date.UTC(2026, 10, version)),
    endTime: new Date(Date.UTC(2026, 10, version, 0, 5)),
    message:
      o.admitted === true
        ? `release r${version}; nova-rollout admission ${JSON.stringify({ release: `r${version}`, bundleSha256: BUNDLE })}`
        : `release r${version}`,
    environment: {},
    config: {
      [k("imageTag")]: { value: `r${version}`, secret: false },
      [k("apiImageDigest")]: { value: api, secret: false },
      [k("workerImageDigest")]: { value: W1, secret: false },
    },
  });
}

describe("which updates qualify as rollback targets", () => {
  const history = [
    entry(6, "failed", A1, { admitted: true }),
    entry(5, "succeeded", A2, { admitted: true }),
    entry(4, "succeeded", A1),
    entry(3, "succeeded", A1, { admitted: true }),
    entry(2, "succeeded", A1, { kind: "refresh" }),
    entry(1, "in-progress", A1, { admitted: true }),
  ];
  const now = { apiDigest: A2, workerDigest: W1 };

  it.each([
    [6, /it was a failed update: release r6 did not pass the gate and post-deploy verification/],
    [4, /carries no gate admission/],
    [2, /was a succeeded refresh, not a release/],
    [1, /never finished its post-deploy verification/],
  ])("refuses update %i in production, naming why and which versions qualify", (version, why) => {
    let message = "";
    try {
      rollbackTarget(history, now, version, true);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(why);
    expect(message).toMatch(/Nothing was changed/);
    expect(message).toContain(
      "Updates that qualify (admitted and succeeded, newest first): 5 (release r5), 3 (release r3)",
    );
  });

  it("refuses a target whose digests the stack rejected since, and skips it when choosing", () => {
    const rejected = [{ api: A1, worker: W1 }];
    expect(() => rollbackTarget(history, now, 3, true, rejected)).toThrow(
      /rejected on this stack afterwards/,
    );
    expect(() => rollbackTarget(history, now, undefined, true, rejected)).toThrow(
      /No earlier successful release[\s\S]*qualify[^:]*: 5 \(release r5\);/,
    );
    expect(rollbackTarget(history, now, undefined, true).version).toBe(3);
  });

  it("names every qualifying version when the asked one is not in history", () => {
    expect(() => rollbackTarget(history, now, 9, true)).toThrow(
      /Update 9 is not in this stack's history\. Updates that qualify .*: 5 \(release r5\), 3 \(release r3\)/,
    );
  });
});
