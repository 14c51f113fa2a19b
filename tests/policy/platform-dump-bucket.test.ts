import { describe, expect, it } from "vitest";
import { dumpBucket } from "../../platform/policy/policies";
import { judge, platformEnforcement, platformPolicyConfig } from "./platform-fixtures";

type Bucket = Record<string, unknown>;
const TYPE = "gcp:storage/bucket:Bucket";
const production = platformPolicyConfig(dumpBucket, "platform-production");
const run = (mutate?: (b: Bucket) => void, config = production) =>
  judge<Bucket>(dumpBucket, TYPE, mutate, { config });

describe("nova-platform-dump-bucket", () => {
  it("passes the bucket DumpBucket registers (30 days, the production minimum)", async () => {
    expect(production["minRetentionDays"]).toBe(30);
    expect((await run()).messages).toEqual([]);
  });

  describe.each<[string, (b: Bucket) => void, RegExp]>([
    [
      "object ACLs (no uniform access)",
      (b) => (b["uniformBucketLevelAccess"] = false),
      /uniformBucketLevelAccess is not true/,
    ],
    [
      "public access prevention inherited",
      (b) => (b["publicAccessPrevention"] = "inherited"),
      /publicAccessPrevention is "inherited"; set it to "enforced"/,
    ],
    [
      "public access prevention unset",
      (b) => delete b["publicAccessPrevention"],
      /publicAccessPrevention is unset/,
    ],
    ["versioning off", (b) => (b["versioning"] = { enabled: false }), /versioning\.enabled is not true/],
    [
      "no retention policy",
      (b) => delete b["retentionPolicy"],
      /retentionPeriod is unset seconds; threshold: at least 30 days/,
    ],
    [
      "a retention policy shorter than the threshold",
      (b) => (b["retentionPolicy"] = { retentionPeriod: String(29 * 86_400) }),
      /retentionPeriod is "2505600" seconds; threshold: at least 30 days \(2592000 s\)/,
    ],
    ["force destroy", (b) => (b["forceDestroy"] = true), /forceDestroy is true; set it to false/],
  ])("blocks %s", (_label, mutate, expected) => {
    it("reports it with the fix", async () => {
      const out = await run(mutate);
      expect(out.messages).toEqual([expect.stringMatching(/^Bucket nova-prod-db-backups: /)]);
      expect(out.messages[0]).toMatch(expected);
      expect(out.messages[0]).toMatch(/Fix: restore the setting in platform\/components\/dump-bucket\.ts/);
    });
  });

  it("takes its threshold from the config (the schema default is 7 days)", async () => {
    const eightDays = (b: Bucket) => (b["retentionPolicy"] = { retentionPeriod: String(8 * 86_400) });
    expect((await run(eightDays, {})).messages).toEqual([]);
    expect((await run(eightDays)).messages).toHaveLength(1);
  });

  it("is mandatory on platform-production and advisory on platform-sandbox", () => {
    expect(platformEnforcement(dumpBucket, "platform-production")).toBe("mandatory");
    expect(platformEnforcement(dumpBucket, "platform-sandbox")).toBe("advisory");
  });
});
