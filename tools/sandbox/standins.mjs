#!/usr/bin/env node
// Stand-in HTTP endpoints for the post-deploy verification, on 127.0.0.1 only (plain node:http):
//   :38080  GET /v1/health -> 200 JSON, GET /v1/metrics -> 200 Prometheus text     (the API)
//   :33001  GET /readyz -> 200 "ok"                                                 (the worker)
//   :39093  GET /api/v2/alerts -> the alerts set with POST /__alerts (none at first)   (Alertmanager)
//           as Alertmanager's API v2 answers them: repeated filter=<matcher> parameters (label="v", label!="v",
//           label=~"re", label!~"re"; all must match; a missing label is ""; a regex matches the whole value) and
//           active/silenced/inhibited (each true unless "false") select them; a malformed matcher answers 400.
//           POST /__alerts {"alerts": [{"labels": {...}, "silenced"?: bool, "inhibited"?: bool}],
//           "authorization"?: "Bearer …"} replaces the alerts; with "authorization", GET /api/v2/alerts answers 401
//           unless the request's Authorization header is that value. With "for": n and "then": [alerts…], the alerts
//           answer n queries, then "then" replaces them (an alert that resolves). {"reset": true} forgets all.
// Control endpoint on each port: POST /__mode with {"status": 500} makes every other path of that port answer
// 500; {"status": 200} restores it; an optional "body" (string or JSON) replaces the answer (e.g. firing alerts);
// an optional "count" limits the mode to that many answers, after which the port answers normally again.
// GET /__mode shows the current mode. Ports can be overridden with NOVA_STANDIN_{API,WORKER,ALERTMANAGER,PROMETHEUS}_PORT.
//   :39090  GET /api/v1/query?query=<PromQL> -> the Prometheus HTTP API's instant-query answer      (Prometheus)
//           POST /__metrics {"query": "<PromQL>", "value": 0.5} sets the value a query returns (a query never set
//           answers no data, except vector(<number>), which answers its number as Prometheus does); "value": null
//           (or no entry) means no data (an empty vector); with "for": n and "then": v the query answers "value" n
//           times, then v; POST /__metrics {"reset": true} forgets every entry.
//   :38090  POST /hooks/<channel> records a webhook message (Slack-style or JSON)                       (webhooks)
//           GET /__received lists what arrived, in order; DELETE /__received forgets it.
//   :33000  POST /api/annotations {time, tags, text, dashboardUID?} stores an annotation, as Grafana's HTTP API does
//           (answers {id, message}); GET /api/annotations?tags=a&tags=b lists those carrying every tag, newest
//           first. POST /__grafana {"authorization": "Bearer …"} makes both answer 401 to any other Authorization
//           header; {"reset": true} forgets the annotations and the authorization.                    (Grafana)
//           GET /api/dashboards/uid/<uid> and POST /api/ds/query answer a dashboard and its panels' data
//           (grafana-dashboard.mjs, which lists them); POST /__grafana {"panel": "<title>", "values": [..] | null}
//           sets what a panel answers (null: no data); the same authorization applies, and reset restores them.
import * as http from "node:http";
import { dashboardAnswer, queryAnswer, resetPanels, setPanelValues } from "./grafana-dashboard.mjs";
import { readBody } from "./serve-util.mjs";

const HOST = "127.0.0.1";
/** Values the Prometheus stand-in answers, by exact query text: a value, or {value, left, then}. */
const metrics = new Map();

/** `vector(<number>)`, evaluated as Prometheus does (one sample without labels); used when no value is set. */
const VECTOR_LITERAL = /^\s*vector\(\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*\)\s*$/i;

/** The value a query answers now (counting down a limited answer). */
function metricValue(query) {
  if (!metrics.has(query)) {
    const literal = VECTOR_LITERAL.exec(query);
    return literal === null ? undefined : Number(literal[1]);
  }
  const entry = metrics.get(query);
  if (entry === null || typeof entry !== "object") return entry;
  if (entry.left <= 0) {
    metrics.set(query, entry.then);
    return entry.then;
  }
  entry.left -= 1;
  return entry.value;
}
/** The Alertmanager stand-in's alerts (API v2 shape) and the Authorization value it requires (none: undefined). */
const alertmanager = { alerts: [], authorization: undefined, remaining: undefined, then: [] };

/**
 * One matcher of Alertmanager's filter syntax, parsed as Alertmanager's classic parser does: {name, op, value} or
 * undefined when malformed. A quoted value is unescaped; an unquoted one is taken as written.
 */
