import { z } from "zod";
import {
  apiIngressSetCommand,
  BILLING_DRILL_CRONJOB,
  DEFAULT_EVIDENCE_DIR,
  DIGEST_PATTERN,
  ENVIRONMENTS,
  HOSTNAME_PATTERN,
  PLATFORM_STACK_PATTERN,
  PROJECT_NAME,
  SECRET_KEYS,
  type SecretKey,
  WORKFLOW_REF_PATTERN,
} from "../contract";
import { parseChannels } from "../notify/notifier";
import { DEFAULT_DATABASE_TIMEOUT_SECONDS, DEFAULT_KUBECTL_TIMEOUT_SECONDS } from "../util/timeout";
import { hostOf } from "../util/url";
import { matcherProblems } from "../verify/alert-matchers";
import { RESERVED_COMMAND_ENV } from "../verify/probe-command";
import { parseCondition } from "../verify/metrics";
import { grafanaPanelsSchema } from "./grafana-panels";
import { parseRollbackOf, ROLLBACK_OF, ROLLBACK_OF_FORM } from "./rollback-of";

/** `nova-rollout:promotedFrom`: `<stack> update <version>`. */
export const PROMOTED_FROM_RE = /^[A-Za-z0-9][A-Za-z0-9_.\/-]* update [1-9][0-9]*$/;
import { boolean, fromJsonText, integer, nonEmpty } from "./values";

/** The stack config namespace: every key of this project is `nova-rollout:<key>` (the project name). */
export const CONFIG_NAMESPACE = PROJECT_NAME;

// The release vocabulary (services, image repositories, environments, secret keys) is defined in src/contract and
// re-exported here for the program's readers of stack config.
export {
  ENVIRONMENTS,
  IMAGE_REPOSITORIES,
  SECRET_ENV_NAMES,
  SECRET_KEYS,
  SERVICES,
  type SecretKey,
  type Service,
} from "../contract";

/** Shortest accepted `secretsChecksumKey` (e.g. `openssl rand -hex 32` gives 64 characters). */
export const SECRETS_CHECKSUM_KEY_MIN_LENGTH = 32;
/** What a stack file read without the engine holds for an encrypted value (`ENCRYPTED_PLACEHOLDER` of stack-file.ts). */
const UNDECRYPTED = "[encrypted]";

export const CLUSTER_MODES = ["kubeconfig", "gke"] as const;
export const IMAGE_RESOLVERS = ["pinned", "registry-api", "artifact-registry"] as const;
export const SECRET_SOURCES = ["config", "gcp-secret-manager"] as const;

/** What a stack that still names a removed image resolver or key uses instead (reported with every other problem). */
const PIN_INSTEAD =
  "use imageResolver registry-api with apiImageDigest and workerImageDigest pinned to the digests the " +
  "release-images workflow published";

/** Image resolvers that no longer exist, with the message a stack that still names one gets. */
export const REMOVED_IMAGE_RESOLVERS: Readonly<Record<string, string>> = {
  docker: `the docker resolver was removed (registry-api makes the same digest check without the docker provider); ${PIN_INSTEAD}`,
  build: `the build resolver was removed (a rollout never builds: the release-images workflow builds and pushes the images); ${PIN_INSTEAD}`,
};

/** Config keys that no longer exist, with the message a stack that still sets one gets instead of "unknown key". */
export const REMOVED_CONFIG_KEYS: Readonly<Record<string, string>> = Object.fromEntries(
  ["apiBuildContext", "workerBuildContext"].map((key) => [
    key,
    `was removed with the build resolver (the release-images workflow builds the images); remove it with ` +
      `\`pulumi config rm ${CONFIG_NAMESPACE}:${key}\` and ${PIN_INSTEAD}`,
  ]),
);

const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** `host[:port]/path` without a scheme, tag or digest. */
const REGISTRY_RE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

// Stack config values reach the program as text or typed values; the builders in ./values accept both.
const stringList = () =>
  z.preprocess(
    fromJsonText,
    z.array(z.string().min(1, { error: "list entries must not be empty" }), {
      error: 'expected a list of strings, e.g. ["a","b"]',
    }),
  );

