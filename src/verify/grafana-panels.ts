/**
 * Dashboard panels of the post-deploy verification (playbook step 6: the traffic, module-toggle and billing panels
 * are watched after the release). Each configured panel of one Grafana dashboard is read the way Grafana itself reads
 * it: the dashboard's JSON model (`GET /api/dashboards/uid/<uid>`) gives the panel's queries and data sources, and
 * Grafana's query API (`POST /api/ds/query`) answers them over the verification window as data frames.
 *
 * A panel is judged like a metric check (`./metrics`): `successful` when it answered values and none breaches the
 * panel's conditions, `failed` when one does, `inconclusive` when it answered no value at all (or Grafana gave no
 * usable answer). Inconclusive fails production's verification and is reported as its own outcome elsewhere.
 *
 * This file holds the pure part: finding a panel, building its queries, reading values out of frames, judging them.
 * The HTTP client and the probe are in `./grafana-probe`.
 */
import { kebab } from "../util/text";
import { meets, parseCondition, type MetricCondition, type MetricOutcome } from "./metrics";

/** One panel to read (`nova-rollout:grafanaPanels` → `panels[]`). */
export interface GrafanaPanelRef {
  /** DNS-label name: the check is `grafana-<name>`. Default: the title (or `panel-<id>`) in kebab case. */
  readonly name: string;
  /** The panel's id in the dashboard's JSON model; exactly one of `id` and `title` is given. */
  readonly id?: number;
  /** The panel's title as the dashboard shows it. */
  readonly title?: string;
  /** Conditions every value of the panel must meet (`> 0`, `== 0`); none: any data passes. */
  readonly conditions: readonly string[];
}

/** The dashboard panels a stack's verification reads (`nova-rollout:grafanaPanels`). */
export interface GrafanaPanelsConfig {
  /** Grafana's base URL, e.g. `https://grafana.nova-rms.example`. */
  readonly url: string;
  /** The dashboard's UID (its URL's `/d/<uid>/`). */
  readonly dashboardUid: string;
  /** How far back from now the panels are read, in seconds. */
  readonly windowSeconds: number;
  /**
   * Values of the dashboard's own variables (`$namespace`, `${cluster}`), substituted into the panels' queries as the
   * dashboard would (the query API does not know them). Grafana's `$__…` variables are left to Grafana.
   */
  readonly variables: Readonly<Record<string, string>>;
  readonly panels: readonly GrafanaPanelRef[];
}

/** The default check name of a panel reference: its title or `panel-<id>`, in kebab case (at most 40 characters). */
export function defaultPanelName(ref: { readonly id?: number; readonly title?: string }): string {
  const base = ref.title !== undefined ? kebab(ref.title) : `panel-${ref.id ?? 0}`;
  return base.slice(0, 40).replace(/-+$/, "");
}

/** How a panel reference reads in messages: `"Traffic"` or `id 3`. */
export function panelLabel(ref: { readonly id?: number; readonly title?: string }): string {
  return ref.title !== undefined ? `"${ref.title}"` : `id ${ref.id ?? "?"}`;
}

/** The configuration or the dashboard does not let the panel be read (never fixed by asking again). */
export class PanelLookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PanelLookupError";
  }
}

/** A panel of a dashboard's JSON model, as far as the check reads it. */
interface ModelPanel {
  readonly id?: unknown;
  readonly title?: unknown;
  readonly type?: unknown;
  readonly datasource?: unknown;
  readonly targets?: unknown;
  readonly panels?: unknown;
}

const asPanels = (value: unknown): ModelPanel[] =>
  Array.isArray(value) ? value.filter((p): p is ModelPanel => p !== null && typeof p === "object") : [];

/**
 * Finds a panel in a dashboard's JSON model (the `dashboard` of `GET /api/dashboards/uid/<uid>`), rows included: a
 * collapsed row keeps its panels inside itself. Rows themselves are never the panel. Pure.
 */
