// The API checks through the Ingress's address, against a fake kubectl that answers `get ingress` with a status (and
// records the kubeconfig file it was given) and a local server standing in for the load balancer, which answers only
// for the route's Host.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verificationSpecs } from "../../../src/verify/checks";
import {
  ingressGetArgs,
  publishedAddress,
  routedHttpAttempt,
  routePort,
} from "../../../src/verify/ingress-route";
import { probeCommand } from "../../../src/verify/probe-command";
import { withRetries } from "../../../src/verify/probe";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ingress-route-test-"));
const kubectl = path.join(dir, "kubectl");
const record = path.join(dir, "record.json");
const HOST = "api.nova-rms.example";
let lb: http.Server;
let lbPort = 0;
const seen: { host?: string; url?: string }[] = [];

const FAKE_KUBECTL = `#!/usr/bin/env node
const fs = require("node:fs");
const args = process.argv.slice(2);
const at = args.indexOf("--kubeconfig");
const file = at >= 0 ? args[at + 1] : undefined;
fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({
  args,
  mode: file !== undefined ? (fs.statSync(file).mode & 0o777) : null,
  file: file ?? null,
}));
if (process.env.FAKE_NOT_FOUND === "1") {
  process.stderr.write('Error from server (NotFound): ingresses.networking.k8s.io "nova-api" not found\\n');
  process.exit(1);
}
const status = process.env.FAKE_STATUS ? JSON.parse(process.env.FAKE_STATUS) : {};
console.log(JSON.stringify({ kind: "Ingress", metadata: { name: "nova-api" }, status }));
`;

const target = { namespace: "nova-prod", ingress: "nova-api", context: "prod" };
const retry = { attempts: 1, timeoutMs: 5000, backoffMs: 1 };
const published = (port: number) =>
  JSON.stringify({ loadBalancer: { ingress: [{ ip: "127.0.0.1", ports: [{ port, protocol: "TCP" }] }] } });