const url = () =>
  z
    .string({ error: "expected an http(s) URL" })
    .refine((v) => /^https?:\/\/[^\s/]+/.test(v) && URL.canParse(v), { error: "expected an http(s) URL" });

const digest = () =>
  z.string({ error: "expected an image digest sha256:<64 hex>" }).regex(DIGEST_PATTERN, {
    error: "expected an image digest sha256:<64 lowercase hex characters>",
  });

/** Where a PostgreSQL connection string points: every `host:port` it may reach and the database name. */
export interface DatabaseTarget {
  /**
   * Normalised `host:port` pairs: host lowercased, brackets and a trailing dot removed, loopback names and Unix socket
   * directories as `localhost`, port 5432 unless given.
   */
  readonly endpoints: readonly string[];
  /** The database name (libpq's default, the user name, when none is given; empty when neither is). */
  readonly database: string;
}

const DEFAULT_PG_PORT = "5432";
const LOOPBACK_HOSTS = new Set(["", "localhost", "localhost.localdomain", "::1", "0:0:0:0:0:0:0:1"]);

function normaliseHost(raw: string): string {
  const host = raw
    .trim()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "")
    .toLowerCase();
  // A Unix socket directory (or abstract socket) is the local server, as is every 127.x address.
  if (
    LOOPBACK_HOSTS.has(host) ||
    host.startsWith("/") ||
    host.startsWith("@") ||
    /^127\.\d+\.\d+\.\d+$/.test(host)
  )
    return "localhost";
  return host;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Splits `a:1,[::1]:2,b` into host/port pairs (a port may be empty). */
function splitHostList(list: string): { host: string; port: string }[] {
  return list.split(",").map((entry) => {
    const bracketed = /^(\[[^\]]*\])(?::(\d*))?$/.exec(entry);
    if (bracketed) return { host: bracketed[1] ?? "", port: bracketed[2] ?? "" };
    const colon = entry.lastIndexOf(":");
    return colon >= 0
      ? { host: entry.slice(0, colon), port: entry.slice(colon + 1) }
      : { host: entry, port: "" };
  });
}

function toTarget(
  params: Readonly<Record<string, string>>,
  uriHosts: { host: string; port: string }[],
): DatabaseTarget {
  const hostList = params.hostaddr ?? params.host;
  const hosts = hostList !== undefined ? hostList.split(",").map((host) => ({ host, port: "" })) : uriHosts;
  const ports = params.port !== undefined ? params.port.split(",") : [];
  const endpoints = (hosts.length > 0 ? hosts : [{ host: "", port: "" }]).map((h, i) => {
    const port = (ports.length === 1 ? ports[0] : ports[i]) ?? h.port;
    return `${normaliseHost(h.host)}:${port.trim() === "" ? DEFAULT_PG_PORT : String(Number(port.trim()))}`;
  });
  return { endpoints: [...new Set(endpoints)].sort(), database: params.dbname ?? params.user ?? "" };
}

/** Reads a libpq `key=value key='quoted value'` connection string. */
function parseKeywordValue(text: string): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  const re = /\s*([A-Za-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))/y;
  let rest = text.trim();
  while (rest !== "") {
    re.lastIndex = 0;
    const m = re.exec(rest);
    if (!m) return undefined;
    const [whole, key = "", quoted, bare] = m;
    params[key.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : (bare ?? "");
    rest = rest.slice(whole.length).trim();
  }
  return params;
}

/**
 * Where a PostgreSQL connection string points, for comparing two of them: a `postgres://` / `postgresql://` URI
 * (several hosts, bracketed IPv6, `host`/`hostaddr`/`port`/`dbname` query parameters) or a libpq `key=value` string.
 * Credentials and every other parameter are ignored. Returns undefined for anything else (e.g. the `[encrypted]`
 * placeholder of a stack file read without the engine).
 */
