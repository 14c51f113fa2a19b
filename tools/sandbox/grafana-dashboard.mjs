// The Grafana stand-in's dashboard and query API (used by standins.mjs on the Grafana port):
//   GET  /api/dashboards/uid/nova-release  -> {dashboard, meta} as Grafana's HTTP API answers it: the "Nova RMS release"
//        dashboard with a row and three panels on the data source uid "sandbox-prometheus", each with one Prometheus
//        target that uses the dashboard variable $namespace:
//          id 1 "Traffic"         sum(rate(http_requests_total{namespace="$namespace"}[$__rate_interval]))
//          id 2 "Module toggles"  sum(nova_module_enabled{namespace="$namespace"})
//          id 3 "Billing"         sum(increase(nova_billing_job_failures_total{namespace="$namespace"}[$__range]))
//        (the Billing panel sits inside a collapsed row, as Grafana stores it). Any other uid answers 404.
//   POST /api/ds/query {from, to, queries: [{refId, datasource: {uid}, expr, …}]} -> {results: {<refId>: {status,
//        frames}}}: each query matched to a panel by its expression (any namespace value), answered with that panel's
//        values as one data frame (a time field within [from, to] and a number field); a panel set to no data answers
//        a frame without values, as Grafana does for an empty result. A query whose expression still holds a dashboard
//        variable ($name, not $__…) answers Prometheus's parse error (status 400) in its result; an unknown data
//        source uid, 400 for the request; an expression of no panel, an empty frame list.
//   Values: Traffic [12.4, 13.1, 12.8, 13.3], Module toggles [6, 6, 6, 6], Billing [0, 0, 0, 0]. The control endpoint
//   POST /__grafana {"panel": "<title>" | <id>, "values": [numbers] | null} sets one panel's values (null: no data);
//   {"reset": true} restores them.

const DATASOURCE = { type: "prometheus", uid: "sandbox-prometheus" };

const PANELS = [
  {
    id: 1,
    title: "Traffic",
    expr: 'sum(rate(http_requests_total{namespace="$namespace"}[$__rate_interval]))',
    values: [12.4, 13.1, 12.8, 13.3],
  },
  {
    id: 2,
    title: "Module toggles",
    expr: 'sum(nova_module_enabled{namespace="$namespace"})',
    values: [6, 6, 6, 6],
  },
  {
    id: 3,
    title: "Billing",
    expr: 'sum(increase(nova_billing_job_failures_total{namespace="$namespace"}[$__range]))',
    values: [0, 0, 0, 0],
  },
];

/** The values each panel answers now, by id (null: no data). */
const panelValues = new Map();
export function resetPanels() {
  panelValues.clear();
  for (const p of PANELS) panelValues.set(p.id, [...p.values]);
}
resetPanels();

/** POST /__grafana {panel, values}: undefined when applied, else the error to answer. */
export function setPanelValues(given) {
  const panel = PANELS.find((p) => p.id === given.panel || p.title === given.panel);
  if (panel === undefined)
    return `no panel ${JSON.stringify(given.panel)} (known: ${PANELS.map((p) => p.title).join(", ")})`;
  const ok =
    given.values === null ||
    (Array.isArray(given.values) && given.values.every((v) => typeof v === "number"));
  if (!ok) return "values must be a list of numbers or null (no data)";
  panelValues.set(panel.id, given.values);
  return undefined;
}

const target = (p) => ({
  refId: "A",
  datasource: DATASOURCE,
  expr: p.expr,
  legendFormat: p.title,
  range: true,
});
const modelPanel = (p, y) => ({
  id: p.id,
  type: "timeseries",
  title: p.title,
  datasource: DATASOURCE,
  gridPos: { h: 8, w: 12, x: 0, y },
  targets: [target(p)],
});

/** GET /api/dashboards/uid/<uid>. */
export function dashboardAnswer(uid) {
  if (uid !== "nova-release") return { status: 404, body: { message: "Dashboard not found" } };
  const [traffic, toggles, billing] = PANELS;
  return {
    status: 200,
    body: {
      meta: { type: "db", slug: "nova-rms-release", url: "/d/nova-release/nova-rms-release" },
      dashboard: {
        uid,
        title: "Nova RMS release",
        schemaVersion: 39,
        templating: { list: [{ name: "namespace", type: "custom", query: "nova-prod" }] },
        panels: [
          modelPanel(traffic, 0),
          modelPanel(toggles, 8),
          {
            id: 10,
            type: "row",
            title: "Billing",
            collapsed: true,
            gridPos: { h: 1, w: 24, x: 0, y: 16 },
            panels: [modelPanel(billing, 17)],
          },
        ],
      },
    },
  };
}

/** A template expression as a pattern: `$namespace` matches any label value; `$__…` stays as written. */
function exprPattern(expr) {
  const escaped = expr.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\\$namespace/g, '[^"]*');
  return new RegExp(`^${escaped}$`);
}
const PATTERNS = PANELS.map((p) => ({ panel: p, re: exprPattern(p.expr) }));

/** One data frame: the panel's values spread over [from, to]. */
function frame(refId, values, from, to) {
  const step = (to - from) / (values.length + 1);
  return {
    schema: {
      refId,
      fields: [
        { name: "Time", type: "time", typeInfo: { frame: "time.Time" } },
        { name: "Value", type: "number", typeInfo: { frame: "float64", nullable: true } },
      ],
    },
    data: { values: [values.map((_, i) => Math.round(from + step * (i + 1))), values] },
  };
}

/** POST /api/ds/query. */
export function queryAnswer(given) {
  const from = Number(given?.from);
  const to = Number(given?.to);
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to || !Array.isArray(given.queries)) {
    return { status: 400, body: { message: "expected {from, to (epoch ms, from < to), queries: [...]}" } };
  }
  const results = {};
  for (const q of given.queries) {
    const refId = typeof q?.refId === "string" ? q.refId : "A";
    if (q?.datasource?.uid !== DATASOURCE.uid) {
      return {
        status: 400,
        body: { message: `data source ${JSON.stringify(q?.datasource?.uid)} was not found` },
      };
    }
    const expr = typeof q.expr === "string" ? q.expr : "";
    const variable = /\$(?!__)\{?[A-Za-z_]\w*/.exec(expr);
    if (variable !== null) {
      results[refId] = {
        status: 400,
        error: `bad_data: invalid parameter "query": 1:1: parse error: unexpected character: '$' (${variable[0]})`,
        frames: [],
      };
      continue;
    }
    const match = PATTERNS.find((p) => p.re.test(expr));
    const values = match === undefined ? undefined : panelValues.get(match.panel.id);
    results[refId] = {
      status: 200,
      frames: match === undefined ? [] : [frame(refId, values ?? [], from, to)],
    };
  }
  return { status: 200, body: { results } };
}
