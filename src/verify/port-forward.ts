/**
 * The playbook's worker check, `kubectl port-forward deploy/nova-worker 9001:3001` then `curl /readyz`, made by the
 * check itself: a port-forward through the Kubernetes API server to one pod of the Deployment, on a free loopback
 * port, torn down when the request is done. Nothing outside the cluster needs to reach the worker (the chart's
 * default-deny NetworkPolicy stays closed), and no external URL is involved.
 */
import { spawn } from "node:child_process";
import type { Attempt } from "./check-result";
import { connectionArgs, withKubeconfigFile, type KubeAccess } from "./kube-access";

/** Where the forward goes: a workload's container port, through one kubeconfig's context. */
export interface ForwardTarget {
  /** The namespace of the workload. */
  readonly namespace: string;
  /** `deploy/<name>`: kubectl picks one running pod of it, as the playbook's command does. */
  readonly resource: string;
  /** The container port (the worker's 3001). */
  readonly port: number;
  /** Context inside the kubeconfig; its current context when not set. */
  readonly context?: string;
}

/** How the forward is made: the cluster connection (`./kube-access`) and how long kubectl waits for a pod. */
export interface ForwardAccess extends KubeAccess {
  /**
   * Seconds kubectl waits for a running pod of the workload (`--pod-running-timeout`); keep it under the attempt's
   * timeout, so a workload without a running pod fails the attempt with that reason. Default 5.
   */
  readonly podRunningTimeoutSeconds?: number;
}

/** The pod-running wait of a forward within an attempt of `attemptSeconds`: half of it, at least one second. Pure. */
export function podRunningTimeout(attemptSeconds: number): number {
  return Math.max(1, Math.floor(attemptSeconds / 2));
}

/** The line kubectl prints once the local port listens: `Forwarding from 127.0.0.1:41234 -> 3001`. */
const FORWARDING = /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/;

/** The arguments of the kubectl command that forwards a free loopback port to the target. Pure. */
export function portForwardArgs(
  target: ForwardTarget,
  kubeconfigFile?: string,
  podRunningTimeoutSeconds = 5,
): string[] {
  return [
    "port-forward",
    "--address",
    "127.0.0.1",
    `--pod-running-timeout=${podRunningTimeoutSeconds}s`,
    ...connectionArgs(kubeconfigFile, target.context),
    "--namespace",
    target.namespace,
    target.resource,
    `:${target.port}`,
  ];
}

/** `deploy/nova-worker:3001 in nova-prod`: how results name a forward. Pure. */
export function describeForward(target: ForwardTarget): string {
  return `${target.resource}:${target.port} in ${target.namespace}`;
}

/**
 * Runs `use` with the base URL of a port-forward to `target` (`http://127.0.0.1:<free port>`), then stops kubectl
 * and removes the kubeconfig copy, whether `use` succeeded or not. Fails with kubectl's own words when the forward
 * cannot be made (no running pod, no permission, an unreachable API server). `signal` aborts the wait and the forward.
 */
export async function withPortForward<T>(
  target: ForwardTarget,
  access: ForwardAccess,
  signal: AbortSignal,
  use: (baseUrl: string) => Promise<T>,
): Promise<T> {
  return withKubeconfigFile(access.kubeconfig, (file) => forwardWith(target, access, file, signal, use));
}

async function forwardWith<T>(
  target: ForwardTarget,
  access: ForwardAccess,
  file: string | undefined,
  signal: AbortSignal,
  use: (baseUrl: string) => Promise<T>,
): Promise<T> {
  const waitSeconds = access.podRunningTimeoutSeconds ?? 5;
  const child = spawn(access.kubectl ?? "kubectl", portForwardArgs(target, file, waitSeconds), {
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const localPort = await new Promise<string>((resolve, reject) => {
      let out = "";
      let err = "";
      const onAbort = () => reject(new Error(`no port-forward to ${describeForward(target)} in time`));
      signal.addEventListener("abort", onAbort, { once: true });
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const found = FORWARDING.exec(out);
        if (found?.[1] !== undefined) resolve(found[1]);
      });
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
      child.on("error", (e) => reject(new Error(`kubectl could not start: ${e.message}`)));
      child.on("exit", (code) => {
        const said = err.trim().split("\n").slice(-3).join(" ") || "no error text";
        // kubectl's words when no pod of the workload is running (none scheduled, scaled to zero, crash-looping).
        const hint = said.includes("timed out waiting for the condition")
          ? ` (no running pod of ${target.resource} within ${waitSeconds}s)`
          : "";
        reject(
          new Error(
            `kubectl port-forward to ${describeForward(target)} exited ${code ?? "on a signal"}: ${said}${hint}`,
          ),
        );
      });
    });
    return await use(`http://127.0.0.1:${localPort}`);
  } finally {
    child.kill("SIGTERM");
  }
}

/**
 * GET `<forward><path>` through a fresh port-forward for each attempt (a pod replaced between attempts is found
 * again), judged by `http` (the probe's `httpAttempt`); the detail names the forward, not the loopback port.
 */
export function forwardedHttpAttempt(
  target: ForwardTarget,
  urlPath: string,
  access: ForwardAccess,
  http: (url: string) => Attempt,
): Attempt {
  return (signal) =>
    withPortForward(target, access, signal, async (base) => {
      const where = `(port-forward to ${describeForward(target)})`;
      try {
        return `${(await http(`${base}${urlPath}`)(signal)).replaceAll(base, "")} ${where}`;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new Error(`${reason.replaceAll(base, "")} ${where}`);
      }
    });
}
