/**
 * Post-deploy probes, run by the `PostDeployVerification` and `ReleaseImages` command resources:
 *
 *   node dist/src/verify/probe.js http --name api-health --url https://api/v1/health [--prometheus]
 *   node dist/src/verify/probe.js route --name api-health --url https://api/v1/health --namespace nova-prod --ingress nova-api [--context C] [--prometheus]
 *     (the URL asked at the address the API's Ingress publishes: ./ingress-route)
 *   node dist/src/verify/probe.js forward --name worker-readyz --namespace nova-prod --resource deploy/nova-worker --port 3001 --path /readyz [--context C]
 *   node dist/src/verify/probe.js alerts --name alerts-quiet --url http://alertmanager:9093 [--matcher 'namespace="nova-prod"']… [--inconclusive-fails]
 *   node dist/src/verify/probe.js digest --name api-digest --ref <registry/repository:tag> --expect sha256:…
 *   node dist/src/verify/probe.js exec --name synthetic-e2e [--env NAME]… [--secret-env NAME]… -- '<shell command>'
 *   node dist/src/verify/probe.js grafana --name grafana-traffic --url https://grafana --dashboard <uid> --panel-title Traffic …
 *     (a dashboard panel read through Grafana's query API: ./grafana-probe)
 *
 * Every probe retries with exponential backoff (`--attempts`, `--backoff-ms`), bounds each attempt by `--timeout`
 * seconds, reports progress on stderr and prints one JSON result line on stdout. Exit code 0 means the check passed.
 *
 * The `alerts` probe asks Alertmanager for the alerts its `--matcher`s select (see `./alert-matchers`); it fails on a
 * firing one, and is inconclusive when Alertmanager gives no usable answer, which fails it only with
 * `--inconclusive-fails`. The `Authorization` headers of the alerts and metric probes come from the environment
 * (`AUTHORIZATION_ENV` of `./probe-command`), never from the command line, and are never printed.
 *
 * An `exec` probe runs its command with an explicit environment: {@link COMMAND_ENV_ALLOWLIST} plus the variables
 * named by `--env` and `--secret-env`, nothing else of the probe's own environment (the deploying process's state
 * passphrase, cloud and registry credentials). The values of `--secret-env` variables are redacted, as substrings and
 * line by line for multi-line values, from everything the probe prints (streamed output, progress, the JSON result).
 */
import { spawn } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import { parseArgs } from "node:util";
import { registryAccess, type RegistryAccess } from "../registry/access";
import { alertsQueryUrl } from "./alert-matchers";
import { grafanaProbeMain } from "./grafana-probe";
import { parseCondition, prometheusInstant, runMetricCheck } from "./metrics";
import type { Attempt, CheckResult } from "./check-result";
import { errorText, redactor } from "./redact";
export { MIN_REDACTED_FRAGMENT, REDACTED, redactor } from "./redact";
import { keepWrittenFiles, outputTail } from "./kept-files";
import { httpAttempt } from "./http-check";
export { httpAttempt, looksLikePrometheus } from "./http-check";
import { routedHttpAttempt } from "./ingress-route";
import { forwardedHttpAttempt, podRunningTimeout } from "./port-forward";
import { AUTHORIZATION_ENV, COMMAND_ENV_ALLOWLIST, KUBECONFIG_ENV } from "./probe-command";
import { isMainScript } from "../util/entry";

/** What the probe prints for a check (the line `./check-result` reads), and the files it did not keep. */
export interface ProbeResult extends CheckResult {
  /** Files written there but not kept (over the limits of `./kept-files`). */
  readonly leftOut?: readonly string[];
}

export type { Attempt };

export interface RetryOptions {
  readonly attempts: number;
  readonly timeoutMs: number;
  readonly backoffMs: number;
  readonly maxBackoffMs?: number;
  readonly log?: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Delay before retry number `n` (1-based): base·2^(n-1), capped. */
export function backoffDelay(n: number, baseMs: number, maxMs = 15_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, n - 1));
}

/** Runs `attempt` until it succeeds or the attempts are used up; each attempt is aborted after the timeout. */
export async function withRetries(check: string, attempt: Attempt, o: RetryOptions): Promise<ProbeResult> {
  const started = Date.now();
  const log = o.log ?? (() => undefined);
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last = "not attempted";
  for (let n = 1; n <= o.attempts; n++) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), o.timeoutMs);
    try {
      const detail = await attempt(controller.signal);
      return { check, ok: true, attempts: n, elapsedMs: Date.now() - started, detail };
    } catch (err) {
      last = controller.signal.aborted ? `timed out after ${o.timeoutMs} ms` : errorText(err);
      log(`[${check}] attempt ${n}/${o.attempts} failed: ${last}`);
    } finally {
      clearTimeout(timer);
    }
    if (n < o.attempts) await sleep(backoffDelay(n, o.backoffMs, o.maxBackoffMs));
  }
  return { check, ok: false, attempts: o.attempts, elapsedMs: Date.now() - started, detail: last };
}

