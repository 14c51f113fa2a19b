/**
 * Reads a cluster's production marker (see `CLUSTER_MARKER`) with the credentials of one kubeconfig context, the way
 * the kubernetes provider will reach that cluster: the context's server and CA, its client certificate, token or exec
 * credential plugin. Run as a child process (`node cluster-marker-read.js`, request as JSON on stdin, result as JSON on
 * stdout) so that the synchronous classification in `cluster-identity.ts` can wait for it. Never prints a credential.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { CLUSTER_MARKER } from "../contract";
import { isMainScript } from "../util/entry";

/** What the parent asks: the kubeconfig file and the context (undefined: the file's current context). */
export interface MarkerRequest {
  readonly kubeconfig: string;
  readonly context?: string;
  readonly timeoutMs?: number;
}

/** What the cluster says about itself. */
export type MarkerResult =
  | { readonly status: "marked"; readonly environment: string }
  | { readonly status: "unmarked" }
  | { readonly status: "unknown"; readonly reason: string };

interface NamedEntry<T> {
  readonly name?: string;
  readonly cluster?: T;
  readonly user?: T;
  readonly context?: T;
}
interface KubeconfigDoc {
  readonly "current-context"?: string;
  readonly contexts?: NamedEntry<{ cluster?: string; user?: string }>[];
  readonly clusters?: NamedEntry<Record<string, unknown>>[];
  readonly users?: NamedEntry<Record<string, unknown>>[];
}

interface Credentials {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  basic?: string;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);

/** Data inline (`<name>-data`, base64) or in a file (`<name>`, relative to the kubeconfig's directory). */
function material(entry: Record<string, unknown>, name: string, base: string): Buffer | undefined {
  const inline = str(entry[`${name}-data`]);
  if (inline !== undefined) return Buffer.from(inline, "base64");
  const file = str(entry[name]);
  return file === undefined ? undefined : fs.readFileSync(path.resolve(base, file));
}

function runExecPlugin(exec: Record<string, unknown>, base: string, timeoutMs: number): Promise<Credentials> {
  const command = str(exec.command);
  if (command === undefined) return Promise.reject(new Error("the exec credential plugin names no command"));
  const args = Array.isArray(exec.args) ? exec.args.map(String) : [];
  const extra = Array.isArray(exec.env)
    ? Object.fromEntries(
        (exec.env as { name?: unknown; value?: unknown }[]).map((e) => [String(e.name), String(e.value)]),
      )
    : {};
  const apiVersion = str(exec.apiVersion) ?? "client.authentication.k8s.io/v1";
  const info = JSON.stringify({ apiVersion, kind: "ExecCredential", spec: { interactive: false } });
  // A relative command path is relative to the kubeconfig, as kubectl resolves it.
  const bin = command.includes("/") && !path.isAbsolute(command) ? path.resolve(base, command) : command;
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      { env: { ...process.env, ...extra, KUBERNETES_EXEC_INFO: info }, timeout: timeoutMs },
      (err, stdout) => {
        if (err !== null) {
          reject(
            new Error(`the exec credential plugin ${command} failed: ${err.message.split("\n")[0] ?? ""}`),
          );
          return;
        }
        try {
          const status = (JSON.parse(stdout) as { status?: Record<string, unknown> }).status ?? {};
          const token = str(status.token);
          const cert = str(status.clientCertificateData);
          const key = str(status.clientKeyData);
          resolve({
            ...(token !== undefined ? { token } : {}),
            ...(cert !== undefined ? { cert: Buffer.from(cert) } : {}),
            ...(key !== undefined ? { key: Buffer.from(key) } : {}),
          });
        } catch {
          reject(new Error(`the exec credential plugin ${command} printed no ExecCredential`));
        }
      },
    );
  });
}

