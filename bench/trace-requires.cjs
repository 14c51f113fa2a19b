// Preload for finding what a Node.js process loads at start (bench/README.md, "what the program loads"):
//   NODE_OPTIONS="--require $PWD/bench/trace-requires.cjs" BENCH_TRACE_DIR=/tmp/trace pulumi preview …
// Every node process started with it (the program, the policy pack, the rollout CLI) writes
// <BENCH_TRACE_DIR>/<pid>.json at exit: its main script, the number of modules loaded and the self time (ms, wall) of
// module loading per package (with BENCH_TRACE_FILES=1 also the 25 slowest files), its lifetime and own CPU time (process.cpuUsage) (node_modules/<pkg>, or "(own)" for the project's files), largest first.
"use strict";
const Module = require("node:module");
const fs = require("node:fs");
const path = require("node:path");

const dir = process.env.BENCH_TRACE_DIR;
if (dir) {
  const started = process.hrtime.bigint();
  const perPackage = new Map();
  const stack = [];
  let count = 0;
  const pkgOf = (file) => {
    const i = file.lastIndexOf("node_modules/");
    if (i < 0) return file.startsWith("node:") || !file.includes("/") ? "(builtin)" : "(own)";
    const rest = file.slice(i + "node_modules/".length).split("/");
    return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
  };
  const originalLoad = Module._load;
  Module._load = function (request, parent, isMain) {
    let file = request;
    try {
      file = Module._resolveFilename(request, parent, isMain);
    } catch {
      // let the real loader report it
    }
    const cached = Module._cache[file] !== undefined;
    const t0 = process.hrtime.bigint();
    stack.push(0n);
    try {
      return originalLoad.apply(this, arguments);
    } finally {
      const total = process.hrtime.bigint() - t0;
      const children = stack.pop();
      if (stack.length > 0) stack[stack.length - 1] += total;
      if (!cached && !file.startsWith("node:") && file.includes("/")) {
        count++;
        const key = pkgOf(file);
        const e = perPackage.get(key) ?? { modules: 0, selfMs: 0 };
        e.modules++;
        e.selfMs += Number(total - children) / 1e6;
        perPackage.set(key, e);
        if (process.env.BENCH_TRACE_FILES === "1") perFile.set(file, Number(total - children) / 1e6);
      }
    }
  };
  const perFile = new Map();
  const write = () => {
    const packages = [...perPackage.entries()]
      .map(([name, e]) => ({ name, modules: e.modules, selfMs: Math.round(e.selfMs) }))
      .sort((a, b) => b.selfMs - a.selfMs);
    const out = {
      pid: process.pid,
      argv: process.argv.slice(1, 3).map((a) => path.basename(a)),
      lifetimeMs: Math.round(Number(process.hrtime.bigint() - started) / 1e6),
      cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
      modules: count,
      loadMs: packages.reduce((s, p) => s + p.selfMs, 0),
      packages,
      files: [...perFile.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 25)
        .map(([f, ms]) => ({ file: f, selfMs: Math.round(ms) })),
    };
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify(out, null, 2));
    } catch {
      // tracing must never break the traced process
    }
  };
  // Written at exit and every 500 ms: a plugin the engine kills (the policy pack) never reaches "exit".
  process.on("exit", write);
  setInterval(write, 500).unref();
}
