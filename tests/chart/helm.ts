/**
 * Helpers for the chart tests: find the project's helm binary, run it, and parse rendered manifests.
 *
 * helm is looked up in this order (the first that exists wins):
 *   1. `$HELM_BIN` (if set it must exist — a wrong path is an error, not a silent fallback);
 *   2. `${NOVA_CACHE_DIR:-$HOME/.cache/nova-rollout}/bin/helm` (built by `npm run setup`);
 *   3. `helm` on PATH.
 * If none exists the tests fail (never skip) and say how to get one.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";

/** Absolute path of the chart under test. */
export const CHART_DIR = resolve(__dirname, "../../charts/nova-stack");

/** A rendered Kubernetes object, loosely typed: tests read it through the accessors below. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/** Outcome of one helm invocation. */
export interface HelmResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The command line, for failure messages. */
  readonly command: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where the toolchain cache keeps a binary of the offline toolchain (`npm run setup`). */
export function cachedToolPath(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const cacheDir = env.NOVA_CACHE_DIR || join(env.HOME || homedir(), ".cache", "nova-rollout");
  return join(cacheDir, "bin", name);
}

/** Where the toolchain cache keeps helm. */
export function cachedHelmPath(env: NodeJS.ProcessEnv = process.env): string {
  return cachedToolPath("helm", env);
}

/**
 * Resolves a toolchain binary: `$<envVar>` (must exist when set), then the toolchain cache, then PATH. Throws an
 * error naming where it looked and how to get one; the chart tests never skip.
 */
export function findTool(
  name: string,
  envVar: string,
  wanted: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const explicit = env[envVar];
  if (explicit !== undefined && explicit !== "") {
    if (!isExecutable(explicit)) {
      throw new Error(`${envVar}=${explicit} is not an executable file. Unset it or point it at ${wanted}.`);
    }
    return explicit;
  }
  const cached = cachedToolPath(name, env);
  if (isExecutable(cached)) {
    return cached;
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) {
      return candidate;
    }
  }
  throw new Error(
    `${name} not found (looked at $${envVar}, ${cached} and PATH). ` +
      `Run \`npm run setup\` to build the offline toolchain (${wanted}), or set ${envVar} to a ${name} binary.`,
  );
}

/**
 * Resolves the helm binary or throws an error telling the reader how to get one.
 */
export function findHelm(env: NodeJS.ProcessEnv = process.env): string {
  return findTool("helm", "HELM_BIN", "helm v3.18.x", env);
}

/** Resolves the kube-score binary (`$KUBE_SCORE_BIN`, the toolchain cache, PATH) or throws. */
export function findKubeScore(env: NodeJS.ProcessEnv = process.env): string {
  return findTool("kube-score", "KUBE_SCORE_BIN", "kube-score v1.20.x", env);
}

/** Runs helm with the given arguments; never throws on a non-zero exit. */
export function runHelm(args: readonly string[]): HelmResult {
  const helm = findHelm();
  const result = spawnSync(helm, [...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: {
      ...process.env,
      // Keep helm away from the user's repositories/plugins and from the network.
      HELM_CACHE_HOME: join(process.env.TMPDIR ?? "/tmp", "nova-chart-tests-helm", "cache"),
      HELM_CONFIG_HOME: join(process.env.TMPDIR ?? "/tmp", "nova-chart-tests-helm", "config"),
      HELM_DATA_HOME: join(process.env.TMPDIR ?? "/tmp", "nova-chart-tests-helm", "data"),
    },
  });
  return toResult(result, [helm, ...args]);
}

/** Turns `{ "api.image.digest": "sha256:…" }` into `--set-string k=v` pairs (strings) or `--set` (others). */
export function setArgs(values: Readonly<Record<string, string | number | boolean>>): string[] {
  return Object.entries(values).flatMap(([key, value]) =>
    typeof value === "string" ? ["--set-string", `${key}=${value}`] : ["--set", `${key}=${String(value)}`],
  );
}

/** Options shared by `template` and `lint`. */
export interface RenderOptions {
  /** Values files relative to the chart directory, applied in order after values.yaml. */
  readonly valuesFiles?: readonly string[];
  /** `--set`/`--set-string` overrides. */
  readonly set?: Readonly<Record<string, string | number | boolean>>;
  /** Extra raw helm arguments. */
  readonly extraArgs?: readonly string[];
}

