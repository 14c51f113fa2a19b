/**
 * The stack view: the stack settings the evidence code needs, read through the program's own schema (`./inspect.ts`) but
 * without requiring the whole config to be valid, so the policy pack can judge a stack at preview time. Sources, in
 * order of trust:
 *  1. the engine: `PULUMI_CONFIG` (JSON of the decrypted stack config) and `PULUMI_STACK`, which the engine sets in
 *     the environment of every policy-pack process (pkg/resource/plugin/analyzer_plugin.go `constructEnv`);
 *  2. the stack file `Pulumi.<stack>.yaml` in the project directory (encrypted values stay placeholders).
 * Secret values are never returned from either source.
 */
import * as fs from "node:fs";
import { DEFAULT_EVIDENCE_DIR, type Service } from "../contract";
import { inspectStackConfig, type ConfigKey, type StackConfigInspection } from "./inspect";
import { PROJECT_NAME } from "./project";
import { projectKeys, type ConfigProblem, type StackSettings } from "./settings";
import { readStackFile, stackFilePath } from "./stack-file";

export {
  evidenceDirOf,
  findProjectDir,
  isProjectDir,
  PROJECT_NAME,
  resolveConfigPath,
  resolveProjectDir,
} from "./project";

const NS = `${PROJECT_NAME}:`;

/** What the collector and the policies need to know about a stack. */
export interface EvidenceStackSettings {
  readonly stack: string;
  readonly project: string;
  /** `sandbox` | `staging` | `production`, when configured. */
  readonly environment?: string;
  /** The release id (image tag). */
  readonly release: string;
  /** The expected image digest of each service. */
  readonly digests: Readonly<Record<Service, string>>;
  /** Registry plus path prefix, e.g. `127.0.0.1:35000/nova`. */
  readonly imageRegistry?: string;
  readonly namespace?: string;
  readonly kubeconfigPath?: string;
  readonly kubeconfigContext?: string;
  /** `kubeconfig` (the default) or `gke`: how the program reaches the cluster. */
  readonly clusterMode?: string;
  readonly gcpProject?: string;
  readonly gcpRegion?: string;
  readonly gkeClusterName?: string;
  /** Evidence directory, relative to the project directory unless absolute. */
  readonly evidenceDir: string;
  /** The Nova RMS checkout the readiness checks judge, relative to the project directory unless absolute. */
  readonly appDir?: string;
  /** The playbook's check commands by readiness check id (`nova-rollout:readinessCommands`). */
  readonly readinessCommands?: Readonly<Record<string, string>>;
  readonly pausedCronJobs: readonly string[];
  readonly requiredSecrets: readonly string[];
  /** Where the post-deploy verification reaches the API (`nova-rollout:apiBaseUrl`). */
  readonly apiBaseUrl?: string;
  /** The host the API's Ingress serves (`nova-rollout:apiIngress`), when the stack configures one. */
  readonly apiIngressHost?: string;
  /** Names of the post-deploy metric checks (`nova-rollout:metricChecks`); empty when none or malformed. */
  readonly metricChecks?: readonly string[];
  /** Where the values came from (`engine` or the stack file path), for messages. */
  readonly source: string;
  /** Problems of the whole config as the program would report them (empty when the program accepts it). */
  readonly configProblems: readonly ConfigProblem[];
}

/** Result of resolving settings: either the settings or every problem found. */
export type SettingsResult =
  | { readonly ok: true; readonly settings: EvidenceStackSettings }
  | { readonly ok: false; readonly problems: readonly string[]; readonly source: string };

/**
 * Builds settings from a flat `nova-rollout:<key>` map (stack file or engine config) through the program's own
 * schema (`src/config`): same rules, same defaults. Only the release and the digests are required here; every other
 * problem is carried in `configProblems` so the gate can still judge a partly valid stack.
 */
export function settingsFromConfigMap(
  stack: string,
  flat: Readonly<Record<string, unknown>>,
  source: string,
  projectDir: string = process.cwd(),
): SettingsResult {
  return viewOf(stack, inspectStackConfig(projectKeys(flat), { stack, projectDir }), source);
}

/**
 * The view of a stack config the program has already parsed into `parsed` (from the same flat map): the same result
 * as {@link settingsFromConfigMap}, without validating the whole config a second time: the view for the program's
 * guard, from the settings the program parsed.
 */
export function stackViewOf(
  parsed: StackSettings,
  flat: Readonly<Record<string, unknown>>,
  source: string,
  projectDir: string = process.cwd(),
): SettingsResult {
  const options = { stack: parsed.stack, projectDir };
  return viewOf(parsed.stack, inspectStackConfig(projectKeys(flat), options, parsed), source);
}

