import { CommandError, ConcurrentUpdateError, StackNotFoundError } from "@pulumi/pulumi/automation";
import { describe, expect, it } from "vitest";
import {
  describeFailure,
  EXIT,
  policyArgs,
  projectRoot,
  configJson,
  releaseConfig,
  rollbackTarget,
  toReleaseEntries,
  toReleaseEntry,
  UserError,
  type ReleaseEntry,
} from "../../../cli/engine";
import { formatHistory } from "../../../cli/commands/release";
import { renderLaunchReport } from "../../../cli/launch-report";
import { ConfigValidationError } from "../../../src/config";

const A1 = `sha256:${"1".repeat(64)}`;
const A2 = `sha256:${"2".repeat(64)}`;
const W1 = `sha256:${"3".repeat(64)}`;

function entry(
  version: number,
  result: ReleaseEntry["result"],
  api: string,
  kind: ReleaseEntry["kind"] = "update",
) {
  return toReleaseEntry({
    version,
    result,
    kind,
    startTime: new Date(Date.UTC(2026, 10, version)),
    endTime: new Date(Date.UTC(2026, 10, version, 0, 5)),
    message: "",
    environment: {},
    config: {
      "nova-rollout:imageTag": { value: `r${version}`, secret: false },
      "nova-rollout:apiImageDigest": { value: api, secret: false },
      "nova-rollout:workerImageDigest": { value: W1, secret: false },
      "nova-rollout:databaseUrl": { value: "[secret]", secret: true },
      "kubernetes:context": { value: "x", secret: false },
    },
  });
}

describe("release history", () => {
  it("keeps only this project's non-secret config", () => {
    expect(releaseConfig(entry(1, "succeeded", A1).config as never)).toBeDefined();
    const e = entry(1, "succeeded", A1);
    expect(Object.keys(e.config).sort()).toEqual([
      "nova-rollout:apiImageDigest",
      "nova-rollout:imageTag",
      "nova-rollout:workerImageDigest",
    ]);
    expect(e.release).toBe("r1");
  });

  const history = [
    entry(4, "failed", A1),
    entry(3, "succeeded", A2),
    entry(2, "succeeded", A1),
    entry(1, "succeeded", A1, "refresh"),
  ];

  it("rolls back to the newest successful update with other digests", () => {
    expect(rollbackTarget(history, { apiDigest: A2, workerDigest: W1 }).version).toBe(2);
  });

  it.each([
    [4, /was a failed update/],
    [1, /was a succeeded refresh/],
    [9, /not in this stack's history/],
  ])("refuses update %i as a target", (version, message) => {
    expect(() => rollbackTarget(history, { apiDigest: A2, workerDigest: W1 }, version)).toThrow(message);
  });

  it("says so when no earlier release differs", () => {
    expect(() => rollbackTarget([entry(2, "succeeded", A1)], { apiDigest: A1, workerDigest: W1 })).toThrow(
      /No earlier successful release/,
    );
  });

  it("formats a table with short digests", () => {
    const text = formatHistory(history.slice(0, 2));
    expect(text.split("\n")).toHaveLength(3);
    expect(text).toContain("succeeded");
    expect(text).toContain("sha256:222222222222…");
  });
});

describe("history without update numbers (file backend)", () => {
  it("numbers entries by position, oldest first", () => {
    const raw = [2, 1, 0].map(() => ({
      version: 0,
      result: "succeeded" as const,
      kind: "update" as const,
      startTime: new Date(),
      endTime: new Date(),
      message: "",
      environment: {},
      config: {},
    }));
    expect(toReleaseEntries(raw).map((e) => e.version)).toEqual([3, 2, 1]);
  });

  it("writes list values back as structured config", () => {
    expect(
      JSON.parse(configJson({ "nova-rollout:pausedCronJobs": '["a","b"]', "nova-rollout:imageTag": "r1" })),
    ).toEqual({
      "nova-rollout:pausedCronJobs": { value: '["a","b"]', secret: false, objectValue: ["a", "b"] },
      "nova-rollout:imageTag": { value: "r1", secret: false },
    });
  });
});

describe("failures map to distinct exit codes and readable messages", () => {
  it.each([
    [new UserError("bad flag"), EXIT.usage, /bad flag/],
    [
      new ConfigValidationError("production", [{ key: "nova-rollout:x", message: "y" }]),
      EXIT.usage,
      /nova-rollout:x: y/,
    ],
    [new StackNotFoundError(new Error("no stack") as never), EXIT.stackNotFound, /Stack not found/],
    [new ConcurrentUpdateError(new Error("conflict") as never), EXIT.concurrentUpdate, /in progress/],
    [
      new CommandError(
        new Error(
          "Policies:\n    - [mandatory]  nova-readiness-gate  (kubernetes:core/v1:Namespace: nova-namespace)",
        ) as never,
      ),
      EXIT.policyViolation,
      /mandatory policy/,
    ],
    [
      new CommandError(new Error("command:local:Command nova-verify-api-health: exit 1") as never),
      EXIT.verificationFailed,
      /verification failed/,
    ],
    [new Error("boom"), EXIT.failed, /boom/],
  ])("%s", (err, code, message) => {
    const d = describeFailure(err);
    expect(d.code).toBe(code);
    expect(d.message).toMatch(message);
  });
});

describe("policy arguments", () => {
  it.each([
    ["sandbox", "local.json"],
    ["staging", "staging.json"],
    ["production", "production.json"],
  ])("%s uses policy/config/%s", (environment, file) => {
    const args = policyArgs(projectRoot(), environment);
    expect(args.policyPacks[0]).toMatch(/\/policy$/);
    expect(args.policyPackConfigs[0]).toMatch(new RegExp(`/policy/config/${file}$`));
  });

  it("refuses an unknown environment", () => {
    expect(() => policyArgs(projectRoot(), "qa")).toThrow(/No policy config/);
  });
});

describe("launch summary", () => {
  it("lists the release, the verification results and the follow-ups", () => {
    const md = renderLaunchReport({
      stack: "production",
      kind: "rollback",
      release: "2026.11.2",
      digests: { api: A1, worker: W1 },
      startedAt: new Date("2026-11-25T10:00:00Z"),
      finishedAt: new Date("2026-11-25T10:06:00Z"),
      changes: { update: 3, same: 20 },
      verification: [{ check: "api-health", ok: true, attempts: 1, detail: "200" }],
      rolledBackTo: 7,
    });
    expect(md).toContain("# Rollback summary: production 2026.11.2");
    expect(md).toContain("(6.0 min)");
    expect(md).toContain("Re-applied the config of update 7");
    expect(md).toContain("| api-health | pass | 1 | 200 |");
    expect(md).toContain("update 3, same 20");
    expect(md).toMatch(/Billing drill within 7 days/);
  });
});
