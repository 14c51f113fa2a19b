#!/usr/bin/env node
// The GitHub REST API's Actions workflow endpoints, as the CI schedules' pause uses them (src/ci/schedules.ts), on
// 127.0.0.1 only:
//   GET /repos/<owner>/<repo>/actions/workflows/<file>          -> {id, name, path, state}
//   PUT /repos/<owner>/<repo>/actions/workflows/<file>/disable  -> 204, state disabled_manually
//   PUT /repos/<owner>/<repo>/actions/workflows/<file>/enable   -> 204, state active
// Every request needs `Authorization: Bearer <token>` (or `token <token>`) with the token in NOVA_GITHUB_TOKEN_FILE,
// else 401 {"message": "Bad credentials"}, as GitHub answers; an unknown workflow answers 404; a PUT to a repository
// listed as read-only answers 403 "Resource not accessible by integration".
// Control: POST /__github {"workflows": [{"repository": "o/r", "file": "x.yml", "state": "active"}], "readOnly":
// ["o/r"]} replaces the workflows (and clears the calls); {"reset": true} forgets everything. GET /__github answers
// {workflows, calls}: every API call in order ({method, path, status, at}; never a token).
// Environment: NOVA_GITHUB_STANDIN_PORT, NOVA_GITHUB_TOKEN_FILE.
import * as fs from "node:fs";
import * as http from "node:http";
import { readBody } from "./serve-util.mjs";

const port = Number(process.env.NOVA_GITHUB_STANDIN_PORT ?? 38091);
const token = fs.readFileSync(process.env.NOVA_GITHUB_TOKEN_FILE ?? "", "utf8").trim();
const state = { workflows: new Map(), readOnly: new Set(), calls: [] };
const ROUTE = /^\/repos\/([^/]+)\/([^/]+)\/actions\/workflows\/([^/]+?)(?:\/(enable|disable))?$/;

function send(res, status, body) {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function control(parsed) {
  if (parsed.reset === true) {
    Object.assign(state, { workflows: new Map(), readOnly: new Set(), calls: [] });
    return;
  }
  if (!Array.isArray(parsed.workflows))
    throw new Error("expected {workflows: [{repository, file, state}], readOnly?}");
  state.workflows = new Map(
    parsed.workflows.map((w, i) => [`${w.repository}:${w.file}`, { id: 1000 + i, ...w }]),
  );
  state.readOnly = new Set(parsed.readOnly ?? []);
  state.calls = [];
}

function api(req, res, path) {
  const m = ROUTE.exec(path);
  const answer = (status, body) => {
    state.calls.push({ method: req.method, path, status, at: new Date().toISOString() });
    send(res, status, body);
  };
  const auth = /^(?:Bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (auth === null || auth[1] !== token) return answer(401, { message: "Bad credentials" });
  if (m === null) return answer(404, { message: "Not Found" });
  const [, owner, repo, file, verb] = m;
  const workflow = state.workflows.get(`${owner}/${repo}:${decodeURIComponent(file)}`);
  if (workflow === undefined) return answer(404, { message: "Not Found" });
  if (req.method === "GET" && verb === undefined) {
    const { id, state: s } = workflow;
    return answer(200, { id, name: workflow.file, path: `.github/workflows/${workflow.file}`, state: s });
  }
  if (req.method === "PUT" && verb !== undefined) {
    if (state.readOnly.has(`${owner}/${repo}`)) {
      return answer(403, { message: "Resource not accessible by integration" });
    }
    workflow.state = verb === "enable" ? "active" : "disabled_manually";
    return answer(204);
  }
  return answer(404, { message: "Not Found" });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
  try {
    if (url.pathname === "/__github") {
      if (req.method === "POST") control(JSON.parse((await readBody(req)) || "{}"));
      return send(res, 200, { workflows: [...state.workflows.values()], calls: state.calls });
    }
    return api(req, res, url.pathname);
  } catch (err) {
    return send(res, 400, { error: String(err) });
  }
});
server.listen(port, "127.0.0.1");
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
