import * as pulumi from "@pulumi/pulumi";
import { gcp } from "../../src/util/cloud-sdks";

export interface DumpBucketArgs {
  readonly project: string;
  /** Bucket name (global). */
  readonly bucket: string;
  /** Bucket location, e.g. `US` or `us-central1`. */
  readonly location: string;
  /** Days every dump is kept at least (a bucket retention policy: nobody deletes or overwrites one sooner). */
  readonly retentionDays: number;
  /** IAM members that write dumps (`roles/storage.objectCreator`: create only, no read, no delete). */
  readonly writers: readonly pulumi.Input<string>[];
  /** Pulumi `protect` on every child. Default true. */
  readonly protect?: boolean;
}

/**
 * The bucket of the pre-release logical dumps: uniform bucket-level access (no object ACLs), public access
 * prevention enforced, object versioning, a retention policy; writers may create objects and nothing else.
 */
export class DumpBucket extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  /** `gs://<bucket>/pre-release`, the release's `backupDestination`. */
  public readonly backupDestination: pulumi.Output<string>;

  constructor(name: string, args: DumpBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:platform:DumpBucket", name, {}, opts);
    const protect = args.protect ?? true;
    const sdk = gcp();
    const bucket = new sdk.storage.Bucket(
      `${name}-bucket`,
      {
        name: args.bucket,
        project: args.project,
        location: args.location,
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        versioning: { enabled: true },
        retentionPolicy: { retentionPeriod: String(args.retentionDays * 86_400), isLocked: false },
        forceDestroy: false,
      },
      { parent: this, protect },
    );
    args.writers.forEach((member, i) => {
      new sdk.storage.BucketIAMMember(
        `${name}-writer-${i}`,
        { bucket: bucket.name, role: "roles/storage.objectCreator", member },
        { parent: this, protect },
      );
    });
    this.bucketName = bucket.name;
    this.backupDestination = pulumi.interpolate`gs://${bucket.name}/pre-release`;
    this.registerOutputs({ bucketName: this.bucketName, backupDestination: this.backupDestination });
  }
}
