import { type z } from "zod";
import { PLAYBOOK_COMMANDS, PROJECT_NAME, SERVICE_DEPLOYMENTS } from "../contract";
import { defaultAlertMatchers } from "../verify/alert-matchers";
import { type GrafanaPanelsConfig } from "../verify/grafana-panels";
import {
  CONFIG_NAMESPACE,
  IMAGE_REPOSITORIES,
  rawStackConfigSchema,
  REMOVED_CONFIG_KEYS,
  SECRET_CONFIG_KEYS,
  SECRET_KEYS,
  type RawStackConfig,
  type SecretKey,
  type Service,
} from "./schema";
import { evidenceDirOf, resolveAppDir, resolveConfigPath } from "./project";
import { type RollbackOf } from "./rollback-of";

/** One problem in the stack config: the full key (`nova-rollout:apiReplicas`) and what is expected there. */
export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

/**
 * Thrown when the stack config is malformed. It carries every problem at once; its message lists them one per line
 * and says how to fix them, so that callers can print it as is (no stack trace is useful for a user mistake).
 */
export class ConfigValidationError extends Error {
  override readonly name = "ConfigValidationError";
  constructor(
    readonly stackName: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(formatProblems(stackName, problems));
  }
}

function formatProblems(stack: string, problems: readonly ConfigProblem[]): string {
  const noun = problems.length === 1 ? "problem" : "problems";
  const lines = problems.map((p) => `  - ${p.key}: ${p.message}`);
  return [
    `Stack config of "${stack}" has ${problems.length} ${noun}:`,
    ...lines,
    `Fix each with \`pulumi config set <key> <value> --stack ${stack}\` (add --secret for secrets), then run again.`,
  ].join("\n");
}

/** Image settings of one service. */
export interface ImageSettings {
  readonly service: Service;
  /** Repository name inside the registry, e.g. `nova-rms-api`. */
  readonly repository: string;
  /** Expected digest (`sha256:…`): images are always pinned by digest. */
  readonly digest: string;
}

