#!/usr/bin/env node
// The sandbox's Ingress controller and load balancer (tools/sandbox/up.sh), playing GKE's for the IngressClass it is
// given (gce): it
//   - watches the cluster's Ingresses of that class and publishes its own address in their status
//     (status.loadBalancer.ingress = [{ip: 127.0.0.1, ports: [{port: <its port>, protocol: TCP}]}]), as GKE publishes
//     the static address once the load balancer serves, so `pulumi up` (which awaits that status) goes on;
//   - serves HTTPS on 127.0.0.1:<port> with a certificate for each rule's host, signed by the sandbox CA (the one a
//     sandbox client trusts through NODE_EXTRA_CA_CERTS or SSL_CERT_FILE); no HTTP, as `allow-http: "false"` says;
//   - routes each request by Host and path (Exact, Prefix; longest path wins) to the rule's backend Service, through a
//     port-forward to that Service made through the API server for the request (so the answer comes from a pod the
//     Service selects, through the fake node's kubelet); a host or path no rule serves answers 404 as GKE's default
//     backend does, a backend that cannot be reached answers 502.
// GET /__ingress on the same port answers the routes it serves ({routes: [{namespace, name, host, paths}]}).
// Environment: NOVA_INGRESS_PORT, NOVA_INGRESS_CLASS (default gce), NOVA_INGRESS_CA_CERT, NOVA_INGRESS_CA_KEY (PEM),
// NOVA_INGRESS_CERT_DIR (where the hosts' certificates are kept), KUBECONFIG and NOVA_INGRESS_CONTEXT.
import { execFile, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import * as tls from "node:tls";
import { requiredEnv } from "./serve-util.mjs";

const env = (name) => requiredEnv("ingress-gateway", name);
const port = Number(env("NOVA_INGRESS_PORT"));
const ingressClass = process.env.NOVA_INGRESS_CLASS || "gce";
const caCert = env("NOVA_INGRESS_CA_CERT");
const caKey = env("NOVA_INGRESS_CA_KEY");
const certDir = env("NOVA_INGRESS_CERT_DIR");
const context = process.env.NOVA_INGRESS_CONTEXT;
const ADDRESS = "127.0.0.1";
const kubectlBase = [...(context ? ["--context", context] : [])];

/** Routes by host: host → [{namespace, name, paths: [{path, pathType, service, port}]}] (from the last poll). */
let routes = new Map();

function kubectl(args, input) {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "kubectl",
      [...kubectlBase, ...args],
      { maxBuffer: 32 * 1024 * 1024 },
      (err, out, errText) =>
        err ? reject(new Error(`kubectl ${args[0]}: ${(errText || err.message).trim()}`)) : resolve(out),
    );
    if (input !== undefined) child.stdin.end(input);
  });
}

/** Whether an Ingress is this controller's: its class by spec or by the older annotation. */
function ours(ing) {
  const byAnnotation = ing.metadata?.annotations?.["kubernetes.io/ingress.class"];
  return (ing.spec?.ingressClassName ?? byAnnotation) === ingressClass;
}

const published = JSON.stringify([{ ip: ADDRESS, ports: [{ port, protocol: "TCP" }] }]);

/** One pass: the routes of every Ingress of the class, and their status where it is not ours yet. */
async function sync() {
  const list = JSON.parse(await kubectl(["get", "ingress", "--all-namespaces", "-o", "json"]));
  const next = new Map();
  for (const ing of list.items ?? []) {
    if (!ours(ing)) continue;
    const { namespace, name } = ing.metadata;
    for (const rule of ing.spec?.rules ?? []) {
      if (typeof rule.host !== "string") continue;
      const paths = (rule.http?.paths ?? []).flatMap((p) =>
        p.backend?.service
          ? [{ path: p.path ?? "/", pathType: p.pathType ?? "Prefix", ...p.backend.service }]
          : [],
      );
      const host = rule.host.toLowerCase();
      next.set(host, [...(next.get(host) ?? []), { namespace, name, paths }]);
    }
    if (JSON.stringify(ing.status?.loadBalancer?.ingress ?? []) !== published) {
      const patch = JSON.stringify({ status: { loadBalancer: { ingress: JSON.parse(published) } } });
      await kubectl([
        "patch",
        "ingress",
        name,
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        patch,
      ])
        .then(() => console.log(`published ${ADDRESS}:${port} for Ingress ${namespace}/${name}`))
        .catch((e) => console.error(`could not publish the status of ${namespace}/${name}: ${e.message}`));
    }
  }
  routes = next;
}

/** The backend of `host` + `urlPath`: the longest matching path of the rules for that host, or undefined. */
function backendOf(host, urlPath) {
  let best;
  for (const entry of routes.get(host) ?? []) {
    for (const p of entry.paths) {
      const base = p.path.replace(/\/+$/, "");
      const matches =
        p.pathType === "Exact"
          ? urlPath === p.path
          : urlPath === base || urlPath.startsWith(`${base}/`) || base === "";
      if (matches && (best === undefined || p.path.length > best.path.length))
        best = { ...p, namespace: entry.namespace };
    }
  }
  return best;
}