/** Options of {@link alertsAttempt}. */
export interface AlertsOptions {
  /**
   * Matchers selecting this release's alerts (`src/verify/alert-matchers.ts`), each sent as a `filter=` parameter.
   * Empty: every alert counts.
   */
  readonly matchers?: readonly string[];
  /** The `Authorization` header's value (`Bearer …`, `Basic …`); never printed. */
  readonly authorization?: string;
}

/** A firing alert selected by the matchers: the check failed (as opposed to Alertmanager not answering). */
export class AlertsFiringError extends Error {
  constructor(readonly alertnames: readonly string[]) {
    super(`${alertnames.length} alert(s) firing: ${alertnames.join(", ")}`);
    this.name = "AlertsFiringError";
  }
}

/**
 * Alertmanager API v2: no active, unsilenced, uninhibited alert selected by the matchers may be firing. Throws
 * {@link AlertsFiringError} when one is; any other error means Alertmanager gave no usable answer.
 */
export function alertsAttempt(baseUrl: string, options: AlertsOptions = {}): Attempt {
  const url = alertsQueryUrl(baseUrl, options.matchers ?? []);
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.authorization !== undefined && options.authorization !== "")
    headers.authorization = options.authorization;
  return async (signal) => {
    const res = await fetch(url, { signal, headers });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    const alerts: unknown = await res.json();
    if (!Array.isArray(alerts)) throw new Error(`${url} did not return a list of alerts`);
    const firing = alerts
      .map((a) => (a as { labels?: { alertname?: string } }).labels?.alertname ?? "unnamed")
      .sort();
    if (firing.length > 0) throw new AlertsFiringError(firing);
    const scope =
      (options.matchers ?? []).length > 0 ? ` matching ${(options.matchers ?? []).join(", ")}` : "";
    return `no alerts firing${scope}`;
  };
}

export type AlertsOutcome = "successful" | "failed" | "inconclusive";

/**
 * Judges the alerts check once its attempts are spent: a firing alert on the last attempt failed it; no usable answer
 * at all is inconclusive, which fails the check only when `inconclusiveFails` (production). Pure.
 */
export function judgeAlerts(
  result: ProbeResult,
  lastFiring: boolean,
  inconclusiveFails: boolean,
): ProbeResult & { readonly outcome: AlertsOutcome } {
  if (result.ok) return { ...result, outcome: "successful", detail: `successful: ${result.detail}` };
  if (lastFiring) return { ...result, outcome: "failed", detail: `failed: ${result.detail}` };
  return {
    ...result,
    ok: !inconclusiveFails,
    outcome: "inconclusive",
    detail: `inconclusive: Alertmanager gave no usable answer (${result.detail})`,
  };
}

/**
 * The alerts probe: {@link alertsAttempt} with retries, judged by {@link judgeAlerts}. The authorization comes from
 * the environment ({@link AUTHORIZATION_ENV}), never from the command line, and is redacted from what is printed.
 */
export async function alertsProbe(
  name: string,
  o: {
    readonly url: string;
    readonly matchers: readonly string[];
    readonly authorization?: string;
    readonly inconclusiveFails: boolean;
    readonly retry: RetryOptions;
  },
): Promise<ProbeResult & { readonly outcome: AlertsOutcome }> {
  const attempt = alertsAttempt(o.url, {
    matchers: o.matchers,
    ...(o.authorization !== undefined ? { authorization: o.authorization } : {}),
  });
  let lastFiring = false;
  const tracked: Attempt = async (signal) => {
    try {
      const detail = await attempt(signal);
      lastFiring = false;
      return detail;
    } catch (err) {
      lastFiring = err instanceof AlertsFiringError;
      throw err;
    }
  };
  const redact = redactor(o.authorization !== undefined ? [o.authorization] : []);
  const result = await withRetries(name, tracked, {
    ...o.retry,
    ...(o.retry.log !== undefined ? { log: (line: string) => o.retry.log?.(redact(line)) } : {}),
  });
  const judged = judgeAlerts(result, lastFiring, o.inconclusiveFails);
  return { ...judged, detail: redact(judged.detail) };
}

