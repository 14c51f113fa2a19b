// The worker check's port-forward against a fake kubectl: a node script that records how it was called (its
// arguments, the kubeconfig file it was given and that file's mode), serves the "pod" on a free loopback port and
// prints kubectl's "Forwarding from" line, or fails as kubectl does when no pod runs.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processAlive } from "../../../cli/lock-holders";
import { forwardedHttpAttempt, podRunningTimeout, portForwardArgs } from "../../../src/verify/port-forward";
import { httpAttempt, withRetries } from "../../../src/verify/probe";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "port-forward-test-"));
const kubectl = path.join(dir, "kubectl");
const record = path.join(dir, "record.json");

const FAKE_KUBECTL = `#!/usr/bin/env node
const fs = require("node:fs");
const http = require("node:http");
const args = process.argv.slice(2);
const at = args.indexOf("--kubeconfig");
const file = at >= 0 ? args[at + 1] : undefined;
fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({
  args,
  kubeconfig: file !== undefined ? fs.readFileSync(file, "utf8") : null,
  mode: file !== undefined ? (fs.statSync(file).mode & 0o777) : null,
  file: file ?? null,
  pid: process.pid,
}));
if (process.env.FAKE_NO_POD === "1") {
  process.stderr.write("error: timed out waiting for the condition\\n");
  process.exit(1);
}
const server = http.createServer((req, res) => {
  res.writeHead(req.url === "/readyz" ? Number(process.env.FAKE_STATUS || 200) : 404);
  res.end("ok");
});
server.listen(0, "127.0.0.1", () => {
  console.log("Forwarding from 127.0.0.1:" + server.address().port + " -> 3001");
});
`;

const target = { namespace: "nova-prod", resource: "deploy/nova-worker", port: 3001, context: "prod" };
const retry = { attempts: 1, timeoutMs: 5000, backoffMs: 1 };

interface Recorded {
  args: string[];
  kubeconfig: string | null;
  mode: number | null;
  file: string | null;
  pid: number;
}

function recorded(): Recorded {
  return JSON.parse(fs.readFileSync(record, "utf8")) as Recorded;
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !processAlive(pid);
}

beforeAll(() => fs.writeFileSync(kubectl, FAKE_KUBECTL, { mode: 0o755 }));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("worker check through a port-forward", () => {
  it("forwards a free loopback port to the Deployment's container port, in the given namespace and context", () => {
    expect(portForwardArgs(target, "/tmp/kc")).toEqual([
      "port-forward",
      "--address",
      "127.0.0.1",
      "--pod-running-timeout=5s",
      "--kubeconfig",
      "/tmp/kc",
      "--context",
      "prod",
      "--namespace",
      "nova-prod",
      "deploy/nova-worker",
      ":3001",
    ]);
    // Without a kubeconfig of its own, kubectl reads its default one.
    expect(portForwardArgs({ namespace: "n", resource: "deploy/w", port: 1 })).not.toContain("--kubeconfig");
  });

  it("passes through the forward, with the kubeconfig in a private file removed afterwards, and stops kubectl", async () => {
    const attempt = forwardedHttpAttempt(
      target,
      "/readyz",
      { kubeconfig: "kind: Config # kc-1", kubectl },
      (u) => httpAttempt(u, false),
    );
    const result = await withRetries("worker-readyz", attempt, retry);
    expect(result.ok).toBe(true);
    expect(result.detail).toBe("/readyz answered 200 (port-forward to deploy/nova-worker:3001 in nova-prod)");
    const seen = recorded();
    expect(seen.kubeconfig).toBe("kind: Config # kc-1");
    expect(seen.mode).toBe(0o600);
    expect(seen.args.slice(-2)).toEqual(["deploy/nova-worker", ":3001"]);
    expect(seen.args).toContain("--pod-running-timeout=5s");
    expect(fs.existsSync(seen.file ?? "")).toBe(false);
    expect(await gone(seen.pid)).toBe(true);
  });

  it("fails naming the forward when the worker answers an error", async () => {
    process.env.FAKE_STATUS = "503";
    try {
      const attempt = forwardedHttpAttempt(target, "/readyz", { kubectl }, (u) => httpAttempt(u, false));
      const result = await withRetries("worker-readyz", attempt, retry);
      expect(result.ok).toBe(false);
      expect(result.detail).toBe(
        "/readyz answered 503 (port-forward to deploy/nova-worker:3001 in nova-prod)",
      );
      expect(await gone(recorded().pid)).toBe(true);
    } finally {
      delete process.env.FAKE_STATUS;
    }
  });

  it("fails with kubectl's own words when no pod can be forwarded to", async () => {
    process.env.FAKE_NO_POD = "1";
    try {
      const attempt = forwardedHttpAttempt(
        target,
        "/readyz",
        { kubeconfig: "k", kubectl, podRunningTimeoutSeconds: 2 },
        (u) => httpAttempt(u, false),
      );
      const result = await withRetries("worker-readyz", attempt, retry);
      expect(result.ok).toBe(false);
      expect(result.detail).toMatch(
        /^kubectl port-forward to deploy\/nova-worker:3001 in nova-prod exited 1: error: timed out waiting for the condition \(no running pod of deploy\/nova-worker within 2s\)$/,
      );
      expect(fs.existsSync(recorded().file ?? "")).toBe(false);
    } finally {
      delete process.env.FAKE_NO_POD;
    }
  });

  it("waits for a running pod half an attempt's time, at least a second", () => {
    expect([1, 2, 5, 10, 31].map(podRunningTimeout)).toEqual([1, 1, 2, 5, 15]);
  });

  it("says so when kubectl is missing", async () => {
    const attempt = forwardedHttpAttempt(target, "/readyz", { kubectl: path.join(dir, "no-kubectl") }, (u) =>
      httpAttempt(u, false),
    );
    const result = await withRetries("worker-readyz", attempt, retry);
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/kubectl could not start: spawn .*no-kubectl ENOENT/);
  });
});
