import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { kebab, shortHash } from "./naming";

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
  /** Name of the Kubernetes Secret (the chart mounts it with `envFrom`). Default `nova-app-secrets`. */
  readonly secretName?: string;
  /** The secrets to publish. */
  readonly entries: readonly SecretEntry[];
  /** Keys that must have a value; a missing one is an error before anything is applied. */
  readonly required: readonly string[];
  readonly source: SecretSourceArgs;
  /** Labels added to the Secret. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Set Pulumi's `protect` option on the Kubernetes Secret, so the engine refuses to delete or replace it until it is
   * unprotected with `pulumi state unprotect`. Pass `true` for production. Default false; when omitted the Secret
   * inherits the component's own `protect` option, as any Pulumi child does.
   */
  readonly protect?: boolean;
}

/**
 * The application's Kubernetes Secret, filled from Pulumi secret config or GCP Secret Manager. Values stay Pulumi
 * secrets end to end (encrypted in state); a checksum annotation lets the workloads roll when a value changes.
 */
export class AppSecrets extends pulumi.ComponentResource {
  public readonly secretName: pulumi.Output<string>;
  /**
   * A short hash over all values, safe to show (not reversible for high-entropy secrets); changes whenever any
   * value changes. Used as a pod annotation.
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
    this.checksum = pulumi.unsecret(
      stringData.apply((data) =>
        shortHash(
          Object.keys(data)
            .sort()
            .flatMap((k) => [k, data[k] ?? ""]),
        ),
      ),
    );

    const secretName = args.secretName ?? "nova-app-secrets";
    this.secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: {
          name: secretName,
          namespace: args.namespace,
          labels: { "app.kubernetes.io/part-of": "nova-rms", ...args.labels },
          annotations: { "rollout.nova.dev/checksum": this.checksum },
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
          gcp.secretmanager.getSecretVersionOutput(
            { secret: `${source.prefix}${kebab(e.key)}`, project: source.project },
            { parent: this },
          ).secretData,
        ),
      ]),
    );
  }
}
