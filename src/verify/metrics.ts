/**
 * Metric checks of the post-deploy verification (playbook step 6.4: traffic, error ratio, billing metrics): a PromQL
 * instant query evaluated several times over a window, each measurement judged against a condition, with the outcome
 * semantics of an Argo Rollouts analysis: `successful`, `failed` (more failed measurements than `failureLimit`) or
 * `inconclusive` (a measurement had no data and the check did not fail). Inconclusive fails production's gate and is
 * reported as its own outcome everywhere.
 */

/** A comparison against a threshold, e.g. `> 0` or `< 0.01`. */
export interface MetricCondition {
  readonly op: ">" | ">=" | "<" | "<=" | "==";
  readonly threshold: number;
}

const CONDITION_RE = /^\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/i;

/** Parses `> 0`, `<= 0.01`, `== 1`; undefined for anything else. */
export function parseCondition(text: string): MetricCondition | undefined {
  const m = CONDITION_RE.exec(text);
  if (m?.[1] === undefined || m[2] === undefined) return undefined;
  return { op: m[1] as MetricCondition["op"], threshold: Number(m[2]) };
}

/** Whether a measured value meets the condition. */
export function meets(value: number, c: MetricCondition): boolean {
  switch (c.op) {
    case ">":
      return value > c.threshold;
    case ">=":
      return value >= c.threshold;
    case "<":
      return value < c.threshold;
    case "<=":
      return value <= c.threshold;
    case "==":
      return value === c.threshold;
  }
}

export type MetricOutcome = "successful" | "failed" | "inconclusive";

/** One evaluation: the value (undefined = no data) or the error that prevented reading it. */
export type Measurement = { readonly value: number | undefined } | { readonly error: string };

export interface MetricCheckOptions {
  readonly condition: MetricCondition;
  /** How many times the query is evaluated. */
  readonly evaluations: number;
  /** Wait between evaluations, in milliseconds. */
  readonly intervalMs: number;
  /** How many failed measurements are tolerated; one more fails the check. */
  readonly failureLimit: number;
}

export interface MetricVerdict {
  readonly outcome: MetricOutcome;
  readonly measurements: readonly Measurement[];
  readonly detail: string;
}

/** Judges a finished series of measurements. Pure. */
export function judgeMeasurements(
  measurements: readonly Measurement[],
  o: Pick<MetricCheckOptions, "condition" | "failureLimit">,
): MetricVerdict {
  let failed = 0;
  let noData = 0;
  for (const m of measurements) {
    if ("error" in m) failed += 1;
    else if (m.value === undefined) noData += 1;
    else if (!meets(m.value, o.condition)) failed += 1;
  }
  const shown = measurements
    .map((m) => ("error" in m ? "error" : m.value === undefined ? "no data" : String(m.value)))
    .join(", ");
  const want = `${o.condition.op} ${o.condition.threshold}`;
  const outcome: MetricOutcome =
    failed > o.failureLimit ? "failed" : noData > 0 ? "inconclusive" : "successful";
  return {
    outcome,
    measurements,
    detail: `${outcome}: measured [${shown}], want ${want}, ${failed} failed (limit ${o.failureLimit}), ${noData} without data`,
  };
}

/** Evaluates the query `evaluations` times and judges the series; `read` returns undefined for no data. */
export async function runMetricCheck(
  read: () => Promise<number | undefined>,
  o: MetricCheckOptions,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<MetricVerdict> {
  const measurements: Measurement[] = [];
  for (let i = 0; i < o.evaluations; i += 1) {
    if (i > 0) await sleep(o.intervalMs);
    try {
      measurements.push({ value: await read() });
    } catch (e) {
      measurements.push({ error: e instanceof Error ? e.message : String(e) });
    }
    // Like an analysis run, stop as soon as the failure limit is exceeded.
    if (judgeMeasurements(measurements, o).outcome === "failed") break;
  }
  return judgeMeasurements(measurements, o);
}

/**
 * Reads one instant query from the Prometheus HTTP API (`GET <base>/api/v1/query?query=…`): the first sample's value,
 * or undefined when the result is empty. Throws on an HTTP or API error. `authorization` is sent as the
 * `Authorization` header (`Bearer …`, `Basic …`) when given.
 */
export async function prometheusInstant(
  baseUrl: string,
  query: string,
  signal?: AbortSignal,
  authorization?: string,
): Promise<number | undefined> {
  const url = `${baseUrl.replace(/\/+$/, "")}/api/v1/query?query=${encodeURIComponent(query)}`;
  const res = await fetch(url, {
    ...(signal !== undefined ? { signal } : {}),
    ...(authorization !== undefined && authorization !== "" ? { headers: { authorization } } : {}),
  });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const body = (await res.json()) as {
    status?: string;
    error?: string;
    data?: { resultType?: string; result?: unknown };
  };
  if (body.status !== "success") throw new Error(`query failed: ${body.error ?? "unknown error"}`);
  const result = body.data?.result;
  // scalar: [ts, "v"]; vector: [{ value: [ts, "v"] }, …]
  const pair =
    body.data?.resultType === "scalar"
      ? result
      : Array.isArray(result)
        ? (result[0] as { value?: unknown } | undefined)?.value
        : undefined;
  if (!Array.isArray(pair) || pair.length < 2) return undefined;
  const value = Number(pair[1]);
  if (!Number.isFinite(value)) return undefined;
  return value;
}