/**
 * The registry must resolve `ref` (`registry/repository:tag`) to `expected`: read with skopeo and the machine's registry
 * logins (the registry's challenge and token flow; see src/registry/access.ts).
 */
export function digestAttempt(
  ref: string,
  expected: string,
  registry: RegistryAccess = registryAccess(),
): Attempt {
  return async () => {
    const found = await registry.digestOf(ref);
    if (found !== expected) {
      // A mismatch will not fix itself by retrying, but the retry budget is small; say exactly what differs.
      throw new Error(`registry digest ${found} differs from the expected ${expected}`);
    }
    return `registry reports ${found}`;
  };
}

/**
 * Builds the environment of a command: exactly the variables named (those set in `source`), nothing else. Pure.
 *
 * @param names variable names to pass through (duplicates are fine)
 * @param source where the values come from (the probe's own environment)
 */
export function allowListedEnv(
  names: readonly string[],
  source: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Options of {@link execAttempt}. */
export interface ExecOptions {
  /** Variables passed to the command by name, beyond {@link COMMAND_ENV_ALLOWLIST}. */
  readonly env?: readonly string[];
  /** Variables passed to the command by name whose values are secrets: redacted from everything printed. */
  readonly secretEnv?: readonly string[];
  /** Where the values of the variables come from. Default `process.env`. */
  readonly source?: Readonly<Record<string, string | undefined>>;
  /** Receives the command's output (stdout and stderr), redacted, line by line. Default: the probe's stderr. */
  readonly output?: (text: string) => void;
  /** Directory the command runs in. Default: the probe's own. */
  readonly cwd?: string;
}

/**
 * Runs a shell command with an allow-listed environment ({@link COMMAND_ENV_ALLOWLIST} plus `env` and `secretEnv`);
 * exit code 0 is success. Output goes, redacted, to stderr so the JSON result stays alone on stdout; a failure's
 * detail carries the redacted tail of the output. The command runs in a process group of its own: when the attempt
 * times out the whole group is killed (the shell and everything it started), and whatever the command left running
 * in the background is killed when the shell exits.
 */
export function execAttempt(command: string, options: ExecOptions = {}): Attempt {
  const source = options.source ?? process.env;
  const secretNames = options.secretEnv ?? [];
  const env = allowListedEnv([...COMMAND_ENV_ALLOWLIST, ...(options.env ?? []), ...secretNames], source);
  const redact = redactor(secretNames.map((name) => source[name] ?? ""));
  const output = options.output ?? ((text: string) => void process.stderr.write(text));
  return (signal) =>
    new Promise<string>((resolve, reject) => {
      if (signal.aborted) {
        reject(new Error("aborted before it started"));
        return;
      }
      const child = spawn("/bin/sh", ["-c", command], {
        stdio: ["ignore", "pipe", "pipe"],
        env,
        detached: true,
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      });
      const killGroup = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          // the group is empty: nothing left to kill
        }
      };
      signal.addEventListener("abort", killGroup, { once: true });
      child.on("exit", killGroup);
      let tail = "";
      // Each stream is cut into whole lines before redaction, so a value split across chunks is still found.
      const stream = () => {
        const decoder = new StringDecoder("utf8");
        let pending = "";
        const emit = (text: string) => {
          const clean = redact(text);
          output(clean);
          tail = (tail + clean).slice(-400);
        };
        return {
          data: (chunk: Buffer) => {
            pending += decoder.write(chunk);
            const end = pending.lastIndexOf("\n");
            if (end < 0) return;
            emit(pending.slice(0, end + 1));
            pending = pending.slice(end + 1);
          },
          end: () => {
            pending += decoder.end();
            if (pending !== "") emit(`${pending}\n`);
            pending = "";
          },
        };
      };
      const out = stream();
      const err = stream();
      child.stdout.on("data", out.data);
      child.stderr.on("data", err.data);
      child.on("error", (e) => reject(new Error(redact(errorText(e)))));
      child.on("close", (code) => {
        signal.removeEventListener("abort", killGroup);
        out.end();
        err.end();
        if (code === 0) resolve("command succeeded");
        else reject(new Error(`exit code ${code}: ${tail.trim()}`));
      });
    });
}

/**
 * The probe's command line (see the file comment); resolves to the exit code. Throws for an unknown probe kind or a
 * missing flag.
 */
