import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  alertsAttempt,
  allowListedEnv,
  backoffDelay,
  digestAttempt,
  execAttempt,
  httpAttempt,
  looksLikePrometheus,
  main,
  REDACTED,
  redactor,
  withRetries,
  type ExecOptions,
} from "../../../src/verify/probe";
import { COMMAND_ENV_ALLOWLIST } from "../../../src/verify/probe-command";
import { type RegistryAccess } from "../../../src/registry/access";

const DIGEST = `sha256:${"d".repeat(64)}`;

/** A registry whose every tag resolves to `answer` (or fails with it); pushes are not asked of the probe. */
function registryAt(answer: string | Error): RegistryAccess {
  return {
    digestOf: () => (typeof answer === "string" ? Promise.resolve(answer) : Promise.reject(answer)),
    pushPermission: () => Promise.reject(new Error("not used")),
  };
}
let server: http.Server;
let base = "";
const hits = new Map<string, number>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    hits.set(url, (hits.get(url) ?? 0) + 1);
    if (url === "/v1/health") return res.end('{"status":"ok"}');
    if (url === "/moved/health") {
      res.writeHead(302, { location: "/v1/health" });
      return res.end();
    }
    if (url === "/login-wall") {
      res.writeHead(307, { location: "https://sso.example.com/login" });
      return res.end();
    }
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
    ["the expected digest", () => digestAttempt("reg.example/nova/api:1", DIGEST, registryAt(DIGEST)), true],
    [
      "another digest",
      () => digestAttempt("reg.example/nova/api:1", `sha256:${"e".repeat(64)}`, registryAt(DIGEST)),
      false,
    ],
    [
      "a registry refusing the read",
      () => digestAttempt("reg.example/nova/api:1", DIGEST, registryAt(new Error("unauthorized"))),
      false,
    ],
    ["a slow endpoint past its timeout", () => httpAttempt(`${base}/slow`, false), false],
    ["a redirect to a 200 page", () => httpAttempt(`${base}/moved/health`, false), false],
  ])("%s", async (_name, attempt, ok) => {
    const result = await withRetries("t", attempt(), fast);
    expect(result.ok).toBe(ok);
    expect(result.attempts).toBe(ok ? 1 : 3);
  });

  it("a redirect fails, naming where it pointed (never followed)", async () => {
    hits.delete("/v1/health");
    const result = await withRetries("r", httpAttempt(`${base}/login-wall`, false), fast);
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(
      `${base}/login-wall answered 307 redirecting to https://sso.example.com/login: the endpoint must answer itself; redirects are not followed`,
    );
    await withRetries("m", httpAttempt(`${base}/moved/health`, false), fast);
    expect(hits.get("/v1/health")).toBeUndefined();
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
      (await withRetries("d", digestAttempt("reg.example/nova/api:1", "sha256:x", registryAt(DIGEST)), fast))
        .detail,
    ).toBe(`registry digest ${DIGEST} differs from the expected sha256:x`);
  });

  it("runs commands and keeps their output off stdout", async () => {
    expect((await withRetries("ok", execAttempt("exit 0"), fast)).ok).toBe(true);
    const failed = await withRetries("no", execAttempt("echo nope >&2; exit 3"), fast);
    expect(failed.detail).toBe("exit code 3: nope");
  });

  it("a timed-out command is killed with its whole process group, grandchildren included", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "probe-group-"));
    const pidFile = path.join(dir, "grandchild.pid");
    // The shell starts a grandchild that sleeps far past the timeout and waits for it.
    const command = `sleep 60 >/dev/null 2>&1 & echo $! > '${pidFile}'; wait`;
    const started = Date.now();
    const result = await withRetries("hang", execAttempt(command), { ...fast, attempts: 1, timeoutMs: 300 });
    expect(result).toMatchObject({ ok: false, detail: "timed out after 300 ms" });
    expect(Date.now() - started).toBeLessThan(5_000);
    const grandchild = Number(fs.readFileSync(pidFile, "utf8").trim());
    expect(grandchild).toBeGreaterThan(0);
    const running = () => {
      try {
        const stat = fs.readFileSync(`/proc/${grandchild}/stat`, "utf8");
        return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 3_000;
    while (running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(running()).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
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

/** Runs the probe's `main` with `env` set, capturing everything it writes to stdout and stderr. */
async function mainWithEnv(
  env: Record<string, string>,
  argv: string[],
): Promise<{ code: number; writes: string[] }> {
  const writes: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const capture = (chunk: string | Uint8Array) => (writes.push(String(chunk)), true);
  process.stdout.write = capture;
  process.stderr.write = capture;
  Object.assign(process.env, env);
  try {
    return { code: await main(argv), writes };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    for (const name of Object.keys(env)) delete process.env[name];
  }
}

describe("exec probes: allow-listed environment and redacted output", () => {
  const source = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: "/home/probe",
    LANG: "C.UTF-8",
    PULUMI_CONFIG_PASSPHRASE: "passphrase-canary",
    NOVA_REGISTRY_AUTHORIZATION: "Bearer registry-canary",
    GOOGLE_APPLICATION_CREDENTIALS: "/creds.json",
    API_URL: "https://api.example",
    E2E_TOKEN: "token-canary-123",
    PEM: "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nq1w2e3r4t5y6\n-----END KEY-----",
  };
  const run = async (command: string, options: Omit<ExecOptions, "source" | "output"> = {}) => {
    const printed: string[] = [];
    const result = await withRetries(
      "e2e",
      execAttempt(command, { ...options, source, output: (t) => void printed.push(t) }),
      { ...fast, attempts: 1 },
    );
    return { result, printed: printed.join("") };
  };

  it("gives the command only the allow-list plus the variables it names", async () => {
    const { printed } = await run("env", { env: ["API_URL"], secretEnv: ["E2E_TOKEN"] });
    const names = printed
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => l.slice(0, l.indexOf("=")))
      .filter((n) => !["PWD", "SHLVL", "_", "OLDPWD"].includes(n));
    expect(names.sort()).toEqual(["API_URL", "E2E_TOKEN", "HOME", "LANG", "PATH"]);
    expect(printed).not.toMatch(/passphrase-canary|registry-canary|creds\.json/);
    expect(COMMAND_ENV_ALLOWLIST).toEqual(["PATH", "HOME", "LANG", "TMPDIR"]);
  });

  it.each([
    ["a secret printed whole", 'echo "token=$E2E_TOKEN"', ["E2E_TOKEN"], ["token-canary-123"]],
    [
      "a secret printed in pieces, across writes",
      "printf token-can; sleep 0.05; printf 'ary-123\\n'",
      ["E2E_TOKEN"],
      ["token-canary-123"],
    ],
    [
      "a multi-line secret",
      'printf "%s\\n" "$PEM"',
      ["PEM"],
      ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "q1w2e3r4t5y6"],
    ],
    [
      "a line of a multi-line secret on its own",
      "echo 'key q1w2e3r4t5y6 seen' >&2",
      ["PEM"],
      ["q1w2e3r4t5y6"],
    ],
  ])("redacts %s, in the stream and in the failure detail", async (_name, command, secretEnv, hidden) => {
    const ok = await run(command, { secretEnv });
    const failed = await run(`${command}; exit 4`, { secretEnv });
    expect(ok.result.ok).toBe(true);
    expect(failed.result.ok).toBe(false);
    expect(failed.result.detail).toMatch(/^exit code 4: /);
    for (const text of [ok.printed, failed.printed, failed.result.detail]) {
      expect(text).toContain(REDACTED);
      for (const value of hidden) expect(text).not.toContain(value);
    }
  });

  it("prints nothing secret from main either (progress, result line)", async () => {
    const { code, writes } = await mainWithEnv({ NOVA_TEST_PROBE_SECRET: "probe-secret-canary" }, [
      "exec",
      "--name",
      "billing-drill-dry-run",
      "--secret-env",
      "NOVA_TEST_PROBE_SECRET",
      "--attempts",
      "2",
      "--backoff-ms",
      "1",
      "--",
      'echo "drill with $NOVA_TEST_PROBE_SECRET"; exit 1',
    ]);
    expect(code).toBe(1);
    const all = writes.join("");
    expect(all).toContain(`drill with ${REDACTED}`);
    expect(all).not.toContain("probe-secret-canary");
  });

  it("runs in its directory with the API address, and keeps its output and the files it wrote, redacted", async () => {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), "probe-app-"));
    const into = path.join(app, "..", `${path.basename(app)}-kept`);
    // Written before the command started: not kept.
    fs.mkdirSync(path.join(app, "playwright-report"), { recursive: true });
    const old = path.join(app, "playwright-report", "old.json");
    fs.writeFileSync(old, "{}");
    fs.utimesSync(old, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const { code, writes } = await mainWithEnv({ NOVA_TEST_E2E_PASSWORD: "e2e-password-canary" }, [
      "exec",
      "--name",
      "synthetic-e2e",
      "--secret-env",
      "NOVA_TEST_E2E_PASSWORD",
      "--set-env",
      "NOVA_API_BASE_URL=https://api.nova.test",
      "--cwd",
      app,
      "--keep",
      "playwright-report",
      "--keep",
      "../outside",
      "--keep-into",
      into,
      "--attempts",
      "1",
      "--",
      'pwd; echo "base $NOVA_API_BASE_URL as $NOVA_TEST_E2E_PASSWORD"; ' +
        'printf "{\\"pw\\":\\"%s\\"}" "$NOVA_TEST_E2E_PASSWORD" > playwright-report/results.json; ' +
        "printf '\\000\\001' > playwright-report/shot.png",
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(writes.filter((w) => w.startsWith("{")).pop() ?? "") as {
      output: string;
      kept: { path: string; copy: string; sha256: string }[];
    };
    expect(result.output).toContain(`${fs.realpathSync(app)}\nbase https://api.nova.test as ${REDACTED}\n`);
    expect(result.kept.map((k) => k.path)).toEqual([
      "playwright-report/results.json",
      "playwright-report/shot.png",
    ]);
    const report = fs.readFileSync(path.join(into, result.kept[0]?.copy ?? ""), "utf8");
    expect(report).toBe(`{"pw":"${REDACTED}"}`);
    expect(result.kept[0]?.copy).toMatch(/^[0-9a-f]{16}-results\.json$/);
    expect(fs.readFileSync(path.join(into, result.kept[1]?.copy ?? ""))).toEqual(Buffer.from([0, 1]));
    expect(writes.join("")).not.toContain("e2e-password-canary");
    fs.rmSync(app, { recursive: true, force: true });
    fs.rmSync(into, { recursive: true, force: true });
  });
});

describe("redactor", () => {
  it.each([
    ["a substring", ["pw123"], "url=postgres://u:pw123@h", `url=postgres://u:${REDACTED}@h`],
    ["every occurrence", ["ab12"], "ab12 ab12", `${REDACTED} ${REDACTED}`],
    ["the longest value first", ["abcd", "abcdefgh"], "abcdefgh", REDACTED],
    ["a whole multi-line value", ["line-one\nline-two"], "<line-one\nline-two>", `<${REDACTED}>`],
    ["a line of a multi-line value", ["line-one\r\nline-two"], "got line-two", `got ${REDACTED}`],
    ["short lines of a multi-line value are kept", ["ab\nline-two"], "ab", "ab"],
    ["empty values are ignored", [""], "text", "text"],
    ["no secrets", [], "text", "text"],
  ])("%s", (_name, secrets, text, expected) => {
    expect(redactor(secrets)(text)).toBe(expected);
  });

  it("allowListedEnv keeps exactly the named variables that are set", () => {
    expect(allowListedEnv(["PATH", "HOME", "UNSET"], { PATH: "/bin", HOME: "/h", SECRET: "x" })).toEqual({
      PATH: "/bin",
      HOME: "/h",
    });
  });
});
