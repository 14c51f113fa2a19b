// The toolchain environment for TypeScript callers (the integration harness and the rollout CLI).
// It mirrors tools/env.sh: keep the two in step. Which Pulumi toolchain `npm run setup` provides is decided in
// tools/lib/resolve.sh (a Pulumi CLI on PATH, else the offline build); the integration harness always uses the
// offline build (toolchainEnv's default, and requireToolchain checks it).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * Sandbox-only default passphrase for the local file backend of the stack `local`. It is public: never use it for a
 * real stack (the rollout CLI refuses it for production stacks).
 */
export const SANDBOX_PASSPHRASE = "nova-sandbox-only";

/** Binaries `npm run setup` provides; requireToolchain() checks each one. */
export const TOOLCHAIN_BINARIES = [
  "pulumi",
  "pulumi-language-nodejs",
  "pulumi-resource-kubernetes",
  "pulumi-resource-command",
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
  "helm",
  // Chart static analysis (tests/chart/kube-score.test.ts); built from github.com/zegl/kube-score.
  "kube-score",
  // Workflow lint (tests/chart/workflow.test.ts); built from github.com/rhysd/actionlint.
  "actionlint",
  // S3-compatible stand-in (tests/integration/shared-backend.test.ts); tools/s3-standin on gofakes3.
  "s3-standin",
  // The preflight's push-permission check (nova-registry-check); tools/registry-check on go-containerregistry.
  "nova-registry-check",
] as const;

/** Plugins installed into the cache's PULUMI_HOME, with the versions pinned in tools/versions.env. */
export interface PluginPin {
  readonly kind: "resource";
  readonly name: string;
  readonly version: string;
}

/** The cache directory: $NOVA_CACHE_DIR or ~/.cache/nova-rollout. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.NOVA_CACHE_DIR && env.NOVA_CACHE_DIR !== ""
    ? env.NOVA_CACHE_DIR
    : path.join(os.homedir(), ".cache", "nova-rollout");
}

/** Reads tools/versions.env (KEY=value lines) into a record. */
export function readVersions(repoRoot: string): Readonly<Record<string, string>> {
  const text = fs.readFileSync(path.join(repoRoot, "tools", "versions.env"), "utf8");
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2].replace(/^["']|["']$/g, "");
  }
  return out;
}

/** The plugin pins derived from tools/versions.env. */
export function pinnedPlugins(repoRoot: string): readonly PluginPin[] {
  const v = readVersions(repoRoot);
  return [
    { kind: "resource", name: "kubernetes", version: v.K8S_PROVIDER_VERSION ?? "" },
    { kind: "resource", name: "command", version: v.COMMAND_PROVIDER_VERSION ?? "" },
  ];
}

/** The sandbox stack (`Pulumi.local.yaml`): the only stack the sandbox backend and passphrase defaults apply to. */
export const SANDBOX_STACK = "local";

/** The sandbox file backend inside the repository: `file://<repo>/.pulumi-local/state`. Sandbox stack only. */
export function sandboxBackendUrl(repoRoot: string): string {
  return `file://${path.join(repoRoot, ".pulumi-local", "state")}`;
}

/**
 * Which Pulumi toolchain: `offline` is the pinned build in the cache (what the integration tests require); `path` is
 * a Pulumi CLI on PATH with its own language host, the user's PULUMI_HOME and Pulumi's normal plugin acquisition.
 */
export type ToolchainKind = "offline" | "path";

/** The record `npm run setup` writes in the cache (tools/lib/resolve.sh `nova_record_toolchain`). */
export function toolchainRecordPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), "toolchain.env");
}

/** What tools/env.sh applies: {@link selectedToolchain}'s answer. */
export interface SelectedToolchain {
  readonly kind: ToolchainKind;
  /** Why: `NOVA_TOOLCHAIN`, the record of `npm run setup`, or the default. */
  readonly source: "NOVA_TOOLCHAIN" | "setup" | "default";
  /** For `path`, the CLI `npm run setup` found (when recorded). */
  readonly pulumi?: string;
}

/**
 * The toolchain tools/env.sh applies (keep the two in step): `NOVA_TOOLCHAIN=offline|path` when set, else the choice
 * `npm run setup` recorded in the cache, else `offline`.
 */
export function selectedToolchain(
  env: NodeJS.ProcessEnv = process.env,
  readFile: (file: string) => string | undefined = readTextFile,
): SelectedToolchain {
  const forced = env.NOVA_TOOLCHAIN;
  if (forced === "offline" || forced === "path") return { kind: forced, source: "NOVA_TOOLCHAIN" };
  const text = readFile(toolchainRecordPath(env));
  if (text === undefined) return { kind: "offline", source: "default" };
  const values: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) values[m[1]] = m[2];
  }
  if (values.NOVA_TOOLCHAIN_RESOLVED === "path") {
    const pulumi = values.NOVA_TOOLCHAIN_PULUMI;
    return { kind: "path", source: "setup", ...(pulumi !== undefined && pulumi !== "" ? { pulumi } : {}) };
  }
  return { kind: "offline", source: values.NOVA_TOOLCHAIN_RESOLVED === "offline" ? "setup" : "default" };
}

function readTextFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Options of {@link toolchainEnv}. */
export interface ToolchainEnvOptions {
  /**
   * `offline` (the default; what the integration harness uses): the pinned build, PATH with the cache's `bin` first,
   * PULUMI_HOME in the cache and the offline engine settings. `path`: the Pulumi CLI on PATH with the user's own
   * PULUMI_HOME and plugin acquisition: PATH gets the cache's `tools-bin` (no pulumi-* binaries) first and none of
   * the PULUMI_HOME / PULUMI_* engine settings are set. Pass `selectedToolchain(env).kind` to follow `npm run setup`.
   */
  readonly toolchain?: ToolchainKind;
  /**
   * Add the sandbox defaults: the file backend inside the repository ({@link sandboxBackendUrl}) and the public
   * {@link SANDBOX_PASSPHRASE}, each only when the user has not set that variable. Ask for them only for the sandbox
   * stack {@link SANDBOX_STACK}; the default is `false`.
   */
  readonly sandboxDefaults?: boolean;
}

/**
 * The environment every Pulumi invocation of this repository runs with: the offline engine settings, PATH with
 * the cache's bin directory first and PULUMI_HOME in the cache. With `sandboxDefaults` (sandbox stack `local`
 * only) it also sets PULUMI_BACKEND_URL to the repository's file backend unless it is set, and
 * PULUMI_CONFIG_PASSPHRASE to the sandbox passphrase unless PULUMI_CONFIG_PASSPHRASE or
 * PULUMI_CONFIG_PASSPHRASE_FILE is set. Without it, neither variable is touched: the user's backend and secrets
 * provider apply (see `cli/backend.ts` for the checks). Returns only the variables it sets, so it can be merged
 * into `process.env` or passed as Automation API `envVars`.
 */
export function toolchainEnv(
  repoRoot: string,
  base: NodeJS.ProcessEnv = process.env,
  options: ToolchainEnvOptions = {},
): Record<string, string> {
  const cache = cacheDir(base);
  const offline = (options.toolchain ?? "offline") === "offline";
  const bin = path.join(cache, "bin");
  const toolsBin = path.join(cache, "tools-bin");
  const first = offline ? bin : toolsBin;
  const currentPath = base.PATH ?? "";
  const pathParts = currentPath.split(path.delimiter).filter((p) => p !== "" && p !== bin && p !== toolsBin);
  const env: Record<string, string> = {
    NOVA_REPO_ROOT: repoRoot,
    NOVA_CACHE_DIR: cache,
    PATH: [first, ...pathParts].join(path.delimiter),
    ...(offline
      ? {
          PULUMI_HOME: path.join(cache, "pulumi-home"),
          PULUMI_SKIP_UPDATE_CHECK: "true",
          PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
          PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
          // Plugins come from PULUMI_HOME (exact versions) and the language host from beside `pulumi`, not PATH.
          PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        }
      : {}),
    NOVA_SANDBOX_DIR: path.join(repoRoot, ".sandbox"),
    NOVA_SANDBOX_KUBECONFIG: path.join(repoRoot, ".sandbox", "kubeconfig"),
  };
  if (options.sandboxDefaults === true) {
    env.PULUMI_BACKEND_URL =
      base.PULUMI_BACKEND_URL !== undefined && base.PULUMI_BACKEND_URL !== ""
        ? base.PULUMI_BACKEND_URL
        : sandboxBackendUrl(repoRoot);
    const passphraseFile = base.PULUMI_CONFIG_PASSPHRASE_FILE;
    if (base.PULUMI_CONFIG_PASSPHRASE !== undefined) {
      env.PULUMI_CONFIG_PASSPHRASE = base.PULUMI_CONFIG_PASSPHRASE;
    } else if (passphraseFile === undefined || passphraseFile === "") {
      env.PULUMI_CONFIG_PASSPHRASE = SANDBOX_PASSPHRASE;
    }
  }
  return env;
}

/** Thrown when a toolchain binary or plugin is missing; the message names it and says how to fix it. */
export class ToolchainMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolchainMissingError";
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Checks that every toolchain binary is in the cache's bin directory and that the pinned plugins are installed in
 * its PULUMI_HOME. Throws a ToolchainMissingError naming exactly what is missing and "run `npm run setup`".
 * Returns the cache's bin directory.
 */
export function requireToolchain(
  repoRoot: string,
  binaries: readonly string[] = TOOLCHAIN_BINARIES,
  base: NodeJS.ProcessEnv = process.env,
): string {
  const env = toolchainEnv(repoRoot, base);
  const bin = path.join(env.NOVA_CACHE_DIR ?? cacheDir(base), "bin");
  const missing = binaries.filter((b) => !isExecutable(path.join(bin, b)));
  // With a Pulumi CLI on PATH, `npm run setup` skips the offline Pulumi pieces: say how to get them.
  const offlineHint = " (the pinned offline build is needed here: `NOVA_TOOLCHAIN=offline npm run setup`)";
  if (missing.length > 0) {
    throw new ToolchainMissingError(
      `missing toolchain binary ${missing.map((m) => `'${m}'`).join(", ")} in ${bin}: run \`npm run setup\`${missing.some((m) => m.startsWith("pulumi")) ? offlineHint : ""}`,
    );
  }
  const pluginsDir = path.join(env.PULUMI_HOME ?? "", "plugins");
  const missingPlugins = pinnedPlugins(repoRoot).filter(
    (p) => !fs.existsSync(path.join(pluginsDir, `${p.kind}-${p.name}-v${p.version}`)),
  );
  if (missingPlugins.length > 0) {
    throw new ToolchainMissingError(
      `missing Pulumi plugin ${missingPlugins.map((p) => `${p.kind} ${p.name} v${p.version}`).join(", ")} in ${pluginsDir}: run \`npm run setup\`${offlineHint}`,
    );
  }
  return bin;
}
