import * as http from "node:http";
import { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  alertsAttempt,
  backoffDelay,
  digestAttempt,
  execAttempt,
  httpAttempt,
  looksLikePrometheus,
  main,
  withRetries,
} from "../../../src/verify/probe";

const DIGEST = `sha256:${"d".repeat(64)}`;
let server: http.Server;
let base = "";
const hits = new Map<string, number>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    hits.set(url, (hits.get(url) ?? 0) + 1);
    if (url === "/v1/health") return res.end('{"status":"ok"}');
    if (url === "/v1/metrics") return res.end('# HELP up x\nnova_requests_total{route="/"} 12\n');
    if (url === "/plain") return res.end("hello");
    if (url === "/flaky") {
      res.statusCode = (hits.get(url) ?? 0) < 3 ? 503 : 200;
      return res.end();
    }
    if (url.startsWith("/quiet/api/v2/alerts")) return res.end("[]");
    if (url.startsWith("/noisy/api/v2/alerts")) return res.end('[{"labels":{"alertname":"HighErrorRate"}}]');
    if (url === "/v2/nova/api/manifests/1") {
      res.setHeader("docker-content-digest", DIGEST);
      return res.end();
    }
    if (url === "/slow") return setTimeout(() => res.end("late"), 2000);
    res.statusCode = 500;
    res.end("boom");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const fast = { attempts: 3, timeoutMs: 500, backoffMs: 1, sleep: () => Promise.resolve() };

describe("probes against a real HTTP server", () => {
  it.each([
    ["health 200", () => httpAttempt(`${base}/v1/health`, false), true],
    ["metrics in Prometheus form", () => httpAttempt(`${base}/v1/metrics`, true), true],
    ["a 200 that is not metrics", () => httpAttempt(`${base}/plain`, true), false],
    ["a 500", () => httpAttempt(`${base}/v1/broken`, false), false],
    ["a quiet Alertmanager", () => alertsAttempt(`${base}/quiet`), true],
    ["a firing alert", () => alertsAttempt(`${base}/noisy/`), false],
    ["the expected digest", () => digestAttempt(`${base}/v2/nova/api/manifests/1`, DIGEST), true],
    [
      "another digest",
      () => digestAttempt(`${base}/v2/nova/api/manifests/1`, `sha256:${"e".repeat(64)}`),
      false,
    ],
    ["a slow endpoint past its timeout", () => httpAttempt(`${base}/slow`, false), false],
  ])("%s", async (_name, attempt, ok) => {
    const result = await withRetries("t", attempt(), fast);
    expect(result.ok).toBe(ok);
    expect(result.attempts).toBe(ok ? 1 : 3);
  });

  it("retries until a flaky endpoint recovers", async () => {
    const result = await withRetries("flaky", httpAttempt(`${base}/flaky`, false), { ...fast, attempts: 5 });
    expect(result).toMatchObject({ ok: true, attempts: 3 });
  });

  it("says which alerts fire and which digest differs", async () => {
    expect((await withRetries("a", alertsAttempt(`${base}/noisy`), fast)).detail).toBe(
      "1 alert(s) firing: HighErrorRate",
    );
    expect(
      (await withRetries("d", digestAttempt(`${base}/v2/nova/api/manifests/1`, "sha256:x"), fast)).detail,
    ).toBe(`registry digest ${DIGEST} differs from the expected sha256:x`);
  });

  it("runs commands and keeps their output off stdout", async () => {
    expect((await withRetries("ok", execAttempt("exit 0"), fast)).ok).toBe(true);
    const failed = await withRetries("no", execAttempt("echo nope >&2; exit 3"), fast);
    expect(failed.detail).toBe("exit code 3: nope");
  });

  it("exits 0 and prints one JSON line for a passing probe, 1 for a failing one", async () => {
    const writes: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    const capture = (chunk: string) => (writes.push(chunk), true);
    process.stdout.write = capture;
    const stderr = process.stderr.write.bind(process.stderr);
    const discard = () => true;
    process.stderr.write = discard;
    try {
      expect(
        await main(["http", "--name", "api-health", "--url", `${base}/v1/health`, "--attempts", "1"]),
      ).toBe(0);
      expect(
        await main(["http", "--name", "bad", "--url", `${base}/x`, "--attempts", "2", "--backoff-ms", "1"]),
      ).toBe(1);
    } finally {
      process.stdout.write = original;
      process.stderr.write = stderr;
    }
    const [ok, bad] = writes.map((w) => JSON.parse(w) as { check: string; ok: boolean; attempts: number });
    expect(ok).toMatchObject({ check: "api-health", ok: true, attempts: 1 });
    expect(bad).toMatchObject({ check: "bad", ok: false, attempts: 2 });
  });

  it("rejects an unknown probe kind", async () => {
    await expect(main(["ping"])).rejects.toThrow(/unknown probe "ping"/);
  });
});

describe("backoff and metrics parsing", () => {
  it.each([
    [1, 1000, 1000],
    [2, 1000, 2000],
    [4, 1000, 8000],
    [10, 1000, 15000],
  ])("retry %i with base %i waits %i ms", (n, b, ms) => expect(backoffDelay(n, b)).toBe(ms));

  it.each([
    ["up 1", true],
    ['http_requests_total{code="200"} 1027 1395066363000', true],
    ["# HELP only comments\n# TYPE x counter", false],
    ["<html>", false],
  ])("looksLikePrometheus(%j) = %s", (body, ok) => expect(looksLikePrometheus(body)).toBe(ok));
});