function readinessCommandsOf(commands: Readonly<Record<string, string | undefined>> | undefined): {
  readinessCommands?: Readonly<Record<string, string>>;
} {
  if (commands === undefined) return {};
  const set = Object.entries(commands).filter((e): e is [string, string] => e[1] !== undefined);
  return { readinessCommands: Object.fromEntries(set) };
}

function viewOf(stack: string, config: StackConfigInspection, source: string): SettingsResult {
  const problems: string[] = [];
  const required = <T>(key: ConfigKey, value: T | undefined): T | undefined => {
    if (value === undefined) {
      const p = config.problems.find((x) => x.key === `${NS}${key}`);
      problems.push(`${NS}${key} ${p === undefined ? "is not set" : p.message} in ${source}`);
    }
    return value;
  };
  const release = required("imageTag", config.value("imageTag"));
  const api = required("apiImageDigest", config.value("apiImageDigest"));
  const worker = required("workerImageDigest", config.value("workerImageDigest"));
  if (release === undefined || api === undefined || worker === undefined) {
    return { ok: false, problems, source };
  }
  const optional = (key: ConfigKey): Record<string, string> => {
    const v = config.value(key);
    return typeof v === "string" ? { [key]: v } : {};
  };
  return {
    ok: true,
    settings: {
      stack,
      project: PROJECT_NAME,
      ...optional("environment"),
      release,
      digests: { api, worker },
      ...optional("imageRegistry"),
      ...optional("namespace"),
      ...optional("kubeconfigPath"),
      ...optional("kubeconfigContext"),
      ...optional("clusterMode"),
      ...optional("gcpProject"),
      ...optional("gcpRegion"),
      ...optional("gkeClusterName"),
      evidenceDir: config.value("evidenceDir") ?? DEFAULT_EVIDENCE_DIR,
      ...optional("appDir"),
      ...readinessCommandsOf(config.value("readinessCommands")),
      pausedCronJobs: config.value("pausedCronJobs") ?? [],
      requiredSecrets: config.value("requiredSecrets") ?? [],
      ...optional("apiBaseUrl"),
      ...apiIngressHostOf(config.value("apiIngress")),
      metricChecks: (config.value("metricChecks") ?? []).map((m) => m.name),
      source,
      configProblems: config.problems,
    },
  };
}

function apiIngressHostOf(value: { host: string } | undefined): { apiIngressHost?: string } {
  return value === undefined ? {} : { apiIngressHost: value.host };
}

/**
 * The `nova-rollout:*` values of `Pulumi.<stack>.yaml` (read by `src/config`), encrypted values as the
 * `[encrypted]` placeholder (never decrypted); undefined when the file does not exist.
 */
export function readStackConfigFile(projectDir: string, stack: string): Record<string, unknown> | undefined {
  if (!fs.existsSync(stackFilePath(projectDir, stack))) {
    return undefined;
  }
  const { config } = readStackFile(projectDir, stack);
  return Object.fromEntries(Object.entries(config).filter(([k]) => k.startsWith(NS)));
}

/** The engine-provided stack config of this policy-pack process, when the engine named the same stack. */
export function engineConfig(env: NodeJS.ProcessEnv, stack: string): Record<string, unknown> | undefined {
  const engineStack = env["PULUMI_STACK"] ?? env["PULUMI_NODEJS_STACK"];
  const raw = env["PULUMI_CONFIG"];
  if (engineStack === undefined || raw === undefined || engineStack.split("/").pop() !== stack) {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed === null || typeof parsed !== "object") {
      return undefined;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (k.startsWith(NS)) {
        out[k] = v;
      }
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Resolves settings: engine config first (when present for this stack), else the stack file. */
export function resolveStackSettings(opts: {
  readonly stack: string;
  readonly projectDir: string | undefined;
  readonly env: NodeJS.ProcessEnv;
}): SettingsResult {
  const fromEngine = engineConfig(opts.env, opts.stack);
  if (fromEngine !== undefined) {
    return settingsFromConfigMap(
      opts.stack,
      fromEngine,
      "the engine's stack config (PULUMI_CONFIG)",
      opts.projectDir ?? process.cwd(),
    );
  }
  if (opts.projectDir === undefined) {
    return {
      ok: false,
      problems: [`no project directory with a Pulumi.yaml named ${PROJECT_NAME} was found`],
      source: "(none)",
    };
  }
  const file = stackFilePath(opts.projectDir, opts.stack);
  let flat: Record<string, unknown> | undefined;
  try {
    flat = readStackConfigFile(opts.projectDir, opts.stack);
  } catch (e) {
    return { ok: false, problems: [(e as Error).message], source: file };
  }
  if (flat === undefined) {
    return { ok: false, problems: [`${file} does not exist`], source: file };
  }
  return settingsFromConfigMap(opts.stack, flat, file, opts.projectDir);
}