/** The validated, typed stack settings the program is built from. */
export interface StackSettings {
  readonly stack: string;
  readonly project: string;
  readonly environment: RawStackConfig["environment"];
  readonly namespace: string;
  readonly cluster:
    | { readonly mode: "kubeconfig"; readonly kubeconfigPath: string; readonly context: string }
    | {
        readonly mode: "gke";
        readonly project: string;
        readonly region: string;
        readonly clusterName: string;
        readonly nodeCount: number;
        readonly machineType: string;
      };
  readonly images: {
    readonly registry: string;
    readonly tag: string;
    readonly resolver: RawStackConfig["imageResolver"];
    readonly gcpProject?: string;
    readonly api: ImageSettings;
    readonly worker: ImageSettings;
  };
  readonly scaling: {
    readonly apiReplicas: number;
    readonly workerReplicas: number;
    readonly autoscalingEnabled: boolean;
    readonly apiMaxReplicas: number;
    readonly workerMaxReplicas: number;
    readonly targetCpuPercent: number;
  };
  readonly secrets: (
    | {
        readonly source: "config";
        readonly required: readonly SecretKey[];
        /** Plain values as read from config; the program wraps them with `pulumi.secret` before any use. */
        readonly values: Readonly<Partial<Record<SecretKey, string>>>;
      }
    | {
        readonly source: "gcp-secret-manager";
        readonly required: readonly SecretKey[];
        readonly project: string;
        readonly prefix: string;
      }
  ) & {
    /**
     * `secretsChecksumKey`: the HMAC key of the secrets checksum annotation, a random secret of its own. Plain value as
     * read from config; the program wraps it with `pulumi.secret` before any use.
     */
    readonly checksumKey: string;
  };
  readonly database: {
    readonly backupDestination: string;
    readonly migrationCommand: string;
    /** Plain value as read from config; wrapped with `pulumi.secret` before use. */
    readonly rehearsalDatabaseUrl: string;
  };
  /**
   * The platform stack (`<organization>/nova-platform/<stack>`) that owns the cluster, the namespace and the
   * workloads' service account, read through a StackReference; undefined: the release owns them (and, in gke mode,
   * creates the cluster).
   */
  readonly platformStack?: string;
  readonly pausedCronJobs: readonly string[];
  /** The staging cluster's CronJobs paused for the release (its kubeconfig path resolved), when configured. */
  readonly stagingCronJobs?: {
    readonly kubeconfigPath: string;
    readonly context: string;
    readonly namespace: string;
    readonly cronJobs: readonly string[];
  };
  /** The CI schedules disabled for the release (GitHub Actions workflows) and the API that does it. */
  readonly ciSchedules: {
    readonly workflows: readonly string[];
    readonly apiUrl: string;
    readonly dryRun: boolean;
  };
  /** Bound of each kubectl call the program makes (CronJob pause and resume), in seconds. */
  readonly kubectlTimeoutSeconds: number;
  /** Bound of each database step (dump, rehearsal), in seconds. */
  readonly databaseTimeoutSeconds: number;
  /** The API's public entry (the chart's Ingress nova-api), when configured. */
  readonly apiIngress?: {
    readonly host: string;
    readonly staticIpName: string;
    readonly certificateName: string;
    readonly className: string;
  };
  readonly verification: {
    readonly apiBaseUrl: string;
    /** The API's Ingress (the chart's `nova-api`) when `apiIngress` is set: the API checks go through its address. */
    readonly apiIngress?: string;
    /** Set: the worker is checked at this URL; not set: through a port-forward to its Deployment in `namespace`. */
    readonly workerBaseUrl?: string;
    /** The release's namespace. */
    readonly namespace: string;
    readonly alertmanagerUrl: string;
    /**
     * Which firing alerts are this release's (Alertmanager filter syntax); not set or empty: `namespace="<namespace>"`.
     */
    readonly alertMatchers: readonly string[];
    /** Plain value as read from config (a secret); wrapped with `pulumi.secret` before use. */
    readonly alertmanagerAuthorization?: string;
    /** Configured, else (with an app checkout) the playbook's `pnpm test:e2e --project=chromium`. */
    readonly syntheticE2eCommand?: string;
    /** Configured, else (with an app checkout) the playbook's drill with the environment's drill env file. */
    readonly billingDrillDryRunCommand?: string;
    /** The app checkout the commands run in (`nova-rollout:appDir`, or the repository this program's `infra/` is in). */
    readonly commandDir?: string;
    /** `verificationEnvironment`: plain values as read from config (secrets); wrapped with `pulumi.secret` before use. */
    readonly commandEnvironment?: Readonly<Record<string, string>>;
    readonly attempts: number;
    readonly timeoutSeconds: number;
    readonly prometheusUrl?: string;
    /** Plain value as read from config (a secret); wrapped with `pulumi.secret` before use. */
    readonly prometheusAuthorization?: string;
    readonly metricChecks: readonly RawStackConfig["metricChecks"][number][];
    /** Dashboard panels read through Grafana's query API (`nova-rollout:grafanaPanels`). */
    readonly grafanaPanels?: GrafanaPanelsConfig;
    /** Plain value as read from config (a secret); wrapped with `pulumi.secret` before use. */
    readonly grafanaAuthorization?: string;
  };
  readonly evidenceDir: string;
  /** Set only for a rollback's own update (`nova-rollout:rollbackOf`): the update restored; no database work. */
  readonly rollbackOf?: RollbackOf;
}

export interface ParseOptions {
  readonly stack: string;
  /**
   * Tells whether a full config key (`nova-rollout:databaseUrl`) is stored encrypted. When given, a secret key set
   * in plain text is a problem.
   */
  readonly isSecret?: (key: string) => boolean;
  readonly project?: string;
  /** Relative paths (kubeconfig, evidence, backups) resolve against this directory. */
  readonly projectDir: string;
}

/**
 * Strips the `nova-rollout:` namespace from a flat config map. Keys of other namespaces (`kubernetes:`, `gcp:`)
 * are left out; a key of this project without the namespace is kept under its own name so the schema reports it.
 */
export function projectKeys(flat: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    if (key.startsWith(`${CONFIG_NAMESPACE}:`)) out[key.slice(CONFIG_NAMESPACE.length + 1)] = value;
  }
  return out;
}