beforeAll(async () => {
  fs.writeFileSync(kubectl, FAKE_KUBECTL, { mode: 0o755 });
  lb = http.createServer((req, res) => {
    seen.push({ host: req.headers.host, url: req.url });
    const ours = req.headers.host === HOST;
    if (!ours) {
      res.writeHead(404);
      res.end("default backend - 404");
    } else if (req.url === "/v1/metrics") {
      res.writeHead(200);
      res.end("http_requests_total 3\n");
    } else {
      res.writeHead(req.url === "/v1/health" ? 200 : 404);
      res.end("ok");
    }
  });
  await new Promise<void>((r) => lb.listen(0, "127.0.0.1", r));
  lbPort = (lb.address() as AddressInfo).port;
});
afterAll(() => {
  lb.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function withEnv<T>(env: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  return run().finally(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  });
}

describe("the address an Ingress publishes", () => {
  it("is the first entry's ip (else hostname) and its TCP port when published", () => {
    expect(publishedAddress({ status: { loadBalancer: { ingress: [{ ip: "34.1.2.3" }] } } })).toEqual({
      address: "34.1.2.3",
    });
    expect(
      publishedAddress({
        status: {
          loadBalancer: { ingress: [{ hostname: "lb.example", ports: [{ port: 8443, protocol: "TCP" }] }] },
        },
      }),
    ).toEqual({ address: "lb.example", port: 8443 });
    expect(publishedAddress({ status: { loadBalancer: {} } })).toBeUndefined();
    expect(publishedAddress({ status: { loadBalancer: { ingress: [{}] } } })).toBeUndefined();
    expect(publishedAddress({})).toBeUndefined();
  });

  it("is connected to on the published port, else the URL's, else the scheme's", () => {
    expect(routePort(new URL("https://api.x/v1/health"), { address: "a", port: 38443 })).toBe(38443);
    expect(routePort(new URL("https://api.x:8443/v1/health"), { address: "a" })).toBe(8443);
    expect(routePort(new URL("https://api.x/v1/health"), { address: "a" })).toBe(443);
    expect(routePort(new URL("http://api.x/v1/health"), { address: "a" })).toBe(80);
  });

  it("is read with the release's kubeconfig and context, in its namespace", () => {
    expect(ingressGetArgs(target, "/tmp/kc")).toEqual([
      "get",
      "ingress",
      "nova-api",
      "--kubeconfig",
      "/tmp/kc",
      "--context",
      "prod",
      "--namespace",
      "nova-prod",
      "--output",
      "json",
    ]);
  });
});

describe("an API check through the route", () => {
  const attempt = (p: string, prometheus = false) =>
    routedHttpAttempt(`http://${HOST}${p}`, prometheus, target, { kubeconfig: "apiVersion: v1\n", kubectl });

  it("asks the URL at the Ingress's address with the URL's host, and names the Ingress in the detail", async () => {
    const result = await withEnv({ FAKE_STATUS: published(lbPort) }, () =>
      withRetries("api-health", attempt("/v1/health"), retry),
    );
    expect(result.ok, result.detail).toBe(true);
    expect(result.detail).toBe(
      `http://${HOST}/v1/health answered 200 (through Ingress nova-api in nova-prod at 127.0.0.1:${lbPort})`,
    );
    expect(seen.at(-1)).toEqual({ host: HOST, url: "/v1/health" });
    const rec = JSON.parse(fs.readFileSync(record, "utf8")) as { mode: number; file: string };
    expect(rec.mode).toBe(0o600);
    expect(fs.existsSync(rec.file)).toBe(false);
  });

  it("judges the metrics page as the direct check does", async () => {
    const result = await withEnv({ FAKE_STATUS: published(lbPort) }, () =>
      withRetries("api-metrics", attempt("/v1/metrics", true), retry),
    );
    expect(result.ok, result.detail).toBe(true);
  });

  it("fails when the load balancer does not route the host (its default backend answers)", async () => {
    const other = routedHttpAttempt("http://api.other.example/v1/health", false, target, { kubectl });
    const result = await withEnv({ FAKE_STATUS: published(lbPort) }, () =>
      withRetries("api-health", other, retry),
    );
    expect(result.ok).toBe(false);
    expect(result.detail).toContain(
      "http://api.other.example/v1/health answered 404 (through Ingress nova-api",
    );
  });

  it("fails naming the Ingress when it publishes no address, or is not there", async () => {
    const none = await withEnv({ FAKE_STATUS: "{}" }, () =>
      withRetries("api-health", attempt("/v1/health"), retry),
    );
    expect(none.ok).toBe(false);
    expect(none.detail).toContain("Ingress nova-api in nova-prod publishes no address");
    const missing = await withEnv({ FAKE_NOT_FOUND: "1" }, () =>
      withRetries("api-health", attempt("/v1/health"), retry),
    );
    expect(missing.ok).toBe(false);
    expect(missing.detail).toContain(
      "kubectl could not read Ingress nova-api in nova-prod: Error from server (NotFound)",
    );
  });
});

describe("the program's checks with an Ingress", () => {
  const targets = {
    apiBaseUrl: `https://${HOST}`,
    namespace: "nova-prod",
    alertmanagerUrl: "http://am",
    kubeContext: "prod",
  };

  it("route both API checks through it; without one they ask the URL directly", () => {
    const routed = Object.fromEntries(verificationSpecs({ ...targets, apiIngress: "nova-api" }));
    expect(routed["api-health"]).toEqual({
      kind: "route",
      url: `https://${HOST}/v1/health`,
      namespace: "nova-prod",
      ingress: "nova-api",
      context: "prod",
    });
    expect(routed["api-metrics"]).toMatchObject({ kind: "route", prometheus: true });
    const direct = Object.fromEntries(verificationSpecs(targets));
    expect(direct["api-health"]).toEqual({ kind: "http", url: `https://${HOST}/v1/health` });
  });

  it("the probe command names the Ingress, never the kubeconfig", () => {
    const spec = Object.fromEntries(verificationSpecs({ ...targets, apiIngress: "nova-api" }))["api-health"];
    if (spec === undefined) throw new Error("no api-health check");
    const cmd = probeCommand("/p/probe.js", "api-health", spec, { attempts: 3, timeoutSeconds: 10 });
    expect(cmd).toContain(
      `route --name api-health --url https://${HOST}/v1/health --namespace nova-prod --ingress nova-api --context prod`,
    );
    expect(cmd).not.toContain("kubeconfig");
  });
});
