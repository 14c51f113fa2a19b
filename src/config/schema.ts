import { z } from "zod";

/** The stack config namespace: every key of this project is `nova-rollout:<key>`. */
export const CONFIG_NAMESPACE = "nova-rollout";

/** The two services of the platform and their image repositories. */
export const SERVICES = ["api", "worker"] as const;
export type Service = (typeof SERVICES)[number];
export const IMAGE_REPOSITORIES: Readonly<Record<Service, string>> = {
  api: "nova-rms-api",
  worker: "nova-rms-worker",
};

/** Application secrets the `config` secret source knows, by config key. */
export const SECRET_KEYS = ["databaseUrl", "jwtSigningKey", "billingApiKey"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/** The Kubernetes Secret key each application secret is stored under. */
export const SECRET_ENV_NAMES: Readonly<Record<SecretKey, string>> = {
  databaseUrl: "DATABASE_URL",
  jwtSigningKey: "JWT_SIGNING_KEY",
  billingApiKey: "BILLING_API_KEY",
};

export const ENVIRONMENTS = ["sandbox", "staging", "production"] as const;
export const CLUSTER_MODES = ["kubeconfig", "gke"] as const;
export const IMAGE_RESOLVERS = ["pinned", "registry-api", "docker", "artifact-registry", "build"] as const;
export const SECRET_SOURCES = ["config", "gcp-secret-manager"] as const;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** `host[:port]/path` without a scheme, tag or digest. */
const REGISTRY_RE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

// Stack config values reach the program as strings (`pulumi config set` stores text; structured values arrive as
// JSON). These preprocessors accept both the typed value and its text form, and leave anything else untouched so
// that the schema reports it.
const fromText = (parse: (text: string) => unknown) => (value: unknown) => {
  if (typeof value !== "string") return value;
  const trimmed = value.trim();
  if (trimmed === "") return value;
  return parse(trimmed);
};

const integer = (min: number, max: number) =>
  z.preprocess(
    fromText((t) => (/^-?\d+$/.test(t) ? Number(t) : t)),
    z
      .number({ error: `expected a whole number between ${min} and ${max}` })
      .int({ error: "expected a whole number" })
      .min(min, { error: `expected a whole number ≥ ${min}` })
      .max(max, { error: `expected a whole number ≤ ${max}` }),
  );

const boolean = () =>
  z.preprocess(
    fromText((t) => (t === "true" ? true : t === "false" ? false : t)),
    z.boolean({ error: "expected true or false" }),
  );

const stringList = () =>
  z.preprocess(
    fromText((t) => {
      try {
        return JSON.parse(t) as unknown;
      } catch {
        return t;
      }
    }),
    z.array(z.string().min(1, { error: "list entries must not be empty" }), {
      error: 'expected a list of strings, e.g. ["a","b"]',
    }),
  );

const nonEmpty = (what: string) =>
  z
    .string({ error: `expected ${what}` })
    .trim()
    .min(1, { error: `expected ${what}` });

const url = () =>
  z
    .string({ error: "expected an http(s) URL" })
    .refine((v) => /^https?:\/\/[^\s/]+/.test(v) && URL.canParse(v), { error: "expected an http(s) URL" });

const digest = () =>
  z.string({ error: "expected an image digest sha256:<64 hex>" }).regex(DIGEST_RE, {
    error: "expected an image digest sha256:<64 lowercase hex characters>",
  });

/**
 * The schema of the raw stack config (keys without the `nova-rollout:` prefix). Unknown keys are errors, so a typo
 * is caught instead of being silently ignored.
 */
export const rawStackConfigSchema = z
  .strictObject({
    environment: z.enum(ENVIRONMENTS, { error: `expected one of ${ENVIRONMENTS.join(", ")}` }),
    namespace: z
      .string({ error: "expected a namespace name" })
      .max(63, { error: "a namespace name is at most 63 characters" })
      .regex(DNS_LABEL_RE, { error: "expected a DNS-1123 label (lowercase letters, digits and '-')" }),

    clusterMode: z
      .enum(CLUSTER_MODES, { error: `expected one of ${CLUSTER_MODES.join(", ")}` })
      .default("kubeconfig"),
    kubeconfigPath: nonEmpty("a kubeconfig file path").optional(),
    kubeconfigContext: nonEmpty("a kubeconfig context name").optional(),
    gcpProject: nonEmpty("a GCP project id").optional(),
    gcpRegion: nonEmpty("a GCP region").optional(),
    gkeClusterName: z.string().regex(DNS_LABEL_RE, { error: "expected a DNS-1123 label" }).optional(),
    gkeNodeCount: integer(1, 100).default(3),
    gkeMachineType: nonEmpty("a machine type").default("e2-standard-4"),

    imageRegistry: z
      .string({ error: "expected a registry such as us-docker.pkg.dev/project/repo" })
      .regex(REGISTRY_RE, { error: "expected host[:port]/path without scheme, tag or digest" }),
    imageTag: z
      .string({ error: "expected the release image tag" })
      .regex(TAG_RE, { error: "expected a Docker tag (letters, digits, '_', '.', '-'; at most 128)" }),
    apiImageDigest: digest().optional(),
    workerImageDigest: digest().optional(),
    imageResolver: z
      .enum(IMAGE_RESOLVERS, { error: `expected one of ${IMAGE_RESOLVERS.join(", ")}` })
      .default("pinned"),
    apiBuildContext: nonEmpty("a build context directory").optional(),
    workerBuildContext: nonEmpty("a build context directory").optional(),

    apiReplicas: integer(1, 100).default(2),
    workerReplicas: integer(1, 100).default(2),
    autoscalingEnabled: boolean().default(false),
    apiMaxReplicas: integer(1, 500).default(10),
    workerMaxReplicas: integer(1, 500).default(6),
    autoscalingTargetCpu: integer(1, 100).default(70),

    secretSource: z
      .enum(SECRET_SOURCES, { error: `expected one of ${SECRET_SOURCES.join(", ")}` })
      .default("config"),
    databaseUrl: nonEmpty("a secret value").optional(),
    jwtSigningKey: nonEmpty("a secret value").optional(),
    billingApiKey: nonEmpty("a secret value").optional(),
    requiredSecrets: stringList().default([...SECRET_KEYS]),
    secretManagerPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]*$/, { error: "expected letters, digits, '_' or '-'" })
      .default("nova-"),

    backupDestination: nonEmpty("a backup destination (gs://bucket/prefix or a directory)"),
    rehearsalDatabaseUrl: nonEmpty("a secret value").optional(),
    migrationCommand: nonEmpty("the migration command").optional(),
    pausedCronJobs: stringList().default(["nova-billing-drill"]),

    apiBaseUrl: url(),
    workerBaseUrl: url(),
    alertmanagerUrl: url(),
    syntheticE2eCommand: nonEmpty("a command").optional(),
    billingDrillDryRunCommand: nonEmpty("a command").optional(),
    verifyAttempts: integer(1, 30).default(5),
    verifyTimeoutSeconds: integer(1, 600).default(10),

    evidenceDir: nonEmpty("a directory").default("tests/drills/logs"),
  })
  .superRefine((c, ctx) => {
    const need = (key: keyof typeof c, why: string) => {
      if (c[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: `required ${why}` });
    };
    const forbid = (key: keyof typeof c, why: string) =>
      ctx.addIssue({ code: "custom", path: [key], message: why });

    if (c.clusterMode === "kubeconfig") {
      need("kubeconfigPath", "when clusterMode is kubeconfig");
      need("kubeconfigContext", "when clusterMode is kubeconfig");
    } else {
      need("gcpProject", "when clusterMode is gke");
      need("gcpRegion", "when clusterMode is gke");
      need("gkeClusterName", "when clusterMode is gke");
    }

    if (c.imageResolver === "build") {
      need("apiBuildContext", "when imageResolver is build");
      need("workerBuildContext", "when imageResolver is build");
      if (c.environment === "production") {
        forbid(
          "imageResolver",
          "production deploys only images published and pinned beforehand; build is for staging and sandbox",
        );
      }
    } else {
      const hint = "(images are pinned by digest; a tag alone is mutable)";
      need("apiImageDigest", hint);
      need("workerImageDigest", hint);
    }
    if (c.imageResolver === "artifact-registry")
      need("gcpProject", "when imageResolver is artifact-registry");

    if (c.secretSource === "config") {
      for (const key of c.requiredSecrets) {
        if (!(SECRET_KEYS as readonly string[]).includes(key)) {
          forbid("requiredSecrets", `unknown secret "${key}"; known: ${SECRET_KEYS.join(", ")}`);
        } else if (c[key as SecretKey] === undefined) {
          need(key as SecretKey, "because requiredSecrets lists it (set it with --secret)");
        }
      }
    } else {
      need("gcpProject", "when secretSource is gcp-secret-manager");
    }
    need("rehearsalDatabaseUrl", "for the migration rehearsal against a clone (set it with --secret)");
    need("migrationCommand", "for the migration rehearsal");

    if (c.environment === "sandbox") {
      // Sandbox stacks run where neither the gcp nor the docker provider is available.
      if (c.clusterMode !== "kubeconfig")
        forbid("clusterMode", "a sandbox stack uses clusterMode kubeconfig");
      if (!["pinned", "registry-api"].includes(c.imageResolver)) {
        forbid("imageResolver", "a sandbox stack uses imageResolver pinned or registry-api");
      }
      if (c.secretSource !== "config") forbid("secretSource", "a sandbox stack uses secretSource config");
    }
    if (c.environment === "production") {
      if (c.apiReplicas < 2) forbid("apiReplicas", "production runs at least 2 api replicas");
      if (c.workerReplicas < 2) forbid("workerReplicas", "production runs at least 2 worker replicas");
    }

    if (c.autoscalingEnabled && c.apiMaxReplicas < c.apiReplicas) {
      forbid("apiMaxReplicas", `must be ≥ apiReplicas (${c.apiReplicas}) when autoscaling is enabled`);
    }
    if (c.autoscalingEnabled && c.workerMaxReplicas < c.workerReplicas) {
      forbid(
        "workerMaxReplicas",
        `must be ≥ workerReplicas (${c.workerReplicas}) when autoscaling is enabled`,
      );
    }
  });

export type RawStackConfig = z.output<typeof rawStackConfigSchema>;

/** Every key the project declares, in the order of the schema. */
export const CONFIG_KEYS = Object.keys(rawStackConfigSchema.shape) as (keyof RawStackConfig)[];

/** Keys whose values are secrets: they must be set with `pulumi config set --secret`. */
export const SECRET_CONFIG_KEYS: readonly string[] = [...SECRET_KEYS, "rehearsalDatabaseUrl"];
