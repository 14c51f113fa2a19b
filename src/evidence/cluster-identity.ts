/**
 * What a kubeconfig target is, told by the cluster rather than by how it is addressed: the production marker the
 * platform stack writes into its clusters (`CLUSTER_MARKER`), read with the context's own credentials; and, as a second
 * line, the API server URL normalised (scheme and host case, default port, trailing slash, loopback spellings), so a
 * committed `kubeServers` entry matches however a kubeconfig spells it.
 */
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { MarkerResult } from "./cluster-marker-read";

export type { MarkerResult } from "./cluster-marker-read";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1", "0.0.0.0"]);

/**
 * A Kubernetes API server URL in one spelling: lower-case scheme and host, no default port (443 for https, 80 for
 * http), no trailing slash, every loopback name as 127.0.0.1. Undefined when it is not a URL.
 */
export function normalizeServer(server: string): string | undefined {
  let url: URL;
  try {
    url = new URL(server.trim());
  } catch {
    return undefined;
  }
  const host = LOOPBACK.has(url.hostname.toLowerCase()) ? "127.0.0.1" : url.hostname.toLowerCase();
  const port = url.port === "" ? "" : `:${url.port}`;
  const pathname = url.pathname.replace(/\/+$/, "");
  return `${url.protocol}//${host}${port}${pathname}`;
}

/** A kubeconfig path as kubectl reads it: `~/` is the home directory, relative paths resolve against `base`. */
export function resolveKubeconfigPath(base: string, file: string): string {
  if (file === "~") return os.homedir();
  if (file.startsWith("~/")) return path.join(os.homedir(), file.slice(2));
  return path.resolve(base, file);
}

const markers = new Map<string, MarkerResult>();

/**
 * Where the compiled marker reader is: beside this module when it runs compiled (`dist/src/evidence`), else in the
 * build output of the repository this source file belongs to (tests run the sources).
 */
function readerScript(): string | undefined {
  const candidates = [
    path.join(__dirname, "cluster-marker-read.js"),
    path.resolve(__dirname, "..", "..", "dist", "src", "evidence", "cluster-marker-read.js"),
  ];
  return candidates.find((c) => fs.existsSync(c));
}

/** The cache key of a marker read: the kubeconfig's path, the context and the kubeconfig's content. */
function markerKey(kubeconfig: string, kubeconfigText: string, context: string | undefined): string {
  return `${kubeconfig}\0${context ?? ""}\0${createHash("sha256").update(kubeconfigText).digest("hex")}`;
}

/** What the reader is given on stdin. */
function readerInput(kubeconfig: string, context: string | undefined): string {
  return JSON.stringify({ kubeconfig, ...(context !== undefined ? { context } : {}), timeoutMs: 10_000 });
}

const NOT_BUILT: MarkerResult = {
  status: "unknown",
  reason: "the cluster marker reader is not built (run `npm run build`)",
};

const readerFailed = (err: unknown): MarkerResult => ({
  status: "unknown",
  reason: `the cluster marker reader failed: ${(err as Error).message.split("\n")[0] ?? ""}`,
});

/**
 * Reads the production marker of the cluster a kubeconfig context reaches (once per process for the same kubeconfig
 * content and context). Synchronous: the program guard and the policies classify before anything else runs. Any
 * failure is `unknown` with the reason; callers treat unknown as production.
 */
export function readClusterMarker(
  kubeconfig: string,
  kubeconfigText: string,
  context: string | undefined,
): MarkerResult {
  const key = markerKey(kubeconfig, kubeconfigText, context);
  const cached = markers.get(key);
  if (cached !== undefined) return cached;
  const script = readerScript();
  let result: MarkerResult;
  if (script === undefined) {
    result = NOT_BUILT;
  } else {
    try {
      const out = execFileSync(process.execPath, [script], {
        input: readerInput(kubeconfig, context),
        timeout: 20_000,
        stdio: ["pipe", "pipe", "ignore"],
      }).toString("utf8");
      result = JSON.parse(out) as MarkerResult;
    } catch (err) {
      result = readerFailed(err);
    }
  }
  markers.set(key, result);
  return result;
}

/**
 * {@link readClusterMarker} without blocking: the same reader in a child process, its result kept for the process, so
 * a classification after it answers at once. The CLI starts it side by side with its first engine runs. Never rejects.
 */
export function prefetchClusterMarker(
  kubeconfig: string,
  kubeconfigText: string,
  context: string | undefined,
): Promise<void> {
  const key = markerKey(kubeconfig, kubeconfigText, context);
  const script = readerScript();
  if (markers.has(key)) return Promise.resolve();
  if (script === undefined) {
    markers.set(key, NOT_BUILT);
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    const child = execFile(
      process.execPath,
      [script],
      { timeout: 20_000, maxBuffer: 1024 * 1024 },
      (err, stdout) => {
        let result: MarkerResult;
        if (err !== null) {
          result = readerFailed(err);
        } else {
          try {
            result = JSON.parse(stdout) as MarkerResult;
          } catch (e) {
            result = readerFailed(e);
          }
        }
        // A synchronous read that finished first keeps its result.
        if (!markers.has(key)) markers.set(key, result);
        resolve();
      },
    );
    child.stdin?.end(readerInput(kubeconfig, context));
  });
}
