/**
 * nova-secrets-from-secret-values: Kubernetes Secrets hold their values as Pulumi secrets, carry every required key
 * with a real value, and carry the checksum annotation.
 *
 * How secrets look to a policy (verified in @pulumi/policy 1.21 and the engine): the engine marshals inputs with
 * `KeepSecrets: true`, but `analyze` deserialises them with `proxySecrets = false`, which unwraps every secret into
 * its plaintext. So `props` cannot tell a secret from a plain string. What the policy can see is
 * `opts.additionalSecretOutputs`: the @pulumi/kubernetes `Secret` class always lists `data` and `stringData`, which
 * makes the engine store both encrypted. A Secret without them (e.g. rendered raw from a chart or a YAML file) would
 * keep its values in plaintext in the state, so it is a violation.
 */
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import {
  APP_SECRET_NAME,
  SECRET_CHECKSUM_ANNOTATION,
  SECRET_ENV_NAMES,
  type SecretKey,
  POLICY_NAMES,
} from "../../src/contract";
import { fix, type LocationConfig, locationSchemaProperties, policyContext, tryRead } from "./common";

export interface SecretsConfig extends LocationConfig {
  /** Secret names (metadata.name) whose required keys are checked. */
  readonly secretNames: readonly string[];
  /** Keys every such Secret must hold; empty means the stack's `requiredSecrets`. */
  readonly requiredKeys: readonly string[];
  /** Values treated as missing. */
  readonly placeholders: readonly string[];
  readonly checksumAnnotation: string;
}

const configSchema: PolicyConfigSchema = {
  properties: {
    secretNames: {
      type: "array",
      items: { type: "string" },
      default: [APP_SECRET_NAME],
      description: "Secret names whose required keys are checked.",
    },
    requiredKeys: {
      type: "array",
      items: { type: "string" },
      default: [],
      description:
        "Keys the application Secret must hold; empty means the stack's nova-rollout:requiredSecrets.",
    },
    placeholders: {
      type: "array",
      items: { type: "string" },
      default: ["", "changeme", "change-me", "todo", "tbd", "placeholder", "secret", "password"],
      description: "Values (case-insensitive) that count as missing.",
    },
    checksumAnnotation: {
      type: "string",
      default: SECRET_CHECKSUM_ANNOTATION,
      description: "Annotation carrying the checksum of the secret values.",
    },
    ...locationSchemaProperties,
  },
};

export const secretsFromSecretValues: ResourceValidationPolicy = {
  name: POLICY_NAMES.secretsFromSecretValues,
  description:
    "Requires Kubernetes Secrets to be stored as Pulumi secrets, to hold every required key with a non-placeholder value, and to carry the checksum annotation.",
  enforcementLevel: "mandatory",
  configSchema,
  validateResource: (args, reportViolation) => {
    if (args.type !== "kubernetes:core/v1:Secret") {
      return;
    }
    const { cfg, ctx } = policyContext<SecretsConfig>(args, configSchema);
    const stack = ctx?.stack ?? "<stack>";
    const secretOutputs = args.opts.additionalSecretOutputs;
    const read = tryRead(() => {
      const p = args.props as {
        metadata?: { name?: unknown; annotations?: Record<string, unknown> };
        data?: Record<string, unknown>;
        stringData?: Record<string, unknown>;
      };
      return {
        name: p.metadata?.name,
        annotations: { ...(p.metadata?.annotations ?? {}) },
        data: p.data === undefined ? undefined : { ...p.data },
        stringData: p.stringData === undefined ? undefined : { ...p.stringData },
      };
    });
    for (const key of ["data", "stringData"] as const) {
      const present = read.unknown || read.value?.[key] !== undefined;
      if (present && !secretOutputs.includes(key)) {
        reportViolation(
          `Secret ${args.name}: ${key} is not marked secret (additionalSecretOutputs [${secretOutputs.join(", ")}]), so its values would be stored in plaintext; threshold: data and stringData secret.${fix("create it with new k8s.core.v1.Secret(...) from pulumi.secret(...) config values (pulumi config set --secret ...)")}`,
        );
      }
    }
    if (read.unknown || read.value === undefined) {
      return;
    }
    const { name, annotations, data, stringData } = read.value;
    if (typeof name !== "string" || !cfg.secretNames.includes(name)) {
      return;
    }
    // The stack lists config keys (`databaseUrl`); the Secret holds them under their environment names.
    const required = (
      cfg.requiredKeys.length > 0
        ? cfg.requiredKeys
        : ctx?.settings.ok
          ? ctx.settings.settings.requiredSecrets
          : []
    ).map((key) => (key in SECRET_ENV_NAMES ? SECRET_ENV_NAMES[key as SecretKey] : key));
    const placeholders = cfg.placeholders.map((p) => p.toLowerCase());
    const values: Record<string, unknown> = { ...(data ?? {}), ...(stringData ?? {}) };
    for (const key of required) {
      const v = values[key];
      const text = typeof v === "string" ? v : undefined;
      const decoded =
        data !== undefined && key in data && text !== undefined
          ? Buffer.from(text, "base64").toString("utf8")
          : text;
      if (decoded === undefined || placeholders.includes(decoded.trim().toLowerCase())) {
        reportViolation(
          `Secret ${name} lacks a real value for required key "${key}" (found: ${decoded === undefined ? "no key" : "an empty or placeholder value"}); threshold: keys [${required.join(", ")}] set.${fix(`pulumi config set --secret nova-rollout:<key> <value> --stack ${stack}`)}`,
        );
      }
    }
    if (
      typeof annotations[cfg.checksumAnnotation] !== "string" ||
      (annotations[cfg.checksumAnnotation] as string).length === 0
    ) {
      reportViolation(
        `Secret ${name} has no ${cfg.checksumAnnotation} annotation; threshold: the checksum of its values, so pods roll when secrets change.${fix("set the annotation in the AppSecrets component (it hashes the secret values)")}`,
      );
    }
  },
};