/** A port-forward to the Service's port (by name or number), through the API server; resolves kubectl's local port. */
async function forwardTo(backend) {
  const svc = JSON.parse(
    await kubectl(["get", "service", backend.name, "-n", backend.namespace, "-o", "json"]),
  );
  const svcPort = (svc.spec?.ports ?? []).find((p) =>
    backend.port?.name !== undefined ? p.name === backend.port.name : p.port === backend.port?.number,
  );
  if (svcPort === undefined) throw new Error(`Service ${backend.namespace}/${backend.name} has no such port`);
  const child = spawn(
    "kubectl",
    [
      ...kubectlBase,
      "port-forward",
      "--address",
      ADDRESS,
      "--pod-running-timeout=5s",
      "-n",
      backend.namespace,
      `svc/${backend.name}`,
      `:${svcPort.port}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const local = await new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => {
      out += c;
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.stderr.on("data", (c) => (err += c));
    child.on("exit", (code) => reject(new Error(`port-forward exited ${code}: ${err.trim()}`)));
  });
  return { local, stop: () => child.kill("SIGTERM") };
}

/** TLS for each host, signed by the sandbox CA once and kept in the certificate directory. */
const contexts = new Map();
function tlsFor(host) {
  if (!/^[a-z0-9.-]+$/.test(host)) throw new Error(`not a host name: ${host}`);
  if (contexts.has(host)) return contexts.get(host);
  const key = path.join(certDir, `${host}.key`);
  const crt = path.join(certDir, `${host}.crt`);
  if (!fs.existsSync(crt)) {
    const csr = path.join(certDir, `${host}.csr`);
    const ext = path.join(certDir, `${host}.ext`);
    fs.writeFileSync(ext, `subjectAltName=DNS:${host}\n`);
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    execFileSync("openssl", ["req", ...ec, "-subj", `/CN=${host}`, "-keyout", key, "-out", csr], {
      stdio: "ignore",
    });
    execFileSync(
      "openssl",
      [
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        caCert,
        "-CAkey",
        caKey,
        "-CAcreateserial",
        "-days",
        "365",
        "-extfile",
        ext,
        "-out",
        crt,
      ],
      { stdio: "ignore" },
    );
  }
  const ctx = tls.createSecureContext({ key: fs.readFileSync(key), cert: fs.readFileSync(crt) });
  contexts.set(host, ctx);
  return ctx;
}

function answer(res, status, text) {
  res.writeHead(status, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function serve(req, res) {
  const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
  const url = new URL(req.url ?? "/", "https://gateway");
  if (url.pathname === "/__ingress" && !routes.has(host)) {
    const list = [...routes].flatMap(([h, entries]) => entries.map((e) => ({ ...e, host: h })));
    const text = JSON.stringify({ address: `${ADDRESS}:${port}`, routes: list });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(text);
    return;
  }
  const backend = backendOf(host, url.pathname);
  if (backend === undefined) return answer(res, 404, "default backend - 404\n");
  let forward;
  try {
    forward = await forwardTo(backend);
  } catch (e) {
    console.error(`${host}${url.pathname}: ${e.message}`);
    return answer(res, 502, "502 Bad Gateway: the backend could not be reached\n");
  }
  const upstream = http.request(
    {
      host: ADDRESS,
      port: forward.local,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, "x-forwarded-proto": "https", "x-forwarded-for": req.socket.remoteAddress },
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
      up.on("end", forward.stop);
    },
  );
  upstream.on("error", (e) => {
    forward.stop();
    console.error(`${host}${url.pathname}: ${e.message}`);
    if (!res.headersSent) answer(res, 502, "502 Bad Gateway: the backend closed the connection\n");
  });
  req.pipe(upstream);
}

fs.mkdirSync(certDir, { recursive: true, mode: 0o700 });
// A client that names no server (an address only) gets the gateway's own certificate.
const GATEWAY_NAME = "ingress-gateway.sandbox";
tlsFor(GATEWAY_NAME);
const server = https.createServer(
  {
    key: fs.readFileSync(path.join(certDir, `${GATEWAY_NAME}.key`)),
    cert: fs.readFileSync(path.join(certDir, `${GATEWAY_NAME}.crt`)),
    SNICallback: (name, cb) => {
      try {
        cb(null, tlsFor(name.toLowerCase()));
      } catch (e) {
        cb(e);
      }
    },
  },
  (req, res) => void serve(req, res),
);

async function loop() {
  try {
    await sync();
  } catch (e) {
    console.error(`sync: ${e.message}`);
  }
  setTimeout(loop, 1000);
}

server.listen(port, ADDRESS, () => {
  console.log(`ingress-gateway: class ${ingressClass} on https://${ADDRESS}:${port}`);
  void loop();
});
