import { gcp } from "../src/util/cloud-sdks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash, createHmac } from "node:crypto";
import { APP_SECRET_NAME, CHILD_SUFFIXES, PART_OF, SECRET_CHECKSUM_ANNOTATION } from "../src/contract";
import { kebab } from "../src/util/text";

/** One application secret: the config key it comes from and the environment variable it becomes. */
export interface SecretEntry {
  /** Config key / logical name, e.g. `databaseUrl`. */
  readonly key: string;
  /** Key inside the Kubernetes Secret (the container sees it as this environment variable), e.g. `DATABASE_URL`. */
  readonly envName: string;
}

export type SecretSourceArgs =
  | {
      readonly kind: "config";
      /** Values by key, as Pulumi secrets (`config.requireSecret` or `pulumi.secret`). */
      readonly values: Readonly<Record<string, pulumi.Input<string> | undefined>>;
    }
  | {
      readonly kind: "gcp-secret-manager";
      /** GCP project holding the secrets. */
      readonly project: string;
      /** Secret id prefix: key `databaseUrl` is read from `<prefix>database-url`, version `latest`. */
      readonly prefix: string;
    };

export interface AppSecretsArgs {
  /** Namespace of the Secret. */
  readonly namespace: pulumi.Input<string>;
  /** Name of the Kubernetes Secret (the chart mounts it with `envFrom`). Default `nova-app-secrets` (`APP_SECRET_NAME`). */
  readonly secretName?: string;
  /** The secrets to publish. */
  readonly entries: readonly SecretEntry[];
  /** Keys that must have a value; a missing one is an error before anything is applied. */
  readonly required: readonly string[];
  readonly source: SecretSourceArgs;
  /** Labels added to the Secret. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Key of the checksum's HMAC (a Pulumi secret with high entropy, e.g. a dedicated `--secret` config value). Default:
   * a key derived from the secret values themselves (see {@link secretsChecksum}). Changing it rolls the pods once.
   */
  readonly checksumKey?: pulumi.Input<string>;
  /**
   * Set Pulumi's `protect` option on the Kubernetes Secret, so the engine refuses to delete or replace it until it is
   * unprotected with `pulumi state unprotect`. Pass `true` for production. Default false; when omitted the Secret
   * inherits the component's own `protect` option, as any Pulumi child does.
   */
  readonly protect?: boolean;
}

/** Length (hex characters) of the secrets checksum. */
export const CHECKSUM_LENGTH = 16;

/** Domain separation of the derived checksum key: no other hash in the project is computed over the same bytes. */
const CHECKSUM_KEY_CONTEXT = "nova-rollout/app-secrets/checksum-key/v1";

/** Length-prefixed name/value pairs in key order: no two different maps give the same bytes. */
function canonical(values: Readonly<Record<string, string>>): Buffer {
  const parts = Object.keys(values)
    .sort()
    .flatMap((k) => [k, values[k] ?? ""])
    .map((part) => {
      const bytes = Buffer.from(part, "utf8");
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return Buffer.concat([length, bytes]);
    });
  return Buffer.concat(parts);
}

/**
 * The checksum annotation of the application secrets: `HMAC-SHA256(key, name/value pairs)`, truncated to
 * {@link CHECKSUM_LENGTH} hex characters. Deterministic (unchanged secrets do not roll the pods) and changed by any
 * value or name.
 *
 * Why an HMAC, and why it may stay plain: the annotation lives in the chart's values, the pod templates and the state
 * in plain text (a Pulumi secret there would make the whole chart's values secret). An unsalted hash of the values
 * lets anyone who reads the state or the cluster test guesses of a value offline. Keyed with a secret, a guess cannot
 * be tested without the key. The key is `key` when the caller gives one (a dedicated high-entropy secret: then nothing
 * about the values can be tested, and two stacks with the same secrets get different checksums); otherwise SHA-256
 * over a fixed context string and every value, so a guess must cover every value at once, the JWT signing key among
 * them. The key is never stored or printed; the 64-bit truncated HMAC is not invertible.
 *
 * @param values secret values by name (the Kubernetes Secret's keys)
 * @param key optional dedicated HMAC key (a secret)
 */
