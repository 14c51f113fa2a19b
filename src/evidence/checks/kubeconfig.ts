/**
 * Cluster access, by `clusterMode`: for `kubeconfig` the kubeconfig exists and names the configured context; for
 * `gke` the GKE cluster exists, the caller's credentials resolve and it is RUNNING ({@link checkGkeCluster}).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { parse as parseYaml } from "yaml";
import { type CheckResult } from "../model";
import { result } from "./types";

const TITLE = "Kubeconfig names the configured context";

/**
 * @param text the kubeconfig content, or undefined when the file does not exist. Only context names are read; the
 * file is not recorded as an artifact because credentials in it rotate.
 */
export function checkKubeconfig(
  text: string | undefined,
  displayPath: string,
  context: string | undefined,
): CheckResult {
  const threshold = context === undefined ? "kubeconfigContext configured" : `context "${context}" present`;
  const remedy =
    context === undefined
      ? "pulumi config set nova-rollout:kubeconfigContext <context>"
      : `kubectl config --kubeconfig ${displayPath} get-contexts (create or rename context "${context}")`;
  if (text === undefined) {
    return result("kubeconfig", TITLE, false, `${displayPath} does not exist`, threshold, null, remedy);
  }
  let names: string[];
  try {
    const doc = parseYaml(text) as { contexts?: { name?: unknown }[] } | null;
    names = (doc?.contexts ?? []).map((c) => c.name).filter((n): n is string => typeof n === "string");
  } catch {
    return result("kubeconfig", TITLE, false, `${displayPath} is not valid YAML`, threshold, null, remedy);
  }
  const pass = context !== undefined && names.includes(context);
  return result(
    "kubeconfig",
    TITLE,
    pass,
    `${displayPath} has contexts [${names.join(", ")}]`,
    threshold,
    null,
    remedy,
  );
}

/** What a GKE access probe learned: `ok` when the cluster exists, credentials resolve and it is RUNNING. */
export interface GkeAccess {
  readonly ok: boolean;
  /** What was seen, e.g. `status RUNNING` or the first line of gcloud's error. */
  readonly detail: string;
}

/** Probes a GKE cluster; inject a fake in tests. */
export type GkeClusterAccessFn = (project: string, region: string, name: string) => Promise<GkeAccess>;

/** The subset of `child_process.execFile` (promisified) the default probe uses. */
export type ExecFileLike = (
  file: string,
  args: readonly string[],
  options: { readonly timeout: number },
) => Promise<{ readonly stdout: string; readonly stderr: string }>;

/** The gcloud arguments that describe a cluster's status. */
export function gcloudDescribeArgs(project: string, region: string, name: string): string[] {
  return [
    "container",
    "clusters",
    "describe",
    name,
    "--project",
    project,
    "--region",
    region,
    "--format=value(status)",
  ];
}

const defaultExecFile: ExecFileLike = async (file, args, options) => {
  const { stdout, stderr } = await promisify(execFile)(file, [...args], {
    timeout: options.timeout,
    encoding: "utf8",
  });
  return { stdout, stderr };
};

/**
 * The default GKE probe: `gcloud container clusters describe <name> --project … --region …
 * --format=value(status)`. The cluster exists and the caller's gcloud credentials resolve when the command
 * succeeds; it passes only when the status is `RUNNING`. (`@pulumi/gcp`'s `container.getCluster` is an invoke and
 * needs a running Pulumi program, so it cannot be used by the preflight.)
 */
export function gcloudClusterAccess(
  exec: ExecFileLike = defaultExecFile,
  timeoutMs = 60_000,
): GkeClusterAccessFn {
  return async (project, region, name) => {
    try {
      const { stdout } = await exec("gcloud", gcloudDescribeArgs(project, region, name), {
        timeout: timeoutMs,
      });
      const status = stdout.trim().split(/\r?\n/)[0]?.trim() ?? "";
      return {
        ok: status === "RUNNING",
        detail: status.length === 0 ? "gcloud returned no status" : `status ${status}`,
      };
    } catch (e) {
      const err = e as Error & { stderr?: unknown; code?: unknown };
      const stderr = typeof err.stderr === "string" ? err.stderr.trim() : "";
      const first =
        (stderr.length > 0 ? stderr : err.message)
          .split(/\r?\n/)
          .find((l) => l.trim().length > 0)
          ?.trim() ?? "unknown error";
      return {
        ok: false,
        detail: err.code === "ENOENT" ? "gcloud is not installed (not on PATH)" : `gcloud failed: ${first}`,
      };
    }
  };
}

/**
 * The cluster-access check of a `clusterMode: gke` stack (check id `kubeconfig`): the GKE cluster exists and the
 * caller's credentials resolve, i.e. the probe reports it `RUNNING`. A GKE stack has no kubeconfig file to read; the
 * program builds its kubeconfig from the cluster.
 */
export async function checkGkeCluster(opts: {
  readonly gcpProject: string | undefined;
  readonly gcpRegion: string | undefined;
  readonly gkeClusterName: string | undefined;
  readonly access: GkeClusterAccessFn;
}): Promise<CheckResult> {
  const title = "GKE cluster exists and credentials resolve";
  const { gcpProject: project, gcpRegion: region, gkeClusterName: name } = opts;
  if (project === undefined || region === undefined || name === undefined) {
    const missing = [
      ...(project === undefined ? ["gcpProject"] : []),
      ...(region === undefined ? ["gcpRegion"] : []),
      ...(name === undefined ? ["gkeClusterName"] : []),
    ];
    return result(
      "kubeconfig",
      title,
      false,
      `clusterMode gke without ${missing.join(", ")}`,
      "gcpProject, gcpRegion and gkeClusterName configured",
      null,
      missing.map((k) => `pulumi config set nova-rollout:${k} <value>`).join(" && "),
    );
  }
  const threshold = `gcloud container clusters describe ${name} --project ${project} --region ${region} reports status RUNNING`;
  const remedy = `gcloud auth login && gcloud container clusters describe ${name} --project ${project} --region ${region} --format='value(status)'`;
  let access: GkeAccess;
  try {
    access = await opts.access(project, region, name);
  } catch (e) {
    access = { ok: false, detail: (e as Error).message.split("\n")[0] ?? "unknown error" };
  }
  return result(
    "kubeconfig",
    title,
    access.ok,
    `GKE cluster ${project}/${region}/${name}: ${access.detail}`,
    threshold,
    null,
    remedy,
  );
}
