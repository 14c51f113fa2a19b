import { gcp } from "../src/util/cloud-sdks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHmac } from "node:crypto";
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
   * Key of the checksum's HMAC (see {@link secretsChecksum}): a dedicated random secret, never one of the values
   * (stack config `nova-rollout:secretsChecksumKey`, at least 32 characters, e.g. `openssl rand -hex 32`). Required
   * and non-empty. It is treated as a Pulumi secret whether or not the caller marked it one, and is never a resource
   * input or an output. Changing it changes the checksum, which rolls the pods once.
   */
  readonly checksumKey: pulumi.Input<string>;
  /**
   * Set Pulumi's `protect` option on the Kubernetes Secret, so the engine refuses to delete or replace it until it is
   * unprotected with `pulumi state unprotect`. Pass `true` for production. Default false; when omitted the Secret
   * inherits the component's own `protect` option, as any Pulumi child does.
   */
  readonly protect?: boolean;
}

/** Length (hex characters) of the secrets checksum. */
export const CHECKSUM_LENGTH = 16;

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
 * value or name, and by the key.
 *
 * Why an HMAC, and why it may stay plain: the annotation lives in the chart's values, the pod templates and the state
 * in plain text (a Pulumi secret there would make the whole chart's values secret). A hash computed from the values
 * alone (salted or keyed with something derived from them) lets anyone who reads the state or the cluster test guesses
 * of a value offline. Keyed with a dedicated random secret, nothing about the values can be tested without the key,
 * and two stacks with the same secrets get different checksums. The key is never stored or printed; the 64-bit
 * truncated HMAC is not invertible.
 *
 * @param values secret values by name (the Kubernetes Secret's keys)
 * @param key the dedicated HMAC key (a secret); an empty key is refused
 */
export function secretsChecksum(values: Readonly<Record<string, string>>, key: string): string {
  if (key === "") throw new Error("secretsChecksum: the checksum key is empty");
  return createHmac("sha256", Buffer.from(key, "utf8"))
    .update(canonical(values))
    .digest("hex")
    .slice(0, CHECKSUM_LENGTH);
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
    // Callers in JavaScript, or with an empty config value, get the same error as a missing secret.
    const noKey = (args.checksumKey as unknown) === undefined || args.checksumKey === "";
    if (missing.length > 0 || unknown.length > 0 || noKey) {
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
          ...(noKey
            ? [
                {
                  propertyPath: "checksumKey",
                  reason:
                    "the checksum key has no value (pulumi config set --secret nova-rollout:secretsChecksumKey …)",
                },
              ]
            : []),
        ],
      });
    }

    const present = args.entries.filter((e) => values[e.key] !== undefined);
    const stringData = pulumi.secret(
      pulumi.all(Object.fromEntries(present.map((e) => [e.envName, values[e.key] as pulumi.Input<string>]))),
    );
    // The key stays a Pulumi secret: it only ever enters this HMAC, never a resource input or an output.
    const checksumKey = pulumi.secret(args.checksumKey);
    // Plain on purpose: an HMAC keyed with a dedicated secret (see secretsChecksum) can be shown.
    this.checksum = pulumi.unsecret(
      pulumi
        .all([stringData, checksumKey])
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