export function findPanel(
  dashboard: unknown,
  ref: { readonly id?: number; readonly title?: string },
): ModelPanel | undefined {
  const top = asPanels((dashboard as { panels?: unknown } | null)?.panels);
  const all = top.flatMap((p) => [p, ...asPanels(p.panels)]).filter((p) => p.type !== "row");
  return all.find((p) => (ref.id !== undefined ? p.id === ref.id : p.title === ref.title));
}

/** One query of `POST /api/ds/query`: the panel's target as the dashboard stores it, with its data source. */
export interface PanelQuery {
  readonly refId: string;
  readonly datasource: { readonly uid: string; readonly type?: string };
  readonly [field: string]: unknown;
}

const MIXED = "-- Mixed --";
/** A dashboard variable in a query: `$name`, `${name}`, `${name:format}` or `[[name]]`. */
const VARIABLE_RE = /\$\{([A-Za-z_]\w*)(?::[^}]*)?\}|\[\[([A-Za-z_]\w*)\]\]|\$([A-Za-z_]\w*)/g;

/** A data source reference `{uid, type?}`, or undefined when the value is none (or Grafana's mixed marker). */
function datasourceOf(value: unknown): { uid: string; type?: string } | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const { uid, type } = value as { uid?: unknown; type?: unknown };
  if (typeof uid !== "string" || uid === "" || uid === MIXED) return undefined;
  return { uid, ...(typeof type === "string" ? { type } : {}) };
}

/** Substitutes the dashboard's variables into one text; throws naming a variable that has no value. */
function substitute(text: string, variables: Readonly<Record<string, string>>, where: string): string {
  return text.replace(VARIABLE_RE, (whole, braced?: string, bracketed?: string, plain?: string) => {
    const name = braced ?? bracketed ?? plain ?? "";
    if (name.startsWith("__")) return whole; // Grafana's own ($__interval, $__rate_interval, $__range)
    const value = variables[name];
    if (value === undefined) {
      throw new PanelLookupError(
        `${where} uses the dashboard variable $${name}: give its value in grafanaPanels.variables`,
      );
    }
    return value;
  });
}

/**
 * The queries of a panel for the query API: every visible target, its data source (the target's own, else the
 * panel's) and the dashboard's variables substituted into its text fields. Throws {@link PanelLookupError} for a panel
 * without queries, a data source given by name or variable only, or a variable without a value. Pure.
 */
export function panelQueries(
  panel: ModelPanel,
  label: string,
  variables: Readonly<Record<string, string>> = {},
): PanelQuery[] {
  const targets = asPanels(panel.targets) as Record<string, unknown>[];
  const visible = targets.filter((t) => t.hide !== true);
  if (visible.length === 0) throw new PanelLookupError(`panel ${label} has no visible query`);
  const panelSource = datasourceOf(panel.datasource);
  return visible.map((target, i) => {
    const refId = typeof target.refId === "string" && target.refId !== "" ? target.refId : `Q${i}`;
    const where = `panel ${label} query ${refId}`;
    const given = datasourceOf(target.datasource) ?? panelSource;
    if (given === undefined) {
      throw new PanelLookupError(
        `${where} names no data source uid (a data source by name is not supported)`,
      );
    }
    const datasource = { ...given, uid: substitute(given.uid, variables, `${where}'s data source`) };
    const fields = Object.fromEntries(
      Object.entries(target).map(([k, v]) => [
        k,
        typeof v === "string" ? substitute(v, variables, where) : v,
      ]),
    );
    return { ...fields, refId, datasource };
  });
}

/** The body of `POST /api/ds/query` for the queries over `[from, to]` (epoch milliseconds). Pure. */
export function queryRequest(
  queries: readonly PanelQuery[],
  window: { readonly from: number; readonly to: number },
): { from: string; to: string; queries: Record<string, unknown>[] } {
  return {
    from: String(window.from),
    to: String(window.to),
    queries: queries.map((q) => ({ maxDataPoints: 200, intervalMs: 15_000, ...q })),
  };
}

