/**
 * The API checks through the route this stack serves: the address the API's Ingress publishes (its load balancer's,
 * `status.loadBalancer.ingress`) is read through the Kubernetes API, and the check's URL is asked there, with the
 * URL's host as the `Host` header and the TLS server name (the certificate is verified for that host), as
 * `curl --resolve <host>:443:<address>` would. The check thus judges the Ingress, its certificate and its backends as
 * users reach them, whether or not the host's DNS record points there yet.
 */
import { execFile } from "node:child_process";
import * as http from "node:http";
import * as https from "node:https";
import type { Attempt } from "./check-result";
import { judgeHttpAnswer, type HttpAnswer } from "./http-check";
import { connectionArgs, withKubeconfigFile, type KubeAccess } from "./kube-access";
import { errorText } from "./redact";

/** The Ingress whose address the checks use. */
export interface RouteTarget {
  readonly namespace: string;
  /** The Ingress's name (the chart's `nova-api`). */
  readonly ingress: string;
  /** Context inside the kubeconfig; its current context when not set. */
  readonly context?: string;
}

/** Where the load balancer listens: its IP address or host name, and the port when the status publishes one. */
export interface RouteAddress {
  readonly address: string;
  readonly port?: number;
}

/** Bytes of an answer's body a check reads at most (a health answer or a metrics page). */
const BODY_LIMIT = 4 * 1024 * 1024;

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {};

/** The first address an Ingress's status publishes (`ip`, else `hostname`; its first TCP port), if any. Pure. */
export function publishedAddress(ingress: unknown): RouteAddress | undefined {
  const entries = asObj(asObj(asObj(ingress)["status"])["loadBalancer"])["ingress"];
  if (!Array.isArray(entries)) return undefined;
  for (const raw of entries) {
    const entry = asObj(raw);
    const address = [entry["ip"], entry["hostname"]].find((v) => typeof v === "string" && v !== "");
    if (typeof address !== "string") continue;
    const ports = Array.isArray(entry["ports"]) ? entry["ports"].map(asObj) : [];
    const port = ports.find((p) => (p["protocol"] ?? "TCP") === "TCP" && typeof p["port"] === "number")?.[
      "port"
    ];
    return { address, ...(typeof port === "number" ? { port } : {}) };
  }
  return undefined;
}

/** The kubectl arguments that read the Ingress. Pure. */
export function ingressGetArgs(target: RouteTarget, kubeconfigFile?: string): string[] {
  return [
    "get",
    "ingress",
    target.ingress,
    ...connectionArgs(kubeconfigFile, target.context),
    "--namespace",
    target.namespace,
    "--output",
    "json",
  ];
}

/** `Ingress nova-api in nova-prod`. Pure. */
export function describeRoute(target: RouteTarget): string {
  return `Ingress ${target.ingress} in ${target.namespace}`;
}

/** Reads the address the Ingress publishes; fails naming the Ingress when it publishes none (no load balancer yet). */
export async function readRouteAddress(
  target: RouteTarget,
  access: KubeAccess,
  signal: AbortSignal,
): Promise<RouteAddress> {
  const text = await withKubeconfigFile(
    access.kubeconfig,
    (file) =>
      new Promise<string>((resolve, reject) => {
        execFile(
          access.kubectl ?? "kubectl",
          ingressGetArgs(target, file),
          { signal, maxBuffer: 8 * 1024 * 1024 },
          (err, stdout, stderr) => {
            if (err === null) return resolve(stdout);
            const said = stderr.trim().split("\n").slice(-2).join(" ") || err.message;
            reject(new Error(`kubectl could not read ${describeRoute(target)}: ${said}`));
          },
        );
      }),
  );
  const address = publishedAddress(JSON.parse(text) as unknown);
  if (address === undefined) {
    throw new Error(
      `${describeRoute(target)} publishes no address (status.loadBalancer.ingress is empty): its load balancer does not serve yet`,
    );
  }
  return address;
}

/** The port a request to `url` through `via` connects to: the published one, else the URL's. Pure. */
export function routePort(url: URL, via: RouteAddress): number {
  if (via.port !== undefined) return via.port;
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/**
 * GET `url` at `via` instead of the address its host resolves to: `Host` and the TLS server name are the URL's host,
 * so the certificate is verified for it. Redirects are not followed; the body is read up to a bound.
 */
export function requestThrough(url: URL, via: RouteAddress, signal: AbortSignal): Promise<HttpAnswer> {
  const secure = url.protocol === "https:";
  const options: https.RequestOptions = {
    host: via.address,
    port: routePort(url, via),
    path: `${url.pathname}${url.search}`,
    method: "GET",
    headers: { host: url.host, accept: "*/*" },
    signal,
    ...(secure ? { servername: url.hostname } : {}),
  };
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = (secure ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= BODY_LIMIT) chunks.push(chunk);
      });
      res.on("end", () => {
        const location = res.headers.location;
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString("utf8"),
          ...(location !== undefined ? { location } : {}),
        });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * GET `url` through the address the Ingress publishes, read again for each attempt, judged as the direct HTTP check
 * is (`./http-check`); the detail names the Ingress and the address.
 */
export function routedHttpAttempt(
  url: string,
  prometheus: boolean,
  target: RouteTarget,
  access: KubeAccess,
): Attempt {
  return async (signal) => {
    const via = await readRouteAddress(target, access, signal);
    const where = `(through ${describeRoute(target)} at ${via.address}:${routePort(new URL(url), via)})`;
    try {
      return `${judgeHttpAnswer(url, await requestThrough(new URL(url), via, signal), prometheus)} ${where}`;
    } catch (err) {
      throw new Error(`${errorText(err)} ${where}`);
    }
  };
}
