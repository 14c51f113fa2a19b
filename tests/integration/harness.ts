// Integration harness: the real Pulumi engine (offline toolchain from `npm run setup`) against the local sandbox
// (`npm run sandbox:up`). Tests fail loudly when the toolchain or the sandbox is missing; they never skip.
import { execFile, execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import {
  LocalWorkspace,
  PulumiCommand,
  type InlineProgramArgs,
  type LocalProgramArgs,
  type LocalWorkspaceOptions,
  type PulumiFn,
  type Stack,
} from "@pulumi/pulumi/automation";
import { CLUSTER_MARKER } from "../../src/contract";
import { cacheDir, requireToolchain, toolchainEnv } from "../../tools/toolchain";

const execFileAsync = promisify(execFile);

/** Repository root (tests/integration/../..). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** Sandbox facts shared with tools/sandbox/lib.sh (keep in step). */
export const SANDBOX = {
  dir: path.join(REPO_ROOT, ".sandbox"),
  kubeconfig: path.join(REPO_ROOT, ".sandbox", "kubeconfig"),
  context: "nova-sandbox",
  apiServer: "https://127.0.0.1:36443",
  postgresUrl: "postgresql://postgres@127.0.0.1:55432/nova",
  registry: "127.0.0.1:35000",
  imageRegistry: "127.0.0.1:35000/nova",
  imageTag: "sandbox",
  /** The token-protected registry (the production registry's stand-in) and its token realm. */
  authRegistry: {
    imageRegistry: "127.0.0.1:35001/nova",
    realm: "http://127.0.0.1:35002",
    /** Credentials in docker-config form (REGISTRY_AUTH_FILE): nova-ci may push, nova-reader may only pull. */
    pusherAuthFile: path.join(REPO_ROOT, ".sandbox", "registry-auth", "ci-auth.json"),
    readerAuthFile: path.join(REPO_ROOT, ".sandbox", "registry-auth", "reader-auth.json"),
  },
  /**
   * The committed production registry at its own address (tools/sandbox/up.sh): a token-protected registry behind an
   * HTTPS front for us-docker.pkg.dev, reached through the standard proxy variables with the sandbox CA
   * ({@link productionRegistryEnv}). Its token realm is the one above; the auth files hold this host too.
   */
  productionRegistry: {
    imageRegistry: "us-docker.pkg.dev/nova-prod/nova",
    proxy: "http://127.0.0.1:35004",
    caFile: path.join(REPO_ROOT, ".sandbox", "registry-front", "ca.crt"),
  },
  /**
   * The load balancer of IngressClass gce (tools/sandbox/ingress-gateway.mjs): the address it publishes in the
   * Ingresses' status, and the CA of its certificates (what a sandbox client trusts, {@link sandboxTrustEnv}).
   */
  ingress: {
    address: "127.0.0.1:38443",
    caFile: path.join(REPO_ROOT, ".sandbox", "registry-front", "ca.crt"),
  },
  /** The GitHub API stand-in (Actions workflows) and its token (GITHUB_TOKEN). */
  github: {
    api: "http://127.0.0.1:38091",
    tokenFile: path.join(REPO_ROOT, ".sandbox", "github", "token"),
  },
  nodes: ["nova-node-1", "nova-node-2"],
  standins: {
    api: "http://127.0.0.1:38080",
    worker: "http://127.0.0.1:33001",
    alertmanager: "http://127.0.0.1:39093",
    grafana: "http://127.0.0.1:33000",
  },
  prometheus: "http://127.0.0.1:39090",
} as const;

export type StandinName = keyof typeof SANDBOX.standins;

/**
 * The variables that take a registry client (skopeo, nova-registry-check) to the production registry's address on the
 * sandbox, as a site's egress proxy and CA would: HTTPS_PROXY to the front, its CA as the trust store, and the
 * credentials of `authFile` (docker-config form; default the pushing account's).
 */
export function productionRegistryEnv(
  authFile: string = SANDBOX.authRegistry.pusherAuthFile,
): Record<string, string> {
  return {
    HTTPS_PROXY: SANDBOX.productionRegistry.proxy,
    NO_PROXY: "127.0.0.1,localhost",
    SSL_CERT_FILE: SANDBOX.productionRegistry.caFile,
    REGISTRY_AUTH_FILE: authFile,
  };
}

/**
 * The sandbox CA as a trusted root of the Node processes the tests start (the engine's program and probes, the CLI),
 * as a site's CA would be installed: the sandbox's Ingress load balancer serves certificates of that CA, where
 * production's managed certificates are publicly trusted.
 */
export function sandboxTrustEnv(): Record<string, string> {
  return { NODE_EXTRA_CA_CERTS: SANDBOX.ingress.caFile };
}

/** The environment for every pulumi/kubectl call: process.env plus the toolchain's variables. */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) merged[k] = v;
  return { ...merged, ...toolchainEnv(REPO_ROOT), ...sandboxTrustEnv(), ...extra };
}