async function credentialsOf(
  user: Record<string, unknown>,
  base: string,
  timeoutMs: number,
): Promise<Credentials> {
  const out: Credentials = {};
  const cert = material(user, "client-certificate", base);
  const key = material(user, "client-key", base);
  if (cert !== undefined) out.cert = cert;
  if (key !== undefined) out.key = key;
  const token = str(user.token);
  if (token !== undefined) out.token = token;
  const tokenFile = str(user.tokenFile);
  if (tokenFile !== undefined) out.token = fs.readFileSync(path.resolve(base, tokenFile), "utf8").trim();
  const username = str(user.username);
  if (username !== undefined)
    out.basic = Buffer.from(`${username}:${str(user.password) ?? ""}`).toString("base64");
  if (user.exec !== undefined && user.exec !== null && typeof user.exec === "object") {
    Object.assign(out, await runExecPlugin(user.exec as Record<string, unknown>, base, timeoutMs));
  }
  if (user["auth-provider"] !== undefined && out.token === undefined && out.cert === undefined) {
    throw new Error(
      "the context's user authenticates with a legacy auth-provider, which cannot be read here",
    );
  }
  return out;
}

function get(
  url: URL,
  options: https.RequestOptions,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ...options, method: "GET", timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** Reads the marker of the cluster a kubeconfig context reaches. */
export async function readMarker(request: MarkerRequest): Promise<MarkerResult> {
  const timeoutMs = request.timeoutMs ?? 10_000;
  const unknown = (reason: string): MarkerResult => ({ status: "unknown", reason });
  let doc: KubeconfigDoc;
  try {
    doc = (parseYaml(fs.readFileSync(request.kubeconfig, "utf8")) ?? {}) as KubeconfigDoc;
  } catch (err) {
    return unknown(`cannot read the kubeconfig: ${(err as Error).message}`);
  }
  const base = path.dirname(request.kubeconfig);
  const contextName = request.context ?? doc["current-context"];
  const context = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (context === undefined)
    return unknown(`the kubeconfig has no context ${contextName ?? "(none selected)"}`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  const server = str(cluster?.server);
  if (cluster === undefined || server === undefined) return unknown(`the context's cluster has no server`);
  if (cluster["insecure-skip-tls-verify"] === true) {
    return unknown("the context skips TLS verification, so the server it reaches cannot be identified");
  }
  let url: URL;
  try {
    url = new URL(
      `/api/v1/namespaces/${CLUSTER_MARKER.namespace}/configmaps/${CLUSTER_MARKER.name}`,
      server.endsWith("/") ? server : `${server}/`,
    );
  } catch {
    return unknown(`the context's server ${server} is not a URL`);
  }
  if (url.protocol !== "https:") return unknown(`the context's server ${server} is not HTTPS`);
  try {
    const user = doc.users?.find((u) => u.name === context.user)?.user ?? {};
    const creds = await credentialsOf(user, base, timeoutMs);
    const ca = material(cluster, "certificate-authority", base);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (creds.token !== undefined) headers.Authorization = `Bearer ${creds.token}`;
    else if (creds.basic !== undefined) headers.Authorization = `Basic ${creds.basic}`;
    const tlsServerName = str(cluster["tls-server-name"]);
    const res = await get(
      url,
      {
        headers,
        ...(ca !== undefined ? { ca } : {}),
        ...(creds.cert !== undefined ? { cert: creds.cert } : {}),
        ...(creds.key !== undefined ? { key: creds.key } : {}),
        ...(tlsServerName !== undefined ? { servername: tlsServerName } : {}),
      },
      timeoutMs,
    );
    if (res.status === 404) return { status: "unmarked" };
    if (res.status !== 200) return unknown(`the API server answered ${res.status} for the marker`);
    const data = (JSON.parse(res.body) as { data?: Record<string, unknown> }).data ?? {};
    const environment = str(data[CLUSTER_MARKER.environmentKey]);
    return environment === undefined ? { status: "unmarked" } : { status: "marked", environment };
  } catch (err) {
    return unknown(`cannot reach the cluster: ${(err as Error).message.split("\n")[0] ?? ""}`);
  }
}

if (isMainScript(module, __filename, "cluster-marker-read.js")) {
  const chunks: Buffer[] = [];
  process.stdin.on("data", (c: Buffer) => chunks.push(c));
  process.stdin.on("end", () => {
    let request: MarkerRequest;
    try {
      request = JSON.parse(Buffer.concat(chunks).toString("utf8")) as MarkerRequest;
    } catch {
      process.stdout.write(JSON.stringify({ status: "unknown", reason: "malformed request" }));
      return;
    }
    void readMarker(request).then((r) => process.stdout.write(JSON.stringify(r)));
  });
}