export function databaseTarget(connection: string): DatabaseTarget | undefined {
  const text = connection.trim();
  const uri = /^postgres(?:ql)?:\/\/([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?(?:#.*)?$/i.exec(text);
  if (uri) {
    const [, authority = "", dbPath, query = ""] = uri;
    const at = authority.lastIndexOf("@");
    const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
    const hostList = at >= 0 ? authority.slice(at + 1) : authority;
    const params: Record<string, string> = {};
    const user = userinfo?.split(":")[0];
    if (user !== undefined && user !== "") params.user = decode(user);
    if (dbPath !== undefined && dbPath !== "") params.dbname = decode(dbPath);
    for (const pair of query.split("&").filter((p) => p !== "")) {
      const eq = pair.indexOf("=");
      const key = decode(eq >= 0 ? pair.slice(0, eq) : pair).toLowerCase();
      if (["host", "hostaddr", "port", "dbname", "user"].includes(key))
        params[key] = decode(eq >= 0 ? pair.slice(eq + 1) : "");
    }
    const hosts = splitHostList(hostList).map((h) => ({ host: decode(h.host), port: h.port }));
    return toTarget(params, hostList === "" ? [] : hosts);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || !text.includes("=")) return undefined;
  const params = parseKeywordValue(text);
  return params === undefined ? undefined : toTarget(params, []);
}

/**
 * True when two connection strings reach the same database: the same database name and at least one `host:port` in
 * common after normalisation ({@link databaseTarget}). False when either cannot be read (the run-time check in the
 * rehearsal script still compares the servers themselves).
 */
export function sameDatabase(a: string, b: string): boolean {
  const x = databaseTarget(a);
  const y = databaseTarget(b);
  if (x === undefined || y === undefined || x.database !== y.database) return false;
  return x.endpoints.some((e) => y.endpoints.includes(e));
}

/** `gs://<bucket>[/<prefix>]` with a valid bucket name. */
const GCS_DESTINATION_RE = /^gs:\/\/[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](\/.*)?$/;
/** Anything that starts like a URL scheme (`s3:`, `file:`, `https:`): not a directory. */
const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * Why a backup destination is refused, or undefined when it is accepted: `gs://bucket[/prefix]`, or a directory
 * (absolute, `~/…`, or relative to the project directory, which the settings resolve to an absolute path). Any
 * other scheme (`s3://`, `file://`, `https://`) is refused; production accepts `gs://` only. The message never
 * repeats the value (it could carry credentials).
 *
 * @param destination the configured value
 * @param environment the stack's environment; without it only the form is checked
 */
export function backupDestinationProblem(destination: string, environment?: string): string | undefined {
  const value = destination.trim();
  if (value.startsWith("gs://")) {
    return GCS_DESTINATION_RE.test(value)
      ? undefined
      : "expected gs://<bucket>[/<prefix>] with a valid bucket name (lowercase letters, digits, '.', '_', '-')";
  }
  const scheme = SCHEME_RE.exec(value)?.[1];
  if (scheme !== undefined || value.includes("://")) {
    return `${scheme !== undefined ? `${scheme}: destinations are not supported` : "not a directory"}; expected gs://<bucket>[/<prefix>] or a directory`;
  }
  if (environment === "production") {
    return "production dumps go to gs://<bucket>[/<prefix>] (off the deploying machine); a local directory is for sandbox and staging";
  }
  return undefined;
}

/** An `Authorization` header value kept as a secret (`Bearer <token>`, `Basic <base64>`). */
const authorization = () =>
  z
    .string({
      error: 'expected an Authorization header value, "Bearer <token>" or "Basic <base64>" (a secret)',
    })
    .refine((v) => v === UNDECRYPTED || /^(Bearer|Basic) \S+$/.test(v.trim()), {
      error: 'expected an Authorization header value, "Bearer <token>" or "Basic <base64>" (a secret)',
    });

/** An environment variable name the verification commands may receive (not one the probe sets itself). */
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `verificationEnvironment`: variables (name → value, every value a secret) for the synthetic E2E and billing-drill
 * commands, e.g. the read-only accounts' credentials. Every bad name is reported at once.
 */
const commandEnvironment = () =>
  z.preprocess(
    // Read from the stack file without decrypting: set, values unknown.
    (value) => (value === UNDECRYPTED ? {} : fromJsonText(value)),
    z
      .record(z.string(), z.string({ error: "expected text values" }), {
        error: 'expected a map of variable name to value (a secret), e.g. {"E2E_READONLY_PASSWORD":"…"}',
      })
      .superRefine((env, ctx) => {
        const bad = Object.keys(env).filter((n) => !ENV_NAME_RE.test(n));
        if (bad.length > 0)
          ctx.addIssue({ code: "custom", message: `not a variable name: ${bad.join(", ")}` });
        const reserved = Object.keys(env).filter((n) => RESERVED_COMMAND_ENV.includes(n));
        if (reserved.length > 0)
          ctx.addIssue({
            code: "custom",
            message: `${reserved.join(", ")} ${reserved.length > 1 ? "are" : "is"} set by the verification itself (${RESERVED_COMMAND_ENV.join(", ")})`,
          });
      }),
  );

/** One metric check of the post-deploy verification (`nova-rollout:metricChecks` entries). */
const metricCheck = z.strictObject({
  name: z
    .string({ error: "expected a name" })
    .max(40, { error: "a metric check name is at most 40 characters" })
    .regex(DNS_LABEL_RE, { error: "expected a DNS-1123 label (lowercase letters, digits and '-')" }),
  query: z.string({ error: "expected a PromQL query" }).trim().min(1, { error: "expected a PromQL query" }),
  condition: z
    .string({ error: 'expected a condition such as "> 0" or "< 0.01"' })
    .refine((c) => parseCondition(c) !== undefined, {
      error: 'expected a condition such as "> 0" or "< 0.01"',
    }),
  evaluations: z.number().int().min(1).max(20).default(3),
  intervalSeconds: z.number().int().min(1).max(300).default(10),
  failureLimit: z.number().int().min(0).max(19).default(0),
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
    // The platform stack that owns the cluster, the namespace and the workloads' service account (platform/).
    platformStack: z
      .string({ error: "expected <organization>/<project>/<stack>" })
      .regex(PLATFORM_STACK_PATTERN, {
        error:
          "expected <organization>/<project>/<stack>, e.g. organization/nova-platform/platform-production",
      })
      .optional(),
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
      .enum(IMAGE_RESOLVERS, {
        error: (issue) =>
          (typeof issue.input === "string" ? REMOVED_IMAGE_RESOLVERS[issue.input] : undefined) ??
          `expected one of ${IMAGE_RESOLVERS.join(", ")}`,
      })
      .default("pinned"),

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
    // The HMAC key of the secrets checksum annotation: a random secret of its own, never derived from the values.
    secretsChecksumKey: z
      .string({ error: "expected a random key (a secret)" })
      .refine((v) => v === UNDECRYPTED || v.trim().length >= SECRETS_CHECKSUM_KEY_MIN_LENGTH, {
        error: `expected a random key of at least ${SECRETS_CHECKSUM_KEY_MIN_LENGTH} characters, e.g. from \`openssl rand -hex 32\``,
      })
      .optional(),
    secretManagerPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]*$/, { error: "expected letters, digits, '_' or '-'" })
      .default("nova-"),

    // The form is checked on the key itself (reported with any other malformed key); production's gs:// rule below.
    backupDestination: nonEmpty("a backup destination (gs://bucket/prefix or a directory)").superRefine(
      (value, ctx) => {
        const problem = backupDestinationProblem(value);
        if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
      },
    ),
    rehearsalDatabaseUrl: nonEmpty("a secret value").optional(),
    migrationCommand: nonEmpty("the migration command").optional(),
    pausedCronJobs: stringList().default([BILLING_DRILL_CRONJOB]),
    // GitHub Actions workflows whose schedules could reach production, disabled for the release (src/ci/schedules.ts).
    ciSchedules: z
      .preprocess(
        fromJsonText,
        z.array(
          z.string().regex(WORKFLOW_REF_PATTERN, {
            error: "expected owner/repo:workflow.yml, e.g. nova-rms/nova-rms:billing-drill-production.yml",
          }),
          { error: 'expected a list of "owner/repo:workflow.yml"' },
        ),
      )
      .default([]),
    // The staging cluster's CronJobs that could reach production (the staging billing drill), paused through its own
    // kubeconfig for the release and resumed after verification.
    stagingCronJobs: z
      .preprocess(
        fromJsonText,
        z.strictObject(
          {
            kubeconfigPath: nonEmpty("the staging cluster's kubeconfig file"),
            kubeconfigContext: nonEmpty("a context of that kubeconfig"),
            namespace: nonEmpty("the staging namespace"),
            cronJobs: stringList().default([BILLING_DRILL_CRONJOB]),
          },
          {
            error:
              'expected {"kubeconfigPath","kubeconfigContext","namespace"} and optionally "cronJobs" (default [nova-billing-drill]), e.g. {"kubeconfigPath":".kube/nova-staging.yaml","kubeconfigContext":"gke_nova-staging_us-central1_nova-staging","namespace":"nova-staging"}',
          },
        ),
      )
      .optional(),
    githubApiUrl: url().default("https://api.github.com"),
    ciSchedulesDryRun: boolean().default(false),
    kubectlTimeoutSeconds: integer(1, 3600).default(DEFAULT_KUBECTL_TIMEOUT_SECONDS),
    databaseTimeoutSeconds: integer(60, 172_800).default(DEFAULT_DATABASE_TIMEOUT_SECONDS),

    // The API's public entry: the chart's Ingress nova-api on the platform stack's static address and certificate.
    apiIngress: z
      .preprocess(
        fromJsonText,
        z.strictObject(
          {
            host: z.string({ error: "expected a host name" }).regex(HOSTNAME_PATTERN, {
              error: "expected a fully qualified host name, e.g. api.nova-rms.example",
            }),
            staticIpName: nonEmpty("the static address's name (the platform stack's apiAddressName)"),
            certificateName: nonEmpty(
              "the managed certificate's name (the platform stack's apiCertificateName)",
            ),
            className: nonEmpty("an IngressClass").default("gce"),
          },
          {
            error:
              'expected {"host","staticIpName","certificateName"} and optionally "className" (default gce), e.g. {"host":"api.nova-rms.example","staticIpName":"nova-prod-api-ip","certificateName":"nova-prod-api-cert"}',
          },
        ),
      )
      .optional(),
    apiBaseUrl: url(),
    // Not set: the worker is checked through a port-forward to its Deployment, as the playbook does.
    workerBaseUrl: url().optional(),
    alertmanagerUrl: url(),
    // Which firing alerts are this release's (Alertmanager filter syntax); not set or empty: namespace="<namespace>".
    alertMatchers: stringList()
      .superRefine((list, ctx) => {
        for (const message of matcherProblems(list)) ctx.addIssue({ code: "custom", message });
      })
      .optional(),
    alertmanagerAuthorization: authorization().optional(),
    syntheticE2eCommand: nonEmpty("a command").optional(),
    billingDrillDryRunCommand: nonEmpty("a command").optional(),
    verificationEnvironment: commandEnvironment().optional(),
    verifyAttempts: integer(1, 30).default(5),
    verifyTimeoutSeconds: integer(1, 600).default(10),
    prometheusUrl: url().optional(),
    prometheusAuthorization: authorization().optional(),
    metricChecks: z
      .preprocess(
        fromJsonText,
        z.array(metricCheck, {
          error:
            'expected a list of {"name","query","condition"} objects, e.g. [{"name":"traffic","query":"sum(rate(http_requests_total[5m]))","condition":"> 0"}]',
        }),
      )
      .default([]),
    // Dashboard panels read through Grafana's query API (src/config/grafana-panels.ts); the token is a secret.
    grafanaPanels: grafanaPanelsSchema.optional(),
    grafanaAuthorization: authorization().optional(),

    evidenceDir: nonEmpty("a directory").default(DEFAULT_EVIDENCE_DIR),
    // The Nova RMS checkout whose artifacts and check commands the preflight judges (src/evidence/app-checkout.ts).
    appDir: nonEmpty("a directory (the Nova RMS checkout, relative to the project)").optional(),
    readinessCommands: z
      .preprocess(
        fromJsonText,
        z.strictObject(
          {
            coverage: nonEmpty("a command line").optional(),
            "e2e-smoke": nonEmpty("a command line").optional(),
            "billing-drill": nonEmpty("a command line").optional(),
            "sample-data": nonEmpty("a command line").optional(),
          },
          {
            error: (issue) =>
              `${issue.code === "unrecognized_keys" ? `unknown check id ${issue.keys.join(", ")}; ` : ""}expected a map of check id (coverage, e2e-smoke, billing-drill, sample-data) to a command line, e.g. {"billing-drill":"pnpm drill:check:staging"}`,
          },
        ),
      )
      .default({ "billing-drill": "pnpm drill:check:staging" }),
    // Set by `rollout rollback` for the rollback's own update only; see src/config/rollback-of.ts.
    rollbackOf: z
      .string()
      .transform((text, ctx) => {
        const parsed = parseRollbackOf(text);
        if (parsed === undefined) {
          ctx.addIssue({
            code: "custom",
            message: `expected "${ROLLBACK_OF_FORM}" (written by \`rollout rollback\`, never by hand; remove it with pulumi config rm ${CONFIG_NAMESPACE}:${ROLLBACK_OF})`,
          });
          return z.NEVER;
        }
        return parsed;
      })
      .optional(),
    // Written by `rollout promote` with the digests it pinned: the update of the staging stack they were verified in.
    promotedFrom: z
      .string()
      .regex(PROMOTED_FROM_RE, {
        error: 'expected "<stack> update <version>" (written by `rollout promote`, e.g. "staging update 12")',
      })
      .optional(),
    notifyChannels: nonEmpty("a JSON map of channel name to {kind, url}")
      .refine(
        (text) => {
          // Read from the stack file without decrypting: set, its channels unknown.
          if (text === UNDECRYPTED) return true;
          try {
            parseChannels(text);
            return true;
          } catch {
            return false;
          }
        },
        {
          error:
            'expected a JSON map such as {"nova-ops":{"kind":"slack","url":"https://hooks…"}} (kind slack, json or grafana)',
        },
      )
      .optional(),
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

    const hint = "(images are pinned by digest; a tag alone is mutable)";
    need("apiImageDigest", hint);
    need("workerImageDigest", hint);
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
    need(
      "secretsChecksumKey",
      `as the key of the secrets checksum annotation: set it once per stack with \`pulumi config set --secret ${CONFIG_NAMESPACE}:secretsChecksumKey "$(openssl rand -hex 32)"\``,
    );
    // The key must be a secret of its own: one of the values it checksums would make a guess of that value testable.
    if (
      c.secretsChecksumKey !== undefined &&
      c.secretsChecksumKey !== UNDECRYPTED &&
      SECRET_KEYS.some((k) => c[k] === c.secretsChecksumKey)
    ) {
      forbid(
        "secretsChecksumKey",
        "is the value of one of the application secrets; generate a key of its own with `openssl rand -hex 32`",
      );
    }
    const backupProblem = backupDestinationProblem(c.backupDestination, c.environment);
    if (backupProblem !== undefined) forbid("backupDestination", backupProblem);
    // pg_restore --clean into the live database would wipe it. The message names no URL (both are secrets).
    if (
      c.databaseUrl !== undefined &&
      c.rehearsalDatabaseUrl !== undefined &&
      sameDatabase(c.databaseUrl, c.rehearsalDatabaseUrl)
    ) {
      forbid(
        "rehearsalDatabaseUrl",
        `points at the live database (same host, port and database as ${CONFIG_NAMESPACE}:databaseUrl); the rehearsal ` +
          "restores with pg_restore --clean and would wipe it. Set it to a scratch database: " +
          `pulumi config set --secret ${CONFIG_NAMESPACE}:rehearsalDatabaseUrl <url of a clone>`,
      );
    }
    need("migrationCommand", "for the migration rehearsal");

    if (c.environment === "sandbox") {
      // Sandbox stacks run where the gcp provider is not available.
      if (c.clusterMode !== "kubeconfig")
        forbid("clusterMode", "a sandbox stack uses clusterMode kubeconfig");
      if (!["pinned", "registry-api"].includes(c.imageResolver)) {
        forbid("imageResolver", "a sandbox stack uses imageResolver pinned or registry-api");
      }
      if (c.secretSource !== "config") forbid("secretSource", "a sandbox stack uses secretSource config");
    }
    // The verification judges the API where users reach it: with a public entry, that is its host.
    const apiHost = hostOf(c.apiBaseUrl);
    if (c.apiIngress !== undefined && apiHost !== undefined && apiHost !== c.apiIngress.host) {
      forbid(
        "apiBaseUrl",
        `names host ${apiHost}, but the API's Ingress serves ${c.apiIngress.host}: the verification would judge an address this stack does not route to; set it to https://${c.apiIngress.host}`,
      );
    }
    if (c.environment === "production") {
      if (c.apiReplicas < 2) forbid("apiReplicas", "production runs at least 2 api replicas");
      if (c.workerReplicas < 2) forbid("workerReplicas", "production runs at least 2 worker replicas");
      // The post-deploy verification probes the API through the route this stack serves: production must serve one.
      if (c.apiIngress === undefined) {
        forbid(
          "apiIngress",
          "required in production: production serves the API through its Ingress (the GKE load balancer on the platform stack's static address and managed certificate) and verifies it there; " +
            `set it with ${apiIngressSetCommand(apiHost)}`,
        );
      }
      if (c.workerBaseUrl !== undefined) {
        forbid(
          "workerBaseUrl",
          "production checks the worker as the playbook does, through a port-forward to deploy/nova-worker (the chart's NetworkPolicy admits no one else); remove the key",
        );
      }
      if (c.ciSchedulesDryRun) {
        forbid(
          "ciSchedulesDryRun",
          "a production release pauses its CI schedules; try the dry run by hand (node dist/src/ci/schedules.js disable --dry-run --api <url> <owner/repo:workflow.yml>…)",
        );
      }
    }

    if (
      c.rollbackOf !== undefined &&
      ((c.apiImageDigest !== undefined && c.apiImageDigest !== c.rollbackOf.apiDigest) ||
        (c.workerImageDigest !== undefined && c.workerImageDigest !== c.rollbackOf.workerDigest))
    ) {
      forbid(
        "rollbackOf",
        `names a rollback to update ${c.rollbackOf.update}, but the stack deploys other digests: it is left over from ` +
          "an interrupted rollback, and a release is never spared its database dump. Remove it: " +
          `pulumi config rm ${CONFIG_NAMESPACE}:${ROLLBACK_OF}`,
      );
    }

    if (c.metricChecks.length > 0) need("prometheusUrl", "when metricChecks lists any check");
    if (c.prometheusAuthorization !== undefined) need("prometheusUrl", "when prometheusAuthorization is set");
    if (c.grafanaAuthorization !== undefined) need("grafanaPanels", "when grafanaAuthorization is set");
    const names = c.metricChecks.map((m) => m.name);
    for (const dup of new Set(names.filter((n, i) => names.indexOf(n) !== i))) {
      forbid("metricChecks", `metric check "${dup}" is listed twice`);
    }
    for (const m of c.metricChecks) {
      if (m.failureLimit >= m.evaluations) {
        forbid(
          "metricChecks",
          `metric check "${m.name}": failureLimit must be below evaluations (${m.evaluations})`,
        );
      }
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

/**
 * The keys of the post-deploy verification section (from `apiBaseUrl` to `grafanaAuthorization`): how a release is
 * checked, not what is deployed; with them the API's public entry (`apiIngress`), through which the verification
 * reaches the API and which does not move with a release. A rollback keeps the stack's current values of these keys and verifies
 * the restored release with them.
 */
export const VERIFICATION_CONFIG_KEYS = [
  "apiIngress",
  "apiBaseUrl",
  "workerBaseUrl",
  "alertmanagerUrl",
  "alertMatchers",
  "alertmanagerAuthorization",
  "syntheticE2eCommand",
  "billingDrillDryRunCommand",
  "verificationEnvironment",
  "verifyAttempts",
  "verifyTimeoutSeconds",
  "prometheusUrl",
  "prometheusAuthorization",
  "metricChecks",
  "grafanaPanels",
  "grafanaAuthorization",
] as const satisfies readonly (keyof RawStackConfig)[];

/** Keys whose values are secrets: they must be set with `pulumi config set --secret`. */
export const SECRET_CONFIG_KEYS: readonly string[] = [
  ...SECRET_KEYS,
  "secretsChecksumKey",
  "rehearsalDatabaseUrl",
  "notifyChannels",
  "alertmanagerAuthorization",
  "prometheusAuthorization",
  "grafanaAuthorization",
  "verificationEnvironment",
];