function parseMatcher(text) {
  const m = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|!~|!=|=)\s*([\s\S]*?)\s*$/.exec(text);
  if (m === null) return undefined;
  let value = m[3];
  if (value.startsWith('"')) {
    if (value.length < 2 || !value.endsWith('"')) return undefined;
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (m[2] === "=~" || m[2] === "!~") {
    try {
      return { name: m[1], op: m[2], value, re: new RegExp(`^(?:${value})$`, "u") };
    } catch {
      return undefined;
    }
  }
  return { name: m[1], op: m[2], value };
}

function matcherSelects(matcher, labels) {
  const value = labels[matcher.name] ?? "";
  switch (matcher.op) {
    case "=":
      return value === matcher.value;
    case "!=":
      return value !== matcher.value;
    case "=~":
      return matcher.re.test(value);
    default:
      return !matcher.re.test(value);
  }
}

/** GET /api/v2/alerts: the stored alerts the query selects, or an error answer. */
function alertsAnswer(url, req) {
  if (alertmanager.authorization !== undefined && req.headers.authorization !== alertmanager.authorization) {
    return { status: 401, type: "text/plain", body: "unauthorized\n" };
  }
  const matchers = [];
  for (const text of url.searchParams.getAll("filter")) {
    const matcher = parseMatcher(text);
    if (matcher === undefined)
      return { status: 400, type: "application/json", body: JSON.stringify(`bad matcher format: ${text}`) };
    matchers.push(matcher);
  }
  const include = (param) => url.searchParams.get(param) !== "false";
  const alerts = alertmanager.alerts;
  if (alertmanager.remaining !== undefined && --alertmanager.remaining <= 0) {
    Object.assign(alertmanager, { alerts: alertmanager.then, remaining: undefined, then: [] });
  }
  const selected = alerts.filter((a) => {
    const silenced = a.status.silencedBy.length > 0;
    const inhibited = a.status.inhibitedBy.length > 0;
    if (silenced && !include("silenced")) return false;
    if (inhibited && !include("inhibited")) return false;
    if (!silenced && !inhibited && !include("active")) return false;
    return matchers.every((m) => matcherSelects(m, a.labels));
  });
  return { type: "application/json", body: JSON.stringify(selected) };
}

/** An alert given to POST /__alerts in the shape Alertmanager's API v2 returns. */
function storedAlert(given, i) {
  const labels = Object.fromEntries(Object.entries(given.labels ?? {}).map(([k, v]) => [k, String(v)]));
  const silencedBy = given.silenced === true ? ["sandbox-silence"] : [];
  const inhibitedBy = given.inhibited === true ? ["sandbox-inhibitor"] : [];
  const now = new Date().toISOString();
  return {
    labels,
    annotations: given.annotations ?? {},
    startsAt: now,
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    updatedAt: now,
    fingerprint: String(i).padStart(16, "0"),
    receivers: [{ name: "sandbox" }],
    status: {
      state: silencedBy.length + inhibitedBy.length > 0 ? "suppressed" : "active",
      silencedBy,
      inhibitedBy,
    },
  };
}

/** Messages the webhook stand-in received, in order. */
const received = [];

/** The Grafana stand-in's annotations (oldest first) and the Authorization value it requires (none: undefined). */
const grafana = { annotations: [], authorization: undefined };

/** Grafana's annotations API: POST stores one, GET lists those carrying every `tags` parameter, newest first. */
async function annotationsAnswer(req, url) {
  if (grafana.authorization !== undefined && req.headers.authorization !== grafana.authorization) {
    return { status: 401, body: { message: "Unauthorized" } };
  }
  if (req.method === "GET") {
    const tags = url.searchParams.getAll("tags");
    const list = grafana.annotations.filter((a) => tags.every((t) => a.tags.includes(t)));
    return { status: 200, body: [...list].reverse() };
  }
  const given = JSON.parse((await readBody(req)) || "{}");
  if (
    typeof given.text !== "string" ||
    !Array.isArray(given.tags) ||
    !given.tags.every((t) => typeof t === "string") ||
    !(given.time === undefined || Number.isFinite(given.time))
  ) {
    return { status: 400, body: { message: "expected {text, tags: [string], time?: epoch ms}" } };
  }
  const id = grafana.annotations.length + 1;
  grafana.annotations.push({
    id,
    time: given.time ?? Date.now(),
    tags: given.tags,
    text: given.text,
    dashboardUID: given.dashboardUID ?? "",
  });
  return { status: 200, body: { id, message: "Annotation added" } };
}