/** Throws (never skips) when a toolchain binary or plugin is missing; the message says `npm run setup`. */
export function requireToolchainOrThrow(): string {
  return requireToolchain(REPO_ROOT);
}

/** The PulumiCommand of the cached CLI (its bin/pulumi is the symlink in the cache). */
export async function pulumiCommand(): Promise<PulumiCommand> {
  requireToolchainOrThrow();
  return PulumiCommand.get({ root: cacheDir() });
}

/** Runs a binary from the toolchain environment and returns stdout. */
export async function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string } = {},
): Promise<string> {
  const { stdout } = await execFileAsync(cmd, [...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: testEnv(),
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** kubectl against the sandbox cluster. */
export async function kubectl(...args: string[]): Promise<string> {
  return run("kubectl", ["--kubeconfig", SANDBOX.kubeconfig, "--context", SANDBOX.context, ...args]);
}

/** Removes the sandbox cluster's marker (one per cluster), as a test that set or made one leaves the cluster. */
export async function removeClusterMarker(): Promise<void> {
  await kubectl(
    "-n",
    CLUSTER_MARKER.namespace,
    "delete",
    "configmap",
    CLUSTER_MARKER.name,
    "--ignore-not-found",
  );
}

/** Whether the running stand-ins were started from the current tools/sandbox/standins.mjs (up.sh records its sha256). */
function standinsCurrent(): boolean {
  const script = fs.readFileSync(path.join(REPO_ROOT, "tools", "sandbox", "standins.mjs"));
  const want = crypto.createHash("sha256").update(script).digest("hex");
  try {
    return fs.readFileSync(path.join(SANDBOX.dir, "pids", "standins.sha256"), "utf8").trim() === want;
  } catch {
    return false;
  }
}

async function sandboxHealthy(): Promise<boolean> {
  if (!fs.existsSync(SANDBOX.kubeconfig)) return false;
  // Older stand-ins lack endpoints the tests use: up.sh restarts them.
  if (!standinsCurrent()) return false;
  try {
    await kubectl("get", "--raw", "/readyz");
    const res = await fetch(`${SANDBOX.standins.api}/__mode`);
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Makes sure the sandbox is up: a healthy sandbox is left alone, otherwise tools/sandbox/up.sh runs (it is
 * idempotent and restarts only what is down). Throws with the script's output tail when it fails.
 */
export async function ensureSandbox(): Promise<void> {
  requireToolchainOrThrow();
  if (await sandboxHealthy()) return;
  try {
    await execFileAsync("bash", [path.join(REPO_ROOT, "tools", "sandbox", "up.sh")], {
      cwd: REPO_ROOT,
      env: testEnv(),
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const tail = `${e.stdout ?? ""}\n${e.stderr ?? ""}`.trim().split("\n").slice(-40).join("\n");
    throw new Error(`sandbox did not come up (tools/sandbox/up.sh):\n${tail}`);
  }
}

/** A fresh file-backend directory (file://...) for one test; removed by the returned cleanup function. */
export function tempBackend(prefix = "nova-it-"): { url: string; dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { url: `file://${dir}`, dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface StackOptions {
  /** Stack name, e.g. "it-rollout". */
  readonly stackName: string;
  /** File backend URL (see tempBackend). Defaults to the repository's .pulumi-local/state. */
  readonly backendUrl?: string;
  /** Stack config values (plain); keys without a namespace get the project's. */
  readonly config?: Readonly<Record<string, string>>;
  /** Stack config values stored as secrets. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** Extra environment for the engine. */
  readonly env?: Readonly<Record<string, string>>;
  /** Project directory (default: the repository); e.g. a production-shaped checkout made by `productionCheckout`. */
  readonly workDir?: string;
}

/**
 * The passphrase of every stack the integration tests create (in their own temp file backends). Test-only and public,
 * like the sandbox passphrase, but distinct from it, so no test stack can be opened with the sandbox defaults.
 */
export const TEST_PASSPHRASE = "nova-integration-test-only";

/**
 * Points the CLI functions (`release`, `rollBack`, … which open stacks from `process.env`) at a test backend: sets
 * `process.env.PULUMI_BACKEND_URL` to `url` and `process.env.PULUMI_CONFIG_PASSPHRASE` to {@link TEST_PASSPHRASE}, since
 * the toolchain environment no longer supplies defaults for stacks other than `local` (a PULUMI_CONFIG_PASSPHRASE_FILE of
 * the caller's shell is removed meanwhile). Returns a function restoring all three variables as they were.
 */
export function useTestBackend(url: string): () => void {
  const previous = {
    PULUMI_BACKEND_URL: process.env.PULUMI_BACKEND_URL,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE,
    PULUMI_CONFIG_PASSPHRASE_FILE: process.env.PULUMI_CONFIG_PASSPHRASE_FILE,
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
  };
  process.env.PULUMI_BACKEND_URL = url;
  process.env.PULUMI_CONFIG_PASSPHRASE = TEST_PASSPHRASE;
  delete process.env.PULUMI_CONFIG_PASSPHRASE_FILE;
  // The engines the CLI functions start in this process trust the sandbox CA, as the CLI's own processes do.
  Object.assign(process.env, sandboxTrustEnv());
  return () => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

async function workspaceOptions(opts: StackOptions, workDir?: string): Promise<LocalWorkspaceOptions> {
  // No sandbox defaults: the backend is the test's own (or, when none is given, the repository's file backend as
  // before) and the passphrase is always the test passphrase, whatever the caller's shell has set.
  const envVars = toolchainEnv(REPO_ROOT);
  const sandboxBackend = toolchainEnv(REPO_ROOT, process.env, { sandboxDefaults: true }).PULUMI_BACKEND_URL;
  envVars.PULUMI_BACKEND_URL =
    opts.backendUrl !== undefined && opts.backendUrl !== "" ? opts.backendUrl : (sandboxBackend ?? "");
  envVars.PULUMI_CONFIG_PASSPHRASE = TEST_PASSPHRASE;
  return {
    ...(workDir ? { workDir } : {}),
    pulumiHome: envVars.PULUMI_HOME,
    pulumiCommand: await pulumiCommand(),
    envVars: { ...envVars, ...sandboxTrustEnv(), ...(opts.env ?? {}) },
    secretsProvider: "passphrase",
  };
}

async function applyConfig(stack: Stack, opts: StackOptions): Promise<void> {
  const entries: Record<string, { value: string; secret: boolean }> = {};
  // A JSON list (metricChecks, alertMatchers) is structured config, as Pulumi.yaml declares those keys.
  const lists: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.config ?? {})) {
    if (/^\s*\[/.test(v)) lists[k] = v;
    else entries[k] = { value: v, secret: false };
  }
  for (const [k, v] of Object.entries(opts.secrets ?? {})) entries[k] = { value: v, secret: true };
  if (Object.keys(entries).length > 0) await stack.setAllConfig(entries);
  if (Object.keys(lists).length > 0) {
    const doc = Object.fromEntries(
      Object.entries(lists).map(([k, v]) => [
        k,
        { value: v, secret: false, objectValue: JSON.parse(v) as unknown },
      ]),
    );
    await stack.setAllConfigJson(JSON.stringify(doc));
  }
}

/**
 * Creates or selects a stack of the repository's program (workDir = repo root, Pulumi.yaml there) with the
 * offline toolchain environment and passphrase secrets, then applies the given config.
 */
export async function createOrSelectProjectStack(opts: StackOptions): Promise<Stack> {
  requireToolchainOrThrow();
  const workDir = opts.workDir ?? REPO_ROOT;
  const args: LocalProgramArgs = { stackName: opts.stackName, workDir };
  const stack = await LocalWorkspace.createOrSelectStack(args, await workspaceOptions(opts, workDir));
  await applyConfig(stack, opts);
  return stack;
}

/** Creates or selects a stack of an inline program (its own project name) with the same environment. */
export async function createOrSelectInlineStack(
  projectName: string,
  program: PulumiFn,
  opts: StackOptions,
): Promise<Stack> {
  requireToolchainOrThrow();
  const args: InlineProgramArgs = { projectName, stackName: opts.stackName, program };
  const wsOpts = await workspaceOptions(opts);
  const stack = await LocalWorkspace.createOrSelectStack(args, {
    ...wsOpts,
    projectSettings: {
      name: projectName,
      runtime: "nodejs",
      backend: { url: wsOpts.envVars?.PULUMI_BACKEND_URL },
    },
  });
  await applyConfig(stack, opts);
  return stack;
}

/** Sets a stand-in endpoint's answer: setStandinMode("api", 500) makes /v1/health and /v1/metrics answer 500. */
export async function setStandinMode(name: StandinName, status: number, body?: unknown): Promise<void> {
  const res = await fetch(`${SANDBOX.standins[name]}/__mode`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body === undefined ? { status } : { status, body }),
  });
  if (!res.ok) throw new Error(`stand-in ${name}: POST /__mode answered ${res.status}`);
}

/** An alert for the Alertmanager stand-in: its labels, and whether a silence or an inhibition suppresses it. */
export interface StandinAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly silenced?: boolean;
  readonly inhibited?: boolean;
}

/**
 * Replaces the alerts the Alertmanager stand-in reports (it selects them with the query's `filter` matchers as
 * Alertmanager does); with `authorization`, it answers 401 to a request without that Authorization header. With
 * `resolve`, they answer `after` queries, then `then` replaces them (an alert that resolves).
 */
export async function setAlerts(
  alerts: readonly StandinAlert[],
  authorization?: string,
  resolve?: { readonly after: number; readonly then: readonly StandinAlert[] },
): Promise<void> {
  const res = await fetch(`${SANDBOX.standins.alertmanager}/__alerts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      alerts,
      ...(authorization !== undefined ? { authorization } : {}),
      ...(resolve !== undefined ? { for: resolve.after, then: resolve.then } : {}),
    }),
  });
  if (!res.ok) throw new Error(`stand-in alertmanager: POST /__alerts answered ${res.status}`);
}

/**
 * Restores every stand-in to 200, the Alertmanager stand-in to no alerts and no authorization, and the Prometheus
 * stand-in to "no data" for every query.
 */
export async function resetStandins(): Promise<void> {
  for (const name of Object.keys(SANDBOX.standins) as StandinName[]) await setStandinMode(name, 200);
  const alerts = await fetch(`${SANDBOX.standins.alertmanager}/__alerts`, {
    method: "POST",
    body: JSON.stringify({ reset: true }),
  });
  if (!alerts.ok) throw new Error(`stand-in alertmanager: reset answered ${alerts.status}`);
  const res = await fetch(`${SANDBOX.prometheus}/__metrics`, {
    method: "POST",
    body: JSON.stringify({ reset: true }),
  });
  if (!res.ok) throw new Error(`stand-in prometheus: reset answered ${res.status}`);
}

/**
 * A `grafana` notification channel on the Grafana stand-in (its earlier annotations forgotten), whose annotations API
 * then requires `authorization` (the secret value of `nova-rollout:notifyChannels`).
 */
export async function grafanaChannel(authorization: string): Promise<string> {
  for (const body of [{ reset: true }, { authorization }]) {
    const res = await fetch(`${SANDBOX.standins.grafana}/__grafana`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`stand-in grafana: answered ${res.status}`);
  }
  return JSON.stringify({ grafana: { kind: "grafana", url: SANDBOX.standins.grafana, authorization } });
}

/** The Grafana stand-in's annotations carrying every tag, newest first (read with the channel's authorization). */
export async function grafanaAnnotations(
  tags: readonly string[],
  authorization: string,
): Promise<{ tags: string[]; text: string; time: number }[]> {
  const query = tags.map((t) => `tags=${encodeURIComponent(t)}`).join("&");
  const res = await fetch(`${SANDBOX.standins.grafana}/api/annotations?${query}`, {
    headers: { authorization },
  });
  if (!res.ok) throw new Error(`stand-in grafana: annotations answered ${res.status}`);
  return (await res.json()) as { tags: string[]; text: string; time: number }[];
}

/** The digests of the sandbox images, as written by tools/sandbox/build-images.mjs. */
export function sandboxImageDigests(): { api: string; worker: string } {
  const read = (n: string) => fs.readFileSync(path.join(SANDBOX.dir, "images", `${n}.digest`), "utf8").trim();
  return { api: read("nova-rms-api"), worker: read("nova-rms-worker") };
}

/** Synchronous `pulumi` call with the toolchain env (for quick checks such as `pulumi version`). */
export function pulumiSync(args: readonly string[]): string {
  return execFileSync("pulumi", [...args], { cwd: REPO_ROOT, env: testEnv(), encoding: "utf8" });
}

/** Deletes namespaces a previous, interrupted run may have left on the sandbox (their objects would conflict). */
export async function freshNamespaces(...names: string[]): Promise<void> {
  // The chart's cluster-scoped objects (PriorityClasses `<namespace>-nova-*`) outlive a namespace: an interrupted
  // run's would conflict with the next run's server-side apply.
  const clusterScoped = (await kubectl("get", "priorityclass", "-o", "name")).split("\n").filter(Boolean);
  for (const name of names) {
    await kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=true", "--timeout=120s");
    for (const obj of clusterScoped.filter((o) => o.split("/").pop()?.startsWith(`${name}-nova-`))) {
      await kubectl("delete", obj, "--ignore-not-found");
    }
  }
}

/**
 * Sets what the Prometheus stand-in answers for `query` (null: no data); with `limit`, it answers `value` that many
 * times, then `limit.then`.
 */
export async function setMetric(
  query: string,
  value: number | null,
  limit?: { readonly for: number; readonly then: number | null },
): Promise<void> {
  const res = await fetch(`${SANDBOX.prometheus}/__metrics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query,
      value,
      ...(limit !== undefined ? { for: limit.for, then: limit.then } : {}),
    }),
  });
  if (!res.ok) throw new Error(`stand-in prometheus: POST /__metrics answered ${res.status}`);
}

/** The sandbox stack file (`Pulumi.local.yaml`) aimed at another registry, written as `Pulumi.<stack>.yaml` in `dir`. */
export function sandboxStackFileFor(dir: string, stack: string, imageRegistry: string): string {
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  const text = fs
    .readFileSync(path.join(REPO_ROOT, "Pulumi.local.yaml"), "utf8")
    .replace(
      `nova-rollout:imageRegistry: ${SANDBOX.imageRegistry}`,
      `nova-rollout:imageRegistry: ${imageRegistry}`,
    );
  fs.writeFileSync(file, text);
  return file;
}