export async function main(argv: readonly string[]): Promise<number> {
  // A Grafana panel check has flags of its own (src/verify/grafana-probe.ts).
  if (argv[0] === "grafana") return grafanaProbeMain(argv.slice(1));
  const dash = argv.indexOf("--");
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const command = dash >= 0 ? argv.slice(dash + 1).join(" ") : "";
  const { positionals, values } = parseArgs({
    args: [...own],
    allowPositionals: true,
    options: {
      name: { type: "string" },
      url: { type: "string" },
      ref: { type: "string" },
      expect: { type: "string" },
      prometheus: { type: "boolean", default: false },
      attempts: { type: "string", default: "5" },
      timeout: { type: "string", default: "10" },
      "backoff-ms": { type: "string", default: "1000" },
      env: { type: "string", multiple: true, default: [] },
      "secret-env": { type: "string", multiple: true, default: [] },
      "set-env": { type: "string", multiple: true, default: [] },
      cwd: { type: "string" },
      keep: { type: "string", multiple: true, default: [] },
      "keep-into": { type: "string" },
      query: { type: "string" },
      condition: { type: "string" },
      evaluations: { type: "string", default: "3" },
      interval: { type: "string", default: "10" },
      "failure-limit": { type: "string", default: "0" },
      "inconclusive-fails": { type: "boolean", default: false },
      matcher: { type: "string", multiple: true, default: [] },
      namespace: { type: "string" },
      resource: { type: "string" },
      ingress: { type: "string" },
      port: { type: "string" },
      path: { type: "string" },
      context: { type: "string" },
    },
  });
  const kind = positionals[0];
  const name = values.name ?? kind ?? "probe";
  const need = (v: string | undefined, flag: string): string => {
    if (v === undefined || v === "") throw new Error(`${kind} needs ${flag}`);
    return v;
  };
  if (kind === "metric") {
    return metricProbe(name, {
      url: need(values.url, "--url"),
      query: need(values.query, "--query"),
      condition: need(values.condition, "--condition"),
      evaluations: Number(values.evaluations),
      intervalSeconds: Number(values.interval),
      failureLimit: Number(values["failure-limit"]),
      timeoutSeconds: Number(values.timeout),
      inconclusiveFails: values["inconclusive-fails"],
      ...optionalAuthorization(process.env[AUTHORIZATION_ENV.prometheus]),
    });
  }
  const retry: RetryOptions = {
    attempts: Number(values.attempts),
    timeoutMs: Number(values.timeout) * 1000,
    backoffMs: Number(values["backoff-ms"]),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  if (kind === "alerts") {
    const result = await alertsProbe(name, {
      url: need(values.url, "--url"),
      matchers: values.matcher,
      inconclusiveFails: values["inconclusive-fails"],
      retry,
      ...optionalAuthorization(process.env[AUTHORIZATION_ENV.alertmanager]),
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (!result.ok) process.stderr.write(`[${name}] ${result.outcome.toUpperCase()}: ${result.detail}\n`);
    return result.ok ? 0 : 1;
  }
  let attempt: Attempt;
  switch (kind) {
    case "http":
      attempt = httpAttempt(need(values.url, "--url"), values.prometheus);
      break;
    case "route":
      attempt = routedHttpAttempt(
        need(values.url, "--url"),
        values.prometheus,
        {
          namespace: need(values.namespace, "--namespace"),
          ingress: need(values.ingress, "--ingress"),
          ...(values.context !== undefined ? { context: values.context } : {}),
        },
        process.env[KUBECONFIG_ENV] !== undefined ? { kubeconfig: process.env[KUBECONFIG_ENV] } : {},
      );
      break;
    case "forward":
      attempt = forwardedHttpAttempt(
        {
          namespace: need(values.namespace, "--namespace"),
          resource: need(values.resource, "--resource"),
          port: Number(need(values.port, "--port")),
          ...(values.context !== undefined ? { context: values.context } : {}),
        },
        need(values.path, "--path"),
        {
          podRunningTimeoutSeconds: podRunningTimeout(Number(values.timeout)),
          ...(process.env[KUBECONFIG_ENV] !== undefined ? { kubeconfig: process.env[KUBECONFIG_ENV] } : {}),
        },
        (url) => httpAttempt(url, false),
      );
      break;
    case "digest":
      attempt = digestAttempt(need(values.ref, "--ref"), need(values.expect, "--expect"));
      break;
    case "exec":
      return execProbe(name, need(command, "a command after --"), values, retry);
    default:
      throw new Error(
        `unknown probe "${kind ?? ""}" (expected http, route, forward, alerts, digest, exec, metric or grafana)`,
      );
  }
  const result = await withRetries(name, attempt, retry);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (!result.ok)
    process.stderr.write(`[${name}] FAILED after ${result.attempts} attempt(s): ${result.detail}\n`);
  return result.ok ? 0 : 1;
}

/** Characters of an exec check's output its result keeps (the tail). */
export const EXEC_OUTPUT_LIMIT = 16_000;

/**
 * An exec check: the command run (with retries) in its directory with the allow-listed environment plus the named
 * and set variables; its redacted output (tail) and the files it wrote in the kept directories go into the result.
 */
async function execProbe(
  name: string,
  command: string,
  values: {
    readonly env: readonly string[];
    readonly "secret-env": readonly string[];
    readonly "set-env": readonly string[];
    readonly cwd?: string | undefined;
    readonly keep: readonly string[];
    readonly "keep-into"?: string | undefined;
  },
  retry: RetryOptions,
): Promise<number> {
  const set: Record<string, string> = {};
  for (const pair of values["set-env"]) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`--set-env needs NAME=value (got ${pair})`);
    set[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const secretEnv = values["secret-env"];
  const redact = redactor(secretEnv.map((n) => process.env[n] ?? ""));
  const tail = outputTail(EXEC_OUTPUT_LIMIT);
  const started = Date.now();
  const attempt = execAttempt(command, {
    env: [...values.env, ...Object.keys(set)],
    secretEnv,
    source: { ...process.env, ...set },
    output: (text) => {
      process.stderr.write(text);
      tail.write(text);
    },
    ...(values.cwd !== undefined ? { cwd: values.cwd } : {}),
  });
  const outcome = await withRetries(name, attempt, retry);
  const into = values["keep-into"];
  const files =
    into !== undefined && values.keep.length > 0
      ? keepWrittenFiles({
          cwd: values.cwd ?? process.cwd(),
          dirs: values.keep,
          sinceMs: started,
          into,
          redact,
        })
      : undefined;
  const result: ProbeResult = {
    ...outcome,
    output: tail.text(),
    ...(files !== undefined ? { kept: files.kept } : {}),
    ...(files !== undefined && files.leftOut.length > 0 ? { leftOut: files.leftOut } : {}),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (!result.ok)
    process.stderr.write(`[${name}] FAILED after ${result.attempts} attempt(s): ${result.detail}\n`);
  return result.ok ? 0 : 1;
}

/** `{ authorization }` when the variable holds a value, else nothing. */
function optionalAuthorization(value: string | undefined): { authorization?: string } {
  return value !== undefined && value !== "" ? { authorization: value } : {};
}

/**
 * A metric check: the query evaluated over a window and judged with the analysis semantics of `./metrics`. Prints
 * the same JSON result line as the other probes, its detail starting with the outcome; exits 1 when the check failed,
 * or was inconclusive and `inconclusiveFails` (production) is set.
 */
export async function metricProbe(
  name: string,
  o: {
    readonly url: string;
    readonly query: string;
    readonly condition: string;
    readonly evaluations: number;
    readonly intervalSeconds: number;
    readonly failureLimit: number;
    readonly timeoutSeconds: number;
    readonly inconclusiveFails: boolean;
    /** The `Authorization` header's value for Prometheus; never printed. */
    readonly authorization?: string;
  },
  sleep?: (ms: number) => Promise<void>,
): Promise<number> {
  const condition = parseCondition(o.condition);
  if (condition === undefined)
    throw new Error(`--condition must look like "> 0" or "< 0.01" (got ${o.condition})`);
  const started = Date.now();
  const verdict = await runMetricCheck(
    () => prometheusInstant(o.url, o.query, AbortSignal.timeout(o.timeoutSeconds * 1000), o.authorization),
    {
      condition,
      evaluations: o.evaluations,
      intervalMs: o.intervalSeconds * 1000,
      failureLimit: o.failureLimit,
    },
    sleep,
  );
  const ok = verdict.outcome === "successful" || (verdict.outcome === "inconclusive" && !o.inconclusiveFails);
  const result: ProbeResult = {
    check: name,
    ok,
    attempts: verdict.measurements.length,
    elapsedMs: Date.now() - started,
    detail: verdict.detail,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (!ok) process.stderr.write(`[${name}] ${verdict.outcome.toUpperCase()}: ${verdict.detail}\n`);
  return ok ? 0 : 1;
}

if (isMainScript(module, __filename, "probe.js")) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`probe: ${errorText(err)}\n`);
      process.exit(2);
    },
  );
}