const servers = [
  {
    name: "api",
    port: Number(process.env.NOVA_STANDIN_API_PORT ?? 38080),
    routes: {
      "/v1/health": () => ({
        type: "application/json",
        body: JSON.stringify({ status: "ok", service: "nova-rms-api", version: "sandbox" }),
      }),
      "/v1/metrics": () => ({
        type: "text/plain; version=0.0.4",
        body: [
          "# HELP http_requests_total Requests served.",
          "# TYPE http_requests_total counter",
          'http_requests_total{code="200"} 1027',
          'http_requests_total{code="500"} 0',
          "# HELP nova_up Whether the service is up.",
          "# TYPE nova_up gauge",
          "nova_up 1",
          "",
        ].join("\n"),
      }),
    },
  },
  {
    name: "worker",
    port: Number(process.env.NOVA_STANDIN_WORKER_PORT ?? 33001),
    routes: { "/readyz": () => ({ type: "text/plain", body: "ok\n" }) },
  },
  {
    name: "prometheus",
    port: Number(process.env.NOVA_STANDIN_PROMETHEUS_PORT ?? 39090),
    routes: {
      "/api/v1/query": (url) => {
        const value = metricValue(url.searchParams.get("query") ?? "");
        const result =
          value === undefined || value === null
            ? []
            : [{ metric: {}, value: [Date.now() / 1000, String(value)] }];
        return {
          type: "application/json",
          body: JSON.stringify({ status: "success", data: { resultType: "vector", result } }),
        };
      },
    },
  },
  { name: "webhook", port: Number(process.env.NOVA_STANDIN_WEBHOOK_PORT ?? 38090), routes: {} },
  { name: "grafana", port: Number(process.env.NOVA_STANDIN_GRAFANA_PORT ?? 33000), routes: {} },
  {
    name: "alertmanager",
    port: Number(process.env.NOVA_STANDIN_ALERTMANAGER_PORT ?? 39093),
    routes: { "/api/v2/alerts": alertsAnswer },
  },
];

