/**
 * The Grafana panel check (see `./grafana-panels`): read over HTTP, retried, judged, and run three ways —
 *
 *   node dist/src/verify/probe.js grafana --name grafana-traffic --url https://grafana --dashboard <uid>
 *     (--panel-id <n> | --panel-title <title>) [--condition '> 0']… [--var name=value]… [--window <s>]
 *     [--inconclusive-fails] [--attempts n] [--timeout s] [--backoff-ms ms]
 *
 * by the program's command resources (`<verification>-grafana-<panel>`), and in process by `rollout verify`
 * ({@link grafanaPanelAttempts}). The `Authorization` header comes from the environment (`AUTHORIZATION_ENV.grafana`),
 * never from the command line, and is never printed.
 */
import { parseArgs } from "node:util";
import type { Attempt, CheckResult } from "./check-result";
import { errorText, MIN_REDACTED_FRAGMENT, redactor } from "./redact";
import {
  findPanel,
  frameValues,
  judgePanel,
  panelConditions,
  panelLabel,
  PanelLookupError,
  panelQueries,
  queryRequest,
  type GrafanaPanelRef,
  type GrafanaPanelsConfig,
  type PanelVerdict,
} from "./grafana-panels";
import { AUTHORIZATION_ENV, type ProbeSpec } from "./probe-command";

/** Where and how one panel is read. */
export interface PanelSource {
  readonly url: string;
  readonly dashboardUid: string;
  readonly panel: { readonly id?: number; readonly title?: string };
  readonly windowSeconds: number;
  readonly variables?: Readonly<Record<string, string>>;
  /** The `Authorization` header's value (`Bearer <service account token>`); never printed. */
  readonly authorization?: string;
}

/**
 * Reads a panel's values over the window ending `now`: the dashboard's JSON model, then its queries through the
 * query API. Throws {@link PanelLookupError} when the dashboard has no such panel (or its queries cannot be sent), and
 * another error when Grafana gives no usable answer.
 */
export async function readPanel(
  s: PanelSource,
  signal?: AbortSignal,
  now: number = Date.now(),
): Promise<Map<string, number[]>> {
  const base = s.url.replace(/\/+$/, "");
  const headers: Record<string, string> = { accept: "application/json" };
  if (s.authorization !== undefined && s.authorization !== "") headers.authorization = s.authorization;
  const get = `${base}/api/dashboards/uid/${encodeURIComponent(s.dashboardUid)}`;
  const res = await fetch(get, { headers, redirect: "manual", ...(signal !== undefined ? { signal } : {}) });
  if (res.status === 404) throw new PanelLookupError(`Grafana has no dashboard ${s.dashboardUid}`);
  if (!res.ok) throw new Error(`${get} answered ${res.status}`);
  const model = ((await res.json()) as { dashboard?: unknown }).dashboard;
  const label = panelLabel(s.panel);
  const panel = findPanel(model, s.panel);
  if (panel === undefined) throw new PanelLookupError(`dashboard ${s.dashboardUid} has no panel ${label}`);
  const queries = panelQueries(panel, label, s.variables ?? {});
  const post = `${base}/api/ds/query`;
  const answer = await fetch(post, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(queryRequest(queries, { from: now - s.windowSeconds * 1000, to: now })),
    redirect: "manual",
    ...(signal !== undefined ? { signal } : {}),
  });
  const body: unknown = await answer.json().catch(() => undefined);
  // Grafana answers a failed query with its status (400, 500) and the query's error in the results.
  if (!answer.ok && (body as { results?: unknown } | undefined)?.results === undefined)
    throw new Error(`${post} answered ${answer.status}`);
  return frameValues(
    body,
    queries.map((q) => q.refId),
  );
}