export function secretsChecksum(values: Readonly<Record<string, string>>, key?: string): string {
  const data = canonical(values);
  const hmacKey =
    key !== undefined && key !== ""
      ? Buffer.from(key, "utf8")
      : createHash("sha256").update(CHECKSUM_KEY_CONTEXT).update(data).digest();
  return createHmac("sha256", hmacKey).update(data).digest("hex").slice(0, CHECKSUM_LENGTH);
}

/**
 * The application's Kubernetes Secret, filled from Pulumi secret config or GCP Secret Manager. Values stay Pulumi
 * secrets end to end (encrypted in state); a checksum annotation lets the workloads roll when a value changes.
 */
export class AppSecrets extends pulumi.ComponentResource {
  public readonly secretName: pulumi.Output<string>;
  /**
   * A keyed HMAC over all values ({@link secretsChecksum}), safe to show: it reveals nothing without the key and
   * changes whenever any value changes. Used as a pod annotation.
   */
  public readonly checksum: pulumi.Output<string>;
  public readonly secret: k8s.core.v1.Secret;

  constructor(name: string, args: AppSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:secrets:AppSecrets", name, {}, opts);

    const values = this.readValues(args);
    const missing = args.required.filter((key) => values[key] === undefined);
    const unknown = args.required.filter((key) => !args.entries.some((e) => e.key === key));
    if (missing.length > 0 || unknown.length > 0) {
      throw new pulumi.InputPropertiesError({
        message: "AppSecrets: required secrets are missing",
        errors: [
          ...unknown.map((key) => ({ propertyPath: `required.${key}`, reason: "no such secret entry" })),
          ...missing
            .filter((key) => !unknown.includes(key))
            .map((key) => ({
              propertyPath: `source.values.${key}`,
              reason: `required secret "${key}" has no value (pulumi config set --secret nova-rollout:${key} …)`,
            })),
        ],
      });
    }

    const present = args.entries.filter((e) => values[e.key] !== undefined);
    const stringData = pulumi.secret(
      pulumi.all(Object.fromEntries(present.map((e) => [e.envName, values[e.key] as pulumi.Input<string>]))),
    );
    // Plain on purpose: an HMAC keyed with a secret (see secretsChecksum) can be shown.
    this.checksum = pulumi.unsecret(
      pulumi
        .all([stringData, args.checksumKey])
        .apply(([data, key]) => secretsChecksum(data as Record<string, string>, key)),
    );

    const secretName = args.secretName ?? APP_SECRET_NAME;
    this.secret = new k8s.core.v1.Secret(
      `${name}${CHILD_SUFFIXES.secret}`,
      {
        metadata: {
          name: secretName,
          namespace: args.namespace,
          labels: { "app.kubernetes.io/part-of": PART_OF, ...args.labels },
          annotations: { [SECRET_CHECKSUM_ANNOTATION]: this.checksum },
        },
        type: "Opaque",
        stringData,
      },
      {
        parent: this,
        additionalSecretOutputs: ["data", "stringData"],
        ...(args.protect !== undefined ? { protect: args.protect } : {}),
      },
    );
    this.secretName = this.secret.metadata.name;
    this.registerOutputs({ secretName: this.secretName, checksum: this.checksum });
  }

  private readValues(args: AppSecretsArgs): Record<string, pulumi.Input<string> | undefined> {
    const source = args.source;
    if (source.kind === "config") return { ...source.values };
    return Object.fromEntries(
      args.entries.map((e) => [
        e.key,
        pulumi.secret(
          gcp().secretmanager.getSecretVersionOutput(
            { secret: `${source.prefix}${kebab(e.key)}`, project: source.project },
            { parent: this },
          ).secretData,
        ),
      ]),
    );
  }
}
