#!/usr/bin/env node
// The token realm of the sandbox's token-protected registry (docker-registry on :35001, `auth: token`), on 127.0.0.1
// only: the Docker registry token protocol as Artifact Registry, GHCR and Docker Hub speak it.
//   GET /token?service=<service>&scope=repository:<name>:<actions>[&scope=…]
//     Basic credentials of a user in the users file get the actions that user may do on each requested repository
//     (pull, push); no credentials (anonymous) get none; wrong credentials answer 401. The answer is
//     {"token", "access_token", "expires_in", "issued_at"}: a JWT signed ES256 with the realm's key, its certificate
//     in the `x5c` header (the registry trusts it through its `rootcertbundle`).
// Environment: NOVA_TOKEN_REALM_PORT, NOVA_TOKEN_REALM_KEY (PEM private key), NOVA_TOKEN_REALM_CERT (PEM
// certificate), NOVA_TOKEN_REALM_USERS (JSON {"<user>": {"password": "…", "actions": ["pull", "push"]}}),
// NOVA_TOKEN_REALM_ISSUER, NOVA_TOKEN_REALM_SERVICE (the registries' service names, space separated; a token's audience
// is the one asked for). GET /__requests lists the requests it answered (user, scopes,
// granted actions; never a password or token), DELETE /__requests forgets them.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import { requiredEnv } from "./serve-util.mjs";

const env = (name) => requiredEnv("token-realm", name);
const port = Number(env("NOVA_TOKEN_REALM_PORT"));
const key = crypto.createPrivateKey(fs.readFileSync(env("NOVA_TOKEN_REALM_KEY")));
const certPem = fs.readFileSync(env("NOVA_TOKEN_REALM_CERT"), "utf8");
const users = JSON.parse(fs.readFileSync(env("NOVA_TOKEN_REALM_USERS"), "utf8"));
const issuer = env("NOVA_TOKEN_REALM_ISSUER");
const services = env("NOVA_TOKEN_REALM_SERVICE").split(/\s+/).filter(Boolean);
const TTL_SECONDS = 300;

/** The certificate's DER, base64 (standard alphabet), as `x5c` carries it. */
const x5c = [certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "")];
const b64url = (buf) => Buffer.from(buf).toString("base64url");
const requests = [];

/** The user named by Basic credentials: undefined for anonymous, null for wrong credentials. */
function userOf(header) {
  if (header === undefined) return undefined;
  const m = /^Basic\s+(\S+)$/i.exec(header);
  if (m === null) return null;
  const text = Buffer.from(m[1], "base64").toString("utf8");
  const colon = text.indexOf(":");
  const name = text.slice(0, colon);
  const password = text.slice(colon + 1);
  const user = users[name];
  if (colon < 0 || user === undefined) return null;
  const a = Buffer.from(String(user.password));
  const b = Buffer.from(password);
  return a.length === b.length && crypto.timingSafeEqual(a, b) ? { name, actions: user.actions ?? [] } : null;
}

/** `repository:<name>:<a,b>` scopes → the access the user gets (actions the user has, of those asked). */
function accessFor(scopes, user) {
  const access = [];
  for (const scope of scopes) {
    const m = /^(repository):([^:]+):([a-z*,]+)$/.exec(scope);
    if (m === null) continue;
    const asked = m[3].split(",");
    const allowed = user === undefined ? [] : user.actions;
    const actions = asked.includes("*") ? allowed : asked.filter((a) => allowed.includes(a));
    access.push({ type: m[1], name: m[2], actions });
  }
  return access;
}

function sign(subject, access, service) {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: "JWT", alg: "ES256", x5c };
  const claims = {
    iss: issuer,
    sub: subject,
    aud: service,
    iat: now,
    nbf: now - 10,
    exp: now + TTL_SECONDS,
    jti: crypto.randomUUID(),
    access,
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = crypto.sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  return `${input}.${b64url(signature)}`;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
  const send = (status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === "/__requests") {
    if (req.method === "DELETE") requests.length = 0;
    send(200, requests);
    return;
  }
  if (url.pathname !== "/token" || req.method !== "GET") {
    send(404, { errors: [{ code: "NOT_FOUND" }] });
    return;
  }
  const user = userOf(req.headers.authorization);
  const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" "));
  if (user === null) {
    requests.push({ user: "(wrong credentials)", scopes, granted: [] });
    res.setHeader("www-authenticate", `Basic realm="${services[0]}"`);
    send(401, { errors: [{ code: "UNAUTHORIZED", message: "wrong user name or password" }] });
    return;
  }
  const service = url.searchParams.get("service") ?? "";
  if (!services.includes(service)) {
    send(400, {
      errors: [{ code: "INVALID", message: `this realm issues tokens for ${services.join(", ")} only` }],
    });
    return;
  }
  const access = accessFor(scopes, user);
  requests.push({ user: user?.name ?? "(anonymous)", service, scopes, granted: access });
  const token = sign(user?.name ?? "", access, service);
  send(200, { token, access_token: token, expires_in: TTL_SECONDS, issued_at: new Date().toISOString() });
});
server.listen(port, "127.0.0.1");
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