/** How a panel check is retried. */
export interface PanelRetry {
  readonly attempts: number;
  readonly timeoutMs: number;
  readonly backoffMs: number;
  readonly log?: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Reads and judges a panel until it passes or fails, or the attempts are spent: a panel without data (its series may
 * lag the rollout) and an unusable answer are asked again; a breach is final. The last inconclusive verdict stands.
 * A missing panel or dashboard is inconclusive at once (asking again would not find it).
 */
export async function runPanelCheck(
  s: PanelSource,
  conditions: readonly string[],
  retry: PanelRetry,
): Promise<PanelVerdict & { readonly attempts: number }> {
  const parsed = panelConditions(conditions);
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const label = panelLabel(s.panel);
  let last: PanelVerdict = { outcome: "inconclusive", detail: "inconclusive: not attempted" };
  for (let n = 1; n <= retry.attempts; n++) {
    const signal = AbortSignal.timeout(retry.timeoutMs);
    try {
      last = judgePanel(label, await readPanel(s, signal), parsed, s.windowSeconds);
      if (last.outcome !== "inconclusive") return { ...last, attempts: n };
    } catch (err) {
      const reason = signal.aborted ? `timed out after ${retry.timeoutMs} ms` : errorText(err);
      last = {
        outcome: "inconclusive",
        detail: `inconclusive: Grafana gave no usable answer for panel ${label} (${reason})`,
      };
      if (err instanceof PanelLookupError) return { ...last, attempts: n };
    }
    retry.log?.(`attempt ${n}/${retry.attempts}: ${last.detail}`);
    if (n < retry.attempts) await sleep(Math.min(15_000, retry.backoffMs * 2 ** (n - 1)));
  }
  return { ...last, attempts: retry.attempts };
}

/** Replaces the authorization (and its token alone) in a text. */
function redactAuthorization(authorization: string | undefined): (text: string) => string {
  return authorization === undefined
    ? (text) => text
    : redactor(
        [authorization, authorization.replace(/^\S+\s+/, "")].filter(
          (v) => v.length >= MIN_REDACTED_FRAGMENT,
        ),
      );
}

/**
 * The probe (`probe.js grafana …`): one panel, judged as {@link runPanelCheck} judges it; prints the JSON result line
 * the other probes print and resolves to the exit code (1 when failed, or inconclusive with `--inconclusive-fails`).
 */
export async function grafanaProbeMain(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  write: (text: string) => void = (text) => void process.stdout.write(text),
): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    allowPositionals: false,
    options: {
      name: { type: "string" },
      url: { type: "string" },
      dashboard: { type: "string" },
      "panel-id": { type: "string" },
      "panel-title": { type: "string" },
      condition: { type: "string", multiple: true, default: [] },
      var: { type: "string", multiple: true, default: [] },
      window: { type: "string", default: "900" },
      "inconclusive-fails": { type: "boolean", default: false },
      attempts: { type: "string", default: "5" },
      timeout: { type: "string", default: "10" },
      "backoff-ms": { type: "string", default: "1000" },
    },
  });
  const need = (v: string | undefined, flag: string): string => {
    if (v === undefined || v === "") throw new Error(`grafana needs ${flag}`);
    return v;
  };
  const panelId = values["panel-id"];
  const panelTitle = values["panel-title"];
  if ((panelId === undefined) === (panelTitle === undefined))
    throw new Error("grafana needs one of --panel-id and --panel-title");
  const variables: Record<string, string> = {};
  for (const pair of values.var) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`--var needs name=value (got ${pair})`);
    variables[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const name = values.name ?? "grafana";
  const authorization = env[AUTHORIZATION_ENV.grafana];
  const redact = redactAuthorization(authorization);
  const started = Date.now();
  const verdict = await runPanelCheck(
    {
      url: need(values.url, "--url"),
      dashboardUid: need(values.dashboard, "--dashboard"),
      panel: panelId !== undefined ? { id: Number(panelId) } : { title: panelTitle ?? "" },
      windowSeconds: Number(values.window),
      variables,
      ...(authorization !== undefined && authorization !== "" ? { authorization } : {}),
    },
    values.condition,
    {
      attempts: Number(values.attempts),
      timeoutMs: Number(values.timeout) * 1000,
      backoffMs: Number(values["backoff-ms"]),
      log: (line) => void process.stderr.write(`[${name}] ${redact(line)}\n`),
    },
  );
  const ok =
    verdict.outcome === "successful" || (verdict.outcome === "inconclusive" && !values["inconclusive-fails"]);
  const result: CheckResult & { readonly outcome: string } = {
    check: name,
    ok,
    attempts: verdict.attempts,
    elapsedMs: Date.now() - started,
    detail: redact(verdict.detail),
    outcome: verdict.outcome,
  };
  write(`${JSON.stringify(result)}\n`);
  if (!ok) process.stderr.write(`[${name}] ${verdict.outcome.toUpperCase()}: ${result.detail}\n`);
  return ok ? 0 : 1;
}

/** The check name of a panel: `grafana-<name>`. */
export const panelCheckName = (panel: GrafanaPanelRef): string => `grafana-${panel.name}`;

/** The probe specs of the configured panels, for the program's command resources. Pure. */
export function grafanaPanelSpecs(
  config: GrafanaPanelsConfig | undefined,
  inconclusiveFails: boolean,
): [string, ProbeSpec][] {
  return (config?.panels ?? []).map((panel) => [
    panelCheckName(panel),
    {
      kind: "grafana",
      url: config?.url ?? "",
      dashboardUid: config?.dashboardUid ?? "",
      panel,
      windowSeconds: config?.windowSeconds ?? 900,
      variables: config?.variables ?? {},
      inconclusiveFails,
    },
  ]);
}

/**
 * The configured panels as in-process attempts, for `rollout verify` (`[name, Attempt]` pairs): an attempt resolves
 * to the successful detail and throws with the failed or inconclusive one, so `rollout verify` fails on both.
 */
export function grafanaPanelAttempts(settings: {
  readonly grafanaPanels?: GrafanaPanelsConfig;
  readonly grafanaAuthorization?: string;
}): [string, Attempt][] {
  const config = settings.grafanaPanels;
  if (config === undefined) return [];
  const redact = redactAuthorization(settings.grafanaAuthorization);
  return config.panels.map((panel): [string, Attempt] => [
    panelCheckName(panel),
    async (signal) => {
      const conditions = panelConditions(panel.conditions);
      const label = panelLabel(panel);
      let verdict: PanelVerdict;
      try {
        const values = await readPanel(
          {
            url: config.url,
            dashboardUid: config.dashboardUid,
            panel,
            windowSeconds: config.windowSeconds,
            variables: config.variables,
            ...(settings.grafanaAuthorization !== undefined
              ? { authorization: settings.grafanaAuthorization }
              : {}),
          },
          signal,
        );
        verdict = judgePanel(label, values, conditions, config.windowSeconds);
      } catch (err) {
        throw new Error(
          redact(`inconclusive: Grafana gave no usable answer for panel ${label} (${errorText(err)})`),
        );
      }
      if (verdict.outcome !== "successful") throw new Error(redact(verdict.detail));
      return redact(verdict.detail);
    },
  ]);
}