function valuesArgs(options: RenderOptions): string[] {
  return [
    ...(options.valuesFiles ?? []).flatMap((file) => ["--values", join(CHART_DIR, file)]),
    ...setArgs(options.set ?? {}),
    ...(options.extraArgs ?? []),
  ];
}

/** `helm template` of the chart (release `nova-release`, namespace `nova-test`); does not throw on failure. */
export function helmTemplate(options: RenderOptions = {}): HelmResult {
  return runHelm(["template", "nova-release", CHART_DIR, "--namespace", "nova-test", ...valuesArgs(options)]);
}

/** `helm lint --strict` of the chart; does not throw on failure. */
export function helmLint(options: RenderOptions = {}): HelmResult {
  return runHelm(["lint", "--strict", CHART_DIR, "--namespace", "nova-test", ...valuesArgs(options)]);
}

/** Parses a multi-document YAML stream, failing on any YAML error, and drops empty documents. */
export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new Error(`invalid YAML in rendered manifests: ${doc.errors.map((e) => e.message).join("; ")}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new Error(`rendered document is not a mapping: ${JSON.stringify(value)}`);
    }
    const obj = value as Partial<K8sObject>;
    if (
      typeof obj.apiVersion !== "string" ||
      typeof obj.kind !== "string" ||
      typeof obj.metadata?.name !== "string"
    ) {
      throw new Error(`rendered document lacks apiVersion/kind/metadata.name: ${JSON.stringify(value)}`);
    }
    objects.push(obj as K8sObject);
  }
  return objects;
}

/** Renders and parses; throws with helm's stderr when the render fails. */
export function renderChart(options: RenderOptions = {}): K8sObject[] {
  const result = helmTemplate(options);
  if (result.status !== 0) {
    throw new Error(`${result.command} failed (${result.status}):\n${result.stderr}`);
  }
  return parseManifests(result.stdout);
}

/** The objects of one kind. */
export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** The single object of a kind and name; throws when absent. */
export function getObject(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) {
    const present = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ");
    throw new Error(`${kind}/${name} not rendered (present: ${present})`);
  }
  return found;
}

/** Reads a nested property by path, e.g. `at(obj, "spec", "template", "spec")`. */
export function at(value: unknown, ...path: readonly (string | number)[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** A loosely typed container spec. */
export type Container = Readonly<Record<string, unknown>> & { readonly name: string };

/** The pod spec of a Deployment or a CronJob. */
export function podSpecOf(obj: K8sObject): Record<string, unknown> {
  const spec =
    obj.kind === "CronJob"
      ? at(obj, "spec", "jobTemplate", "spec", "template", "spec")
      : at(obj, "spec", "template", "spec");
  if (spec === null || typeof spec !== "object") {
    throw new Error(`${obj.kind}/${obj.metadata.name} has no pod spec`);
  }
  return spec as Record<string, unknown>;
}

/** All containers (init containers included) of a workload. */
export function containersOf(obj: K8sObject): Container[] {
  const spec = podSpecOf(obj);
  const list = [
    ...((spec.initContainers as Container[] | undefined) ?? []),
    ...((spec.containers as Container[] | undefined) ?? []),
  ];
  if (list.length === 0) throw new Error(`${obj.kind}/${obj.metadata.name} has no containers`);
  return list;
}

/** Runs kube-score with the given arguments and stdin; never throws on a non-zero exit. */
export function runKubeScore(args: readonly string[], input = ""): HelmResult {
  const kubeScore = findKubeScore();
  const result = spawnSync(kubeScore, [...args], { encoding: "utf8", timeout: 60_000, input });
  return toResult(result, [kubeScore, ...args]);
}

/** A finished tool run as a result (a run that could not start throws). */
function toResult(
  result: { error?: Error; status: number | null; stdout: string; stderr: string },
  argv: readonly string[],
): HelmResult {
  if (result.error) {
    throw result.error;
  }
  return {
    status: result.status ?? -1,
    stdout: result.stdout,
    stderr: result.stderr,
    command: argv.join(" "),
  };
}
