/**
 * nova-platform-dump-bucket: the bucket of the pre-release database dumps keeps uniform bucket-level access (no object
 * ACLs), public access prevention enforced, object versioning and a retention policy of at least `minRetentionDays`,
 * and is never force-destroyed (a `pulumi destroy` would delete every dump with it).
 */
import { type PolicyConfigSchema, type ResourceValidationArgs } from "@pulumi/policy";
import { nameOf, platformPolicy, read, show, UNKNOWN_VALUE } from "./common";

export const BUCKET_TYPE = "gcp:storage/bucket:Bucket";

export interface DumpBucketConfig {
  readonly minRetentionDays: number;
}

const configSchema: PolicyConfigSchema = {
  properties: {
    minRetentionDays: {
      type: "number",
      minimum: 1,
      default: 7,
      description: "The shortest retention policy a dump bucket may have, in days.",
    },
  },
};

/** Every problem with a bucket's props; empty when it keeps the baseline. */
export function bucketProblems(args: ResourceValidationArgs, cfg: DumpBucketConfig): string[] {
  const p = args.props;
  const out: string[] = [];
  if (read(p, "uniformBucketLevelAccess") !== true) {
    out.push("uniformBucketLevelAccess is not true; set it to true (no object ACLs)");
  }
  const pap = read(p, "publicAccessPrevention");
  if (pap !== "enforced") out.push(`publicAccessPrevention is ${show(pap)}; set it to "enforced"`);
  if (read(p, "versioning", "enabled") !== true) out.push("versioning.enabled is not true; set it to true");
  const period = read(p, "retentionPolicy", "retentionPeriod");
  const seconds = typeof period === "number" || typeof period === "string" ? Number(period) : NaN;
  if (period !== UNKNOWN_VALUE && !(seconds >= cfg.minRetentionDays * 86_400)) {
    out.push(
      `retentionPolicy.retentionPeriod is ${show(period)} seconds; threshold: at least ${cfg.minRetentionDays} days (${cfg.minRetentionDays * 86_400} s)`,
    );
  }
  if (read(p, "forceDestroy") === true) out.push("forceDestroy is true; set it to false");
  return out;
}

export const dumpBucket = platformPolicy<DumpBucketConfig>({
  name: "nova-platform-dump-bucket",
  description:
    "Requires storage buckets to use uniform bucket-level access, enforced public access prevention, object versioning and a retention policy, and never to be force-destroyed.",
  configSchema,
  types: [BUCKET_TYPE],
  label: (args) => `Bucket ${nameOf(args)}`,
  problems: bucketProblems,
  fix: "restore the setting in platform/components/dump-bucket.ts (or raise nova-platform:dumpRetentionDays) and re-run pulumi preview in platform/.",
});
