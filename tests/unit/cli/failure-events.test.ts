// Failure classification from the engine's event stream, and config restore that keeps secrets secret.
import { describe, expect, it } from "vitest";
import { configJson, restoreConfig } from "../../../cli/actions/rollback-config";
import { failedInVerification, failedUrns, type EngineEventLike } from "../../../cli/engine";
import { fullHistory, rollbackTarget } from "../../../cli/history";

const urn = (type: string, name: string) => `urn:pulumi:production::nova-rollout::${type}::${name}`;
const cmd = (name: string) => urn("nova:verify:PostDeployVerification$command:local:Command", name);
const opFailed = (u: string): EngineEventLike => ({ resOpFailedEvent: { metadata: { urn: u } } });
const diag = (u: string, severity = "error"): EngineEventLike => ({ diagnosticEvent: { urn: u, severity } });

describe("failure classification from engine events", () => {
  it.each([
    [
      "a verification command failed",
      [opFailed(cmd("nova-verify-api-health")), diag(cmd("nova-verify-api-health"))],
      true,
    ],
    [
      "two verification commands failed",
      [opFailed(cmd("nova-verify-api-health")), opFailed(cmd("nova-verify-api-metrics"))],
      true,
    ],
    [
      "the CronJob resume failed after verification passed",
      [
        opFailed(
          urn("nova:jobs:ResumeScheduledJobs$command:local:Command", "nova-jobs-resume-nova-billing-drill"),
        ),
      ],
      false,
    ],
    [
      "verification and the chart failed",
      [
        opFailed(cmd("nova-verify-api-health")),
        opFailed(urn("kubernetes:apps/v1:Deployment", "nova-release:nova-prod/nova-api")),
      ],
      false,
    ],
    [
      "only the root stack reported an error",
      [diag(urn("pulumi:pulumi:Stack", "nova-rollout-production"))],
      false,
    ],
    ["a warning on a verification command", [diag(cmd("nova-verify-api-health"), "warning")], false],
    ["no events", [], false],
  ])("%s → %s", (_what, events, expected) => {
    expect(failedInVerification(events)).toBe(expected);
  });

  it("lists each failed resource once", () => {
    const u = cmd("nova-verify-api-health");
    expect(failedUrns([opFailed(u), diag(u), opFailed(u)])).toEqual([u]);
  });
});

describe("restoring config after a failed rollback", () => {
  it("keeps secrets secret and removes keys the rollback added", async () => {
    const calls: { removed: string[]; set: string[] } = { removed: [], set: [] };
    await restoreConfig(
      {
        removeConfig: (key: string) => {
          calls.removed.push(key);
          return Promise.resolve();
        },
        setAllConfigJson: (json: string) => {
          calls.set.push(json);
          return Promise.resolve();
        },
      },
      {
        "nova-rollout:billingApiKey": { value: "s3cr3t", secret: true },
        "nova-rollout:imageTag": { value: "r2" },
        "nova-rollout:added": undefined,
      },
    );
    expect(calls.removed).toEqual(["nova-rollout:added"]);
    expect(JSON.parse(calls.set[0] ?? "{}")).toEqual({
      "nova-rollout:billingApiKey": { value: "s3cr3t", secret: true },
      "nova-rollout:imageTag": { value: "r2", secret: false },
    });
  });

  it("never parses a secret that looks like JSON into a plain structured value", () => {
    expect(JSON.parse(configJson({ k: { value: '["a"]', secret: true } }))).toEqual({
      k: { value: '["a"]', secret: true },
    });
    expect(JSON.parse(configJson({ k: '["a"]' }))).toEqual({
      k: { value: '["a"]', secret: false, objectValue: ["a"] },
    });
  });
});

describe("one numbering for history and rollback --to", () => {
  const summary = (i: number) => ({
    version: 0, // the file backend does not number updates
    kind: "update" as const,
    result: "succeeded" as const,
    message: "",
    environment: {},
    startTime: new Date(Date.UTC(2026, 10, 1, 0, i)),
    endTime: new Date(Date.UTC(2026, 10, 1, 0, i, 30)),
    config: {
      "nova-rollout:imageTag": { value: `r${i}`, secret: false },
      "nova-rollout:apiImageDigest": { value: `sha256:${String(i).padStart(64, "0")}`, secret: false },
      "nova-rollout:workerImageDigest": { value: `sha256:${String(i).padStart(64, "0")}`, secret: false },
    },
  });
  // 25 updates, newest first, served the way `pulumi stack history` pages them: without a page size, the newest 10.
  const all = Array.from({ length: 25 }, (_, k) => summary(25 - k));
  const stack = {
    history: (pageSize?: number, page?: number) => {
      const size = pageSize ?? 10;
      const from = ((pageSize === undefined ? 1 : (page ?? 1)) - 1) * size;
      return Promise.resolve(all.slice(from, from + size));
    },
  };

  it("numbers every update by its position in the whole history, whatever is displayed", async () => {
    const entries = await fullHistory(stack);
    expect(entries).toHaveLength(25);
    expect(entries.slice(0, 2).map((e) => [e.version, e.release])).toEqual([
      [25, "r25"],
      [24, "r24"],
    ]);
    // The second newest shown by `history` is what `rollback --to` finds under the same number.
    const target = rollbackTarget(entries, { apiDigest: entries[0]?.apiDigest ?? "", workerDigest: "" }, 24);
    expect(target.release).toBe("r24");
  });
});