/** One data frame as the query API returns it (`schema.fields`, `data.values` column by column). */
interface Frame {
  readonly schema?: { readonly fields?: readonly { readonly type?: unknown }[] };
  readonly data?: { readonly values?: unknown };
}

/**
 * The numbers each query answered (by refId), from the query API's answer `{results: {<refId>: {frames, error}}}`:
 * every finite value of every number field (a time field never counts; nulls are gaps). A query that answered an
 * error throws: Grafana gave no usable answer for it. Pure.
 */
export function frameValues(answer: unknown, refIds: readonly string[]): Map<string, number[]> {
  const results = (answer as { results?: unknown } | null)?.results;
  if (results === null || typeof results !== "object") {
    throw new Error("the query API answered without results");
  }
  const values = new Map<string, number[]>();
  for (const refId of refIds) {
    const result = (results as Record<string, unknown>)[refId] as
      { status?: unknown; error?: unknown; frames?: unknown } | undefined;
    if (typeof result?.error === "string" && result.error !== "") {
      throw new Error(`query ${refId} answered an error: ${result.error}`);
    }
    if (typeof result?.status === "number" && result.status >= 400) {
      throw new Error(`query ${refId} answered status ${result.status}`);
    }
    const frames = (Array.isArray(result?.frames) ? result.frames : []) as Frame[];
    values.set(refId, frames.flatMap(frameNumbers));
  }
  return values;
}

function frameNumbers(frame: Frame): number[] {
  const columns = Array.isArray(frame.data?.values) ? (frame.data.values as unknown[]) : [];
  const fields = frame.schema?.fields ?? [];
  return columns.flatMap((column, i) => {
    const type = fields[i]?.type;
    if (type === "time" || !Array.isArray(column)) return [];
    if (type !== undefined && type !== "number") return [];
    return column.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  });
}

/** A panel's verdict, its detail starting with the outcome. */
export interface PanelVerdict {
  readonly outcome: MetricOutcome;
  readonly detail: string;
}

/** Parses a panel's conditions (validated with the stack config; a bad one here is a programming error). */
export function panelConditions(texts: readonly string[]): MetricCondition[] {
  return texts.map((text) => {
    const c = parseCondition(text);
    if (c === undefined) throw new PanelLookupError(`"${text}" is not a condition such as "> 0" or "< 0.01"`);
    return c;
  });
}

/**
 * Judges the values a panel answered over the window: none at all is inconclusive, any value that misses one of the
 * conditions fails it, anything else passes. Pure.
 */
export function judgePanel(
  label: string,
  values: ReadonlyMap<string, readonly number[]>,
  conditions: readonly MetricCondition[],
  windowSeconds: number,
): PanelVerdict {
  const all = [...values.values()].flat();
  const empty = [...values.entries()].filter(([, v]) => v.length === 0).map(([refId]) => refId);
  const over = `over the last ${windowSeconds} s`;
  if (all.length === 0) {
    return {
      outcome: "inconclusive",
      detail: `inconclusive: panel ${label} answered no data ${over} (queries ${[...values.keys()].join(", ")})`,
    };
  }
  const want = conditions.map((c) => `${c.op} ${c.threshold}`).join(" and ");
  const breaching = all.filter((v) => !conditions.every((c) => meets(v, c)));
  const partly = empty.length > 0 ? `; no data for queries ${empty.join(", ")}` : "";
  if (breaching.length > 0) {
    const shown = [...new Set(breaching)].slice(0, 5).join(", ");
    return {
      outcome: "failed",
      detail: `failed: panel ${label}: ${breaching.length} of ${all.length} values ${over} miss ${want} (${shown})${partly}`,
    };
  }
  const judged = conditions.length > 0 ? `, all ${want}` : "";
  return {
    outcome: "successful",
    detail: `successful: panel ${label} answered ${all.length} values ${over}${judged}${partly}`,
  };
}