/** Turns zod issues into one problem per key, naming the full config key. */
export function toProblems(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  // A key whose value has the wrong type or form gets that message alone: cross-key rules saw the raw value.
  const malformed = new Set(issues.filter((i) => i.code !== "custom").map((i) => String(i.path[0])));
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      const [parent, ...inner] = issue.path.map(String);
      for (const key of issue.keys) {
        problems.push(
          parent === undefined
            ? {
                key: `${CONFIG_NAMESPACE}:${key}`,
                message: REMOVED_CONFIG_KEYS[key] ?? "unknown key (check the spelling)",
              }
            : // A key inside a structured value (a JSON object) is named under the config key that holds it.
              {
                key: `${CONFIG_NAMESPACE}:${parent}`,
                message: `[${[...inner, key].join("][")}] unknown field; ${issue.message}`,
              },
        );
      }
      continue;
    }
    if (issue.code === "custom" && malformed.has(String(issue.path[0]))) continue;
    const [head, ...rest] = issue.path.map(String);
    const key = head === undefined ? CONFIG_NAMESPACE : `${CONFIG_NAMESPACE}:${head}`;
    const where = rest.length > 0 ? `[${rest.join("][")}] ` : "";
    const message =
      issue.code === "invalid_type" && issue.input === undefined ? "required, but not set" : issue.message;
    problems.push({ key, message: `${where}${message}` });
  }
  const seen = new Set<string>();
  return problems.filter((p) => {
    const id = `${p.key}\u0000${p.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * Validates the raw config of a stack (the `nova-rollout:` keys, values as config text or typed values) and returns
 * typed settings. Throws {@link ConfigValidationError} naming every bad key at once.
 */
export function parseStackSettings(
  raw: Readonly<Record<string, unknown>>,
  options: ParseOptions,
): StackSettings {
  // An empty value means "not set": Pulumi.yaml declares optional keys with an empty default.
  const present = Object.fromEntries(
    Object.entries(raw).filter(([, v]) => v !== undefined && !(typeof v === "string" && v.trim() === "")),
  );
  const plaintext: ConfigProblem[] = [];
  if (options.isSecret !== undefined) {
    for (const key of Object.keys(present)) {
      const full = `${CONFIG_NAMESPACE}:${key}`;
      if (SECRET_CONFIG_KEYS.includes(key) && !options.isSecret(full)) {
        plaintext.push({ key: full, message: "is a secret: store it with `pulumi config set --secret`" });
      }
    }
  }
  const result = rawStackConfigSchema.safeParse(present, { reportInput: true });
  const problems = [...(result.success ? [] : toProblems(result.error.issues)), ...plaintext];
  if (!result.success || problems.length > 0) throw new ConfigValidationError(options.stack, problems);
  return toSettings(result.data, options);
}

function toSettings(c: RawStackConfig, options: ParseOptions): StackSettings {
  const req = <T>(value: T | undefined): T => value as T; // presence is guaranteed by the schema's refinements
  const image = (service: Service, digest: string): ImageSettings => ({
    service,
    repository: IMAGE_REPOSITORIES[service],
    digest,
  });
  const required = c.requiredSecrets as SecretKey[];
  const checksumKey = req(c.secretsChecksumKey);

  return {
    stack: options.stack,
    project: options.project ?? PROJECT_NAME,
    environment: c.environment,
    namespace: c.namespace,
    cluster:
      c.clusterMode === "kubeconfig"
        ? {
            mode: "kubeconfig",
            kubeconfigPath: resolveConfigPath(options.projectDir, req(c.kubeconfigPath)),
            context: req(c.kubeconfigContext),
          }
        : {
            mode: "gke",
            project: req(c.gcpProject),
            region: req(c.gcpRegion),
            clusterName: req(c.gkeClusterName),
            nodeCount: c.gkeNodeCount,
            machineType: c.gkeMachineType,
          },
    images: {
      registry: c.imageRegistry,
      tag: c.imageTag,
      resolver: c.imageResolver,
      ...(c.gcpProject !== undefined ? { gcpProject: c.gcpProject } : {}),
      api: image("api", req(c.apiImageDigest)),
      worker: image("worker", req(c.workerImageDigest)),
    },
    scaling: {
      apiReplicas: c.apiReplicas,
      workerReplicas: c.workerReplicas,
      autoscalingEnabled: c.autoscalingEnabled,
      apiMaxReplicas: Math.max(c.apiMaxReplicas, c.apiReplicas),
      workerMaxReplicas: Math.max(c.workerMaxReplicas, c.workerReplicas),
      targetCpuPercent: c.autoscalingTargetCpu,
    },
    secrets:
      c.secretSource === "config"
        ? {
            source: "config",
            required,
            values: Object.fromEntries(
              SECRET_KEYS.filter((k) => c[k] !== undefined).map((k) => [k, c[k] as string]),
            ),
            checksumKey,
          }
        : {
            source: "gcp-secret-manager",
            required,
            project: req(c.gcpProject),
            prefix: c.secretManagerPrefix,
            checksumKey,
          },
    database: {
      backupDestination: resolveConfigPath(options.projectDir, c.backupDestination),
      migrationCommand: req(c.migrationCommand),
      rehearsalDatabaseUrl: req(c.rehearsalDatabaseUrl),
    },
    ...(c.platformStack !== undefined ? { platformStack: c.platformStack } : {}),
    pausedCronJobs: c.pausedCronJobs,
    ...(c.stagingCronJobs !== undefined
      ? {
          stagingCronJobs: {
            kubeconfigPath: resolveConfigPath(options.projectDir, c.stagingCronJobs.kubeconfigPath),
            context: c.stagingCronJobs.kubeconfigContext,
            namespace: c.stagingCronJobs.namespace,
            cronJobs: c.stagingCronJobs.cronJobs,
          },
        }
      : {}),
    ciSchedules: { workflows: c.ciSchedules, apiUrl: c.githubApiUrl, dryRun: c.ciSchedulesDryRun },
    kubectlTimeoutSeconds: c.kubectlTimeoutSeconds,
    databaseTimeoutSeconds: c.databaseTimeoutSeconds,
    ...(c.apiIngress !== undefined ? { apiIngress: c.apiIngress } : {}),
    verification: {
      apiBaseUrl: c.apiBaseUrl,
      ...(c.apiIngress !== undefined ? { apiIngress: SERVICE_DEPLOYMENTS.api } : {}),
      ...(c.workerBaseUrl !== undefined ? { workerBaseUrl: c.workerBaseUrl } : {}),
      namespace: c.namespace,
      alertmanagerUrl: c.alertmanagerUrl,
      alertMatchers:
        c.alertMatchers !== undefined && c.alertMatchers.length > 0
          ? c.alertMatchers
          : defaultAlertMatchers(c.namespace),
      ...(c.alertmanagerAuthorization !== undefined
        ? { alertmanagerAuthorization: c.alertmanagerAuthorization }
        : {}),
      ...verificationCommands(c, resolveAppDir(options.projectDir, c.appDir)),
      attempts: c.verifyAttempts,
      timeoutSeconds: c.verifyTimeoutSeconds,
      ...(c.prometheusUrl !== undefined ? { prometheusUrl: c.prometheusUrl } : {}),
      ...(c.prometheusAuthorization !== undefined
        ? { prometheusAuthorization: c.prometheusAuthorization }
        : {}),
      metricChecks: c.metricChecks,
      ...(c.grafanaPanels !== undefined ? { grafanaPanels: c.grafanaPanels } : {}),
      ...(c.grafanaAuthorization !== undefined ? { grafanaAuthorization: c.grafanaAuthorization } : {}),
    },
    evidenceDir: evidenceDirOf({ projectDir: options.projectDir, appDir: c.appDir }, c.evidenceDir),
    ...(c.rollbackOf !== undefined ? { rollbackOf: c.rollbackOf } : {}),
  };
}

/**
 * The synthetic E2E and drill commands and where they run: as configured; with an app checkout, the playbook's own
 * commands where none is configured (the production drill env file for production, the staging one elsewhere), run
 * in the checkout.
 */
function verificationCommands(
  c: RawStackConfig,
  appDir: string | undefined,
): Pick<
  StackSettings["verification"],
  "syntheticE2eCommand" | "billingDrillDryRunCommand" | "commandDir" | "commandEnvironment"
> {
  const e2e = c.syntheticE2eCommand ?? (appDir !== undefined ? PLAYBOOK_COMMANDS.e2e : undefined);
  const drill =
    c.billingDrillDryRunCommand ??
    (appDir === undefined
      ? undefined
      : c.environment === "production"
        ? PLAYBOOK_COMMANDS.productionDrill
        : PLAYBOOK_COMMANDS.stagingDrill);
  const env = c.verificationEnvironment;
  return {
    ...(e2e !== undefined ? { syntheticE2eCommand: e2e } : {}),
    ...(drill !== undefined ? { billingDrillDryRunCommand: drill } : {}),
    ...(appDir !== undefined ? { commandDir: appDir } : {}),
    ...(env !== undefined && Object.keys(env).length > 0 ? { commandEnvironment: env } : {}),
  };
}

/** True when a config key holds a secret and must be stored encrypted. */
export function isSecretConfigKey(key: string): boolean {
  return SECRET_CONFIG_KEYS.includes(key);
}