function send(res, status, type, body) {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

for (const def of servers) {
  const mode = { status: 200, body: undefined, remaining: undefined };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", `http://${HOST}`);
    try {
      if (url.pathname === "/__mode") {
        if (req.method === "POST") {
          const parsed = JSON.parse((await readBody(req)) || "{}");
          const status = Number(parsed.status ?? 200);
          if (!Number.isInteger(status) || status < 100 || status > 599) {
            return send(res, 400, "application/json", JSON.stringify({ error: "status must be 100-599" }));
          }
          const count = parsed.count === undefined ? undefined : Number(parsed.count);
          if (count !== undefined && (!Number.isInteger(count) || count < 1)) {
            return send(
              res,
              400,
              "application/json",
              JSON.stringify({ error: "count must be a whole number >= 1" }),
            );
          }
          mode.status = status;
          mode.body = parsed.body;
          mode.remaining = count;
        }
        return send(res, 200, "application/json", JSON.stringify({ name: def.name, ...mode }));
      }
      if (url.pathname === "/__metrics" && def.name === "prometheus" && req.method === "POST") {
        const parsed = JSON.parse((await readBody(req)) || "{}");
        if (parsed.reset === true) metrics.clear();
        else if (
          typeof parsed.query !== "string" ||
          !(parsed.value === null || typeof parsed.value === "number") ||
          (parsed.for !== undefined && !(Number.isInteger(parsed.for) && parsed.for > 0)) ||
          (parsed.then !== undefined && !(parsed.then === null || typeof parsed.then === "number"))
        ) {
          return send(
            res,
            400,
            "application/json",
            JSON.stringify({
              error: "expected {query, value: number|null, for?: n > 0, then?: number|null}",
            }),
          );
        } else if (parsed.for !== undefined) {
          metrics.set(parsed.query, { value: parsed.value, left: parsed.for, then: parsed.then ?? null });
        } else metrics.set(parsed.query, parsed.value);
        return send(res, 200, "application/json", JSON.stringify(Object.fromEntries(metrics)));
      }
      if (url.pathname === "/__alerts" && def.name === "alertmanager" && req.method === "POST") {
        const parsed = JSON.parse((await readBody(req)) || "{}");
        const reset = { alerts: [], authorization: undefined, remaining: undefined, then: [] };
        if (parsed.reset === true) Object.assign(alertmanager, reset);
        else if (
          !Array.isArray(parsed.alerts) ||
          !parsed.alerts.every((a) => a !== null && typeof a === "object" && typeof a.labels === "object") ||
          !(parsed.authorization === undefined || typeof parsed.authorization === "string") ||
          !(parsed.for === undefined || (Number.isInteger(parsed.for) && parsed.for > 0)) ||
          !(
            parsed.then === undefined ||
            (Array.isArray(parsed.then) && parsed.then.every((a) => typeof a?.labels === "object"))
          )
        ) {
          return send(
            res,
            400,
            "application/json",
            JSON.stringify({
              error:
                'expected {alerts: [{labels: {...}, silenced?, inhibited?}], authorization?: "…", for?: n, then?: [alerts]}',
            }),
          );
        } else {
          Object.assign(alertmanager, reset, {
            alerts: parsed.alerts.map(storedAlert),
            authorization: parsed.authorization,
            ...(parsed.for !== undefined
              ? { remaining: parsed.for, then: (parsed.then ?? []).map(storedAlert) }
              : {}),
          });
        }
        return send(res, 200, "application/json", JSON.stringify({ alerts: alertmanager.alerts.length }));
      }
      if (def.name === "grafana") {
        if (url.pathname === "/__grafana" && req.method === "POST") {
          const parsed = JSON.parse((await readBody(req)) || "{}");
          if (parsed.reset === true) {
            Object.assign(grafana, { annotations: [], authorization: undefined });
            resetPanels();
          } else if (typeof parsed.authorization === "string") grafana.authorization = parsed.authorization;
          else if (parsed.panel !== undefined) {
            const problem = setPanelValues(parsed);
            if (problem !== undefined)
              return send(res, 400, "application/json", JSON.stringify({ error: problem }));
          } else
            return send(
              res,
              400,
              "application/json",
              JSON.stringify({ error: "expected {authorization}, {panel, values} or {reset}" }),
            );
          return send(
            res,
            200,
            "application/json",
            JSON.stringify({ annotations: grafana.annotations.length }),
          );
        }
        if (url.pathname === "/api/annotations" && (req.method === "GET" || req.method === "POST")) {
          if (mode.status >= 400) return send(res, mode.status, "application/json", "{}");
          const answer = await annotationsAnswer(req, url);
          return send(res, answer.status, "application/json", JSON.stringify(answer.body));
        }
        const dashboard = url.pathname.startsWith("/api/dashboards/uid/") && req.method === "GET";
        if (dashboard || (url.pathname === "/api/ds/query" && req.method === "POST")) {
          if (mode.status >= 400) return send(res, mode.status, "application/json", "{}");
          if (grafana.authorization !== undefined && req.headers.authorization !== grafana.authorization)
            return send(res, 401, "application/json", JSON.stringify({ message: "Unauthorized" }));
          const answer = dashboard
            ? dashboardAnswer(decodeURIComponent(url.pathname.slice("/api/dashboards/uid/".length)))
            : queryAnswer(JSON.parse((await readBody(req)) || "{}"));
          return send(res, answer.status, "application/json", JSON.stringify(answer.body));
        }
      }
      if (def.name === "webhook") {
        if (url.pathname === "/__received") {
          if (req.method === "DELETE") received.length = 0;
          return send(res, 200, "application/json", JSON.stringify(received));
        }
        if (req.method === "POST" && url.pathname.startsWith("/hooks/")) {
          if (mode.status >= 400) return send(res, mode.status, "application/json", "{}");
          received.push({
            channel: url.pathname.slice("/hooks/".length),
            body: JSON.parse((await readBody(req)) || "{}"),
          });
          return send(res, 200, "text/plain", "ok");
        }
      }
      const route = def.routes[url.pathname];
      if (!route || req.method !== "GET") {
        return send(res, 404, "application/json", JSON.stringify({ error: "not found" }));
      }
      const answer = route(url, req);
      // An answer of the route's own (Alertmanager's 400 or 401) stands unless a mode is set.
      const status = mode.status === 200 && answer.status !== undefined ? answer.status : mode.status;
      let body = answer.body;
      if (mode.body !== undefined) {
        body = typeof mode.body === "string" ? mode.body : JSON.stringify(mode.body);
      } else if (mode.status >= 400) {
        body = JSON.stringify({ error: `stand-in ${def.name} set to answer ${status}` });
      }
      // A mode with a count lasts for that many answers, then the stand-in is healthy again.
      if (mode.remaining !== undefined && --mode.remaining === 0) {
        Object.assign(mode, { status: 200, body: undefined, remaining: undefined });
      }
      return send(res, status, mode.status >= 400 ? "application/json" : answer.type, body);
    } catch (err) {
      return send(res, 400, "application/json", JSON.stringify({ error: String(err) }));
    }
  });
  server.listen(def.port, HOST, () => console.log(`stand-in ${def.name} on http://${HOST}:${def.port}`));
  server.on("error", (err) => {
    console.error(`stand-in ${def.name}: ${err.message}`);
    process.exit(1);
  });
}

for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
