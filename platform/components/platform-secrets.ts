import * as pulumi from "@pulumi/pulumi";
import { gcp } from "../../src/util/cloud-sdks";

export interface PlatformSecretsArgs {
  readonly project: string;
  /** Secret Manager secret ids by application secret key (the names the release's `AppSecrets` reads). */
  readonly ids: Readonly<Record<string, string>>;
  /** IAM members granted `roles/secretmanager.secretAccessor` on each secret (the release deployer). */
  readonly accessors: readonly pulumi.Input<string>[];
  /** Pulumi `protect` on every child. Default true. */
  readonly protect?: boolean;
}

/**
 * The application secrets' containers in Secret Manager and who may read them, secret by secret. Their values are
 * added by people (`gcloud secrets versions add`), never by this stack: no secret value is in its state.
 */
export class PlatformSecrets extends pulumi.ComponentResource {
  /** Secret ids by application secret key. */
  public readonly ids: Readonly<Record<string, string>>;

  constructor(name: string, args: PlatformSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:platform:PlatformSecrets", name, {}, opts);
    const protect = args.protect ?? true;
    const sdk = gcp();
    for (const [key, secretId] of Object.entries(args.ids)) {
      const secret = new sdk.secretmanager.Secret(
        `${name}-${secretId}`,
        {
          project: args.project,
          secretId,
          replication: { auto: {} },
          labels: { "managed-by": "nova-platform", "nova-secret": key.toLowerCase() },
        },
        { parent: this, protect },
      );
      args.accessors.forEach((member, i) => {
        new sdk.secretmanager.SecretIamMember(
          `${name}-${secretId}-accessor-${i}`,
          {
            project: args.project,
            secretId: secret.secretId,
            role: "roles/secretmanager.secretAccessor",
            member,
          },
          { parent: this, protect },
        );
      });
    }
    this.ids = { ...args.ids };
    this.registerOutputs({ ids: this.ids });
  }
}
