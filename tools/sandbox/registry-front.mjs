#!/usr/bin/env node
// The HTTPS front of the production registry's address on the sandbox (tools/sandbox/up.sh). It is an HTTP proxy on
// 127.0.0.1 that a client reaches through the standard proxy variables (HTTPS_PROXY): a `CONNECT <host>:443` for the
// served host is answered with TLS for that name (a certificate of the sandbox CA), and its requests are passed on as
// the real service routes them: `/v2/token` to the token realm, everything else to the registry, with `Host` kept and
// `X-Forwarded-Proto: https` (the registry writes its upload locations for the public address). Any other CONNECT is
// refused: nothing else is reachable from here.
// Environment: NOVA_FRONT_PORT, NOVA_FRONT_HOST (e.g. us-docker.pkg.dev), NOVA_FRONT_CERT, NOVA_FRONT_KEY (PEM),
// NOVA_FRONT_REGISTRY (http://127.0.0.1:<port>), NOVA_FRONT_REALM (http://127.0.0.1:<port>/token).
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { requiredEnv } from "./serve-util.mjs";

const env = (name) => requiredEnv("registry-front", name);
const port = Number(env("NOVA_FRONT_PORT"));
const host = env("NOVA_FRONT_HOST");
const registry = new URL(env("NOVA_FRONT_REGISTRY"));
const realm = new URL(env("NOVA_FRONT_REALM"));

/** Passes one request on to `target` (path and query rewritten by `pathOf`) and streams the answer back. */
function forward(req, res, target, path) {
  const upstream = http.request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path,
      headers: { ...req.headers, host, "x-forwarded-proto": "https", "x-forwarded-host": host },
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on("error", (err) => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
    res.end(`registry-front: ${err.message}\n`);
  });
  req.pipe(upstream);
}

const tlsServer = https.createServer(
  { cert: fs.readFileSync(env("NOVA_FRONT_CERT")), key: fs.readFileSync(env("NOVA_FRONT_KEY")) },
  (req, res) => {
    const url = new URL(req.url ?? "/", `https://${host}`);
    if (url.pathname === "/v2/token") forward(req, res, realm, `${realm.pathname}${url.search}`);
    else forward(req, res, registry, `${url.pathname}${url.search}`);
  },
);

const proxy = http.createServer((_req, res) => {
  res.writeHead(400, { "content-type": "text/plain" });
  res.end(`registry-front: only CONNECT ${host}:443 is served\n`);
});
proxy.on("connect", (req, socket, head) => {
  const [name, p] = (req.url ?? "").split(":");
  if (name !== host || (p ?? "443") !== "443") {
    socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
    return;
  }
  socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
  if (head.length > 0) socket.unshift(head);
  tlsServer.emit("connection", socket);
});
proxy.listen(port, "127.0.0.1");
const stop = () => proxy.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
