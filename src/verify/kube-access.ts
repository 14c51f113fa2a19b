/**
 * How the checks that go through the Kubernetes API (a port-forward, an Ingress's address) reach the cluster: kubectl
 * with the release's kubeconfig, written to a private file only while kubectl runs.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The cluster connection of a check. */
export interface KubeAccess {
  /** Kubeconfig contents; when not set, kubectl reads its own default (`KUBECONFIG`, `~/.kube/config`). */
  readonly kubeconfig?: string;
  /** The kubectl binary (default `kubectl` on PATH). */
  readonly kubectl?: string;
}

/**
 * Runs `use` with the path of a 0600 copy of the kubeconfig (undefined when `kubeconfig` is not set), and removes the
 * copy afterwards, whether `use` succeeded or not.
 */
export async function withKubeconfigFile<T>(
  kubeconfig: string | undefined,
  use: (file: string | undefined) => Promise<T>,
): Promise<T> {
  if (kubeconfig === undefined) return use(undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-kube-"));
  const file = path.join(dir, "kubeconfig");
  try {
    fs.writeFileSync(file, kubeconfig, { mode: 0o600 });
    return await use(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** kubectl's connection flags: the kubeconfig file and the context, when given. Pure. */
export function connectionArgs(kubeconfigFile: string | undefined, context: string | undefined): string[] {
  return [
    ...(kubeconfigFile !== undefined ? ["--kubeconfig", kubeconfigFile] : []),
    ...(context !== undefined ? ["--context", context] : []),
  ];
}
