// `npm run bench`, part 1: the real engine on the sandbox. Every variant below is run once as a warm-up, then
// BENCH_RUNS times (default 5), the variants interleaved (A B C … A B C …) so drift on a shared machine hits all
// of them alike. Each figure is the median (min–max) of wall and CPU seconds (CPU: the command and every process it
// waited for). The table goes to stdout and, with every sample, to bench/results/<date>.json. Compare the ratios
// within one run, not absolute seconds across runs or machines.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as prettier from "prettier";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../tests/integration/harness";
import { cpuComplete, measure, type RunSpec, type Sample, stats, type Stats } from "./engine/measure";
import { BENCH_STACK, BenchWorld, EMPTY_STACK, requireSandbox, ROLLBACK_STACK } from "./engine/world";

const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? "5") || 5);
/** Comma-separated pair ids to run (default all), e.g. BENCH_ONLY=a,b while working on the pack. */
const ONLY = (process.env.BENCH_ONLY ?? "")
  .split(",")
  .map((s) => s.trim())
  .filter((s) => s !== "");

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly spec: (w: BenchWorld) => RunSpec;
  /** Untimed work before each run (e.g. the config change a plain `up` then applies). */
  readonly prepare?: (w: BenchWorld) => Promise<void>;
}

interface Pair {
  readonly id: string;
  readonly label: string;
  /** The measured variant. */
  readonly a: string;
  /** Its baseline (undefined: a single figure). */
  readonly b?: string;
  /** The issue's target for A/B wall, when it has one. */
  readonly target?: string;
}

const preview = (w: BenchWorld, cwd: string, stack: string, extra: string[] = []): RunSpec => ({
  cmd: "pulumi",
  args: ["preview", "--stack", stack, "--non-interactive", "--color", "never", ...extra],
  cwd,
  env: w.env(),
});

/** Plain `pulumi up` of a stack with the sandbox enforcement's pack, no preview. */
const pulumiUp = (w: BenchWorld, stack: string, message: string, extra: string[] = []): RunSpec => ({
  cmd: "pulumi",
  args: [
    "up",
    ...extra,
    "--yes",
    "--skip-preview",
    "--stack",
    stack,
    "--non-interactive",
    "--color",
    "never",
    "--message",
    message,
    ...w.packArgs(),
  ],
  cwd: w.checkout,
  env: w.env(),
});

const VARIANTS: readonly Variant[] = [
  {
    id: "empty",
    label: "empty JS program: pulumi preview",
    spec: (w) => preview(w, w.empty, EMPTY_STACK),
  },
  {
    id: "full",
    label: "local-shaped program (compiled): pulumi preview, no pack",
    spec: (w) => preview(w, w.checkout, BENCH_STACK),
  },
  {
    id: "full+pack",
    label: "local-shaped program: pulumi preview --policy-pack (local enforcement)",
    spec: (w) => preview(w, w.checkout, BENCH_STACK, w.packArgs()),
  },
  {
    id: "full-unbundled",
    label: "same program from tsc's per-file output (dist/index.js): pulumi preview, no pack",
    spec: (w) => preview(w, w.unbundled, BENCH_STACK),
  },
  {
    id: "full+pack-unbundled",
    label: "same, program and pack from tsc's per-file output: pulumi preview --policy-pack",
    spec: (w) => preview(w, w.unbundled, BENCH_STACK, w.packArgs(w.unbundled)),
  },
  {
    id: "rollout",
    label: "rollout preview (node dist/cli/index.js preview)",
    spec: (w) => ({
      cmd: process.execPath,
      args: [path.join(w.checkout, "dist", "cli", "index.js"), "preview", "--stack", BENCH_STACK],
      cwd: w.checkout,
      env: w.env(),
    }),
  },
  {
    id: "ts",
    label: "same program from TypeScript (typescript: true): pulumi preview, no pack",
    spec: (w) => preview(w, w.tsCopy, BENCH_STACK),
  },
  {
    id: "up",
    label: "pulumi up --skip-preview --policy-pack (no changes)",
    spec: (w) => pulumiUp(w, BENCH_STACK, "release sandbox"),
  },
  {
    id: "up-refresh",
    label:
      "pulumi up --refresh --skip-preview --policy-pack (no changes): what rollout up runs in the engine",
    spec: (w) => pulumiUp(w, BENCH_STACK, "release sandbox", ["--refresh"]),
  },
  {
    id: "rollout-up",
    label: "rollout up of the same release (no changes)",
    spec: (w) => ({
      cmd: process.execPath,
      args: [path.join(w.checkout, "dist", "cli", "index.js"), "up", "--stack", BENCH_STACK],
      cwd: w.checkout,
      env: w.env(),
    }),
  },
  // The rollback pair, adjacent and last of the stack variants: each run of `up-change` moves bench-rollback to the
  // other digest pair, the `rollback` after it moves it back, so both apply exactly one digest change (the chart's two
  // Deployments, re-verification) and every other variant sees the stack unchanged.
  {
    id: "up-change",
    label: "pulumi up --skip-preview --policy-pack of a digest change (config set untimed)",
    prepare: (w) => w.switchRollbackDigests(),
    spec: (w) => pulumiUp(w, ROLLBACK_STACK, "release bench"),
  },
  {
    id: "helm-change",
    label: "helm upgrade --wait of the same chart to the other digest pair + the playbook's curl probes",
    spec: (w) => w.helmChange(),
  },
  {
    id: "rollback",
    label: "rollout rollback --yes (to the previous release: the same digest change back)",
    spec: (w) => ({
      cmd: process.execPath,
      args: [
        path.join(w.checkout, "dist", "cli", "index.js"),
        "rollback",
        "--stack",
        ROLLBACK_STACK,
        "--yes",
      ],
      cwd: w.checkout,
      env: w.env(),
    }),
  },
  {
    id: "helm-rollback",
    label: "helm rollback --wait to the previous revision + the playbook's curl probes",
    spec: (w) => w.helmRollback(),
  },
  {
    id: "layers",
    label: "unit + policy test layers (vitest run --project unit --project policy)",
    spec: () => ({
      cmd: process.execPath,
      args: [
        path.join(REPO_ROOT, "node_modules", "vitest", "vitest.mjs"),
        "run",
        "--project",
        "unit",
        "--project",
        "policy",
      ],
      cwd: REPO_ROOT,
      env: { ...(process.env as Record<string, string>), NO_COLOR: "1" },
      // Failing tests (work in progress in a shared tree) still give a wall time; the code is recorded.
      okCodes: [0, 1],
    }),
  },
];

const PAIRS: readonly Pair[] = [
  { id: "a", label: "full local preview vs empty program", a: "full", b: "empty", target: "≤ 1.5×" },
  { id: "b", label: "preview with the pack vs without", a: "full+pack", b: "full", target: "≤ +0.8 s wall" },
  {
    id: "c",
    label: "rollout preview vs pulumi preview, same pack",
    a: "rollout",
    b: "full+pack",
    target: "≤ 1.1×",
  },
  { id: "d", label: "from TypeScript vs precompiled", a: "ts", b: "full" },
  { id: "i", label: "bundled program vs tsc's per-file output, no pack", a: "full", b: "full-unbundled" },
  {
    id: "j",
    label: "bundled program and pack vs tsc's per-file output, with the pack",
    a: "full+pack",
    b: "full+pack-unbundled",
  },
  { id: "e", label: "unit + policy layers (wall)", a: "layers" },
  { id: "f", label: "rollout up vs pulumi up, no change, same pack", a: "rollout-up", b: "up" },
  {
    id: "h",
    label: "rollout up vs pulumi up --refresh (like for like), no change",
    a: "rollout-up",
    b: "up-refresh",
  },
  {
    id: "k",
    label: "pulumi up of a digest change vs helm upgrade --wait + curl probes",
    a: "up-change",
    b: "helm-change",
    target: "≤ 2×",
  },
  {
    id: "g",
    label: "rollout rollback vs pulumi up of the same digest change",
    a: "rollback",
    b: "up-change",
    target: "≤ 1.5×",
  },
  {
    id: "l",
    label: "rollout rollback vs helm rollback --wait + curl probes",
    a: "rollback",
    b: "helm-rollback",
    target: "≤ 1.5×",
  },
];

interface Figure {
  readonly wall: Stats;
  readonly cpu: Stats;
  readonly samples: readonly Sample[];
}

const fmt = (s: Stats) => `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;

function table(pairs: readonly Pair[], figures: Map<string, Figure>): string {
  const rows: string[][] = [
    [
      "pair",
      "A",
      "A wall s",
      "A cpu s",
      "B",
      "B wall s",
      "B cpu s",
      "A/B wall",
      "A−B wall",
      "A−B cpu",
      "target",
    ],
  ];
  for (const p of pairs) {
    const a = figures.get(p.a);
    const b = p.b === undefined ? undefined : figures.get(p.b);
    if (a === undefined) continue;
    rows.push([
      `(${p.id}) ${p.label}`,
      p.a,
      fmt(a.wall),
      fmt(a.cpu),
      p.b ?? "",
      b ? fmt(b.wall) : "",
      b ? fmt(b.cpu) : "",
      b ? `${ratio(a, b).median.toFixed(2)}×` : "",
      b ? `${(a.wall.median - b.wall.median).toFixed(2)}` : "",
      b ? `${(a.cpu.median - b.cpu.median).toFixed(2)}` : "",
      p.target ?? "",
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [
    line(rows[0]!),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.slice(1).map(line),
  ].join("\n");
}

/** A/B of wall time run by run (the interleaved runs are paired), as median (min–max). */
function ratio(a: Figure, b: Figure): Stats {
  const n = Math.min(a.samples.length, b.samples.length);
  const r: number[] = [];
  for (let i = 0; i < n; i++) r.push((a.samples[i]?.wall ?? NaN) / (b.samples[i]?.wall ?? NaN));
  return stats(r);
}

describe("engine bench (real engine, sandbox)", () => {
  // Made after the sandbox and dist/ checks, so a missing piece is reported as such, not as a failed copy.
  let world: BenchWorld | undefined;
  const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);
  const pairs = PAIRS.filter((p) => ONLY.length === 0 || ONLY.includes(p.id));
  const wanted = new Set(pairs.flatMap((p) => (p.b === undefined ? [p.a] : [p.a, p.b])));
  // A rollback needs the change before it in the same round: each one moves its release back.
  if (wanted.has("rollback")) wanted.add("up-change");
  if (wanted.has("helm-rollback")) wanted.add("helm-change");
  const variants = VARIANTS.filter((v) => wanted.has(v.id));

  beforeAll(async () => {
    await requireSandbox();
    world = new BenchWorld();
    await world.setUp(log, {
      rollback: wanted.has("rollback") || wanted.has("up-change"),
      helm: wanted.has("helm-change") || wanted.has("helm-rollback"),
    });
  });
  afterAll(async () => {
    // BENCH_KEEP=1 keeps the world (stacks, backend, checkout) for investigating one variant by hand.
    if (world === undefined) return;
    if (process.env.BENCH_KEEP === "1") log(`kept: ${world.work} ${world.backend.url}`);
    else await world.dispose(log);
  });

  it(`runs ${variants.map((v) => v.id).join(", ")}: 1 warm-up + ${RUNS} interleaved runs each`, async () => {
    const w = world;
    if (w === undefined) throw new Error("the bench world was not set up");
    const samples = new Map<string, Sample[]>(variants.map((v) => [v.id, []]));
    const warmups = new Map<string, Sample>();
    for (let run = 0; run <= RUNS; run++) {
      for (const v of variants) {
        await v.prepare?.(w);
        const s = await measure(v.spec(w));
        log(
          `${run === 0 ? "warm-up" : `run ${run}/${RUNS}`} ${v.id}: wall ${s.wall.toFixed(2)} s, cpu ${s.cpu.toFixed(2)} s`,
        );
        if (run > 0) samples.get(v.id)?.push({ wall: s.wall, cpu: s.cpu, code: s.code });
        else warmups.set(v.id, { wall: s.wall, cpu: s.cpu, code: s.code });
      }
    }
    const figures = new Map<string, Figure>();
    for (const [id, list] of samples) {
      figures.set(id, {
        wall: stats(list.map((s) => s.wall)),
        cpu: stats(list.map((s) => s.cpu)),
        samples: list,
      });
    }
    const text = table(pairs, figures);
    const cpuNote = cpuComplete ? "" : " (CPU misses orphaned plugins: python3 not found)";
    process.stdout.write(
      `\nengine bench: median (min–max) of ${RUNS} interleaved runs after a warm-up${cpuNote}\n${text}\n\n`,
    );

    const date = new Date().toISOString().slice(0, 10);
    // A partial run (BENCH_ONLY) never overwrites the day's full result.
    const suffix = ONLY.length > 0 ? `-only-${ONLY.join("")}` : "";
    const out = path.join(REPO_ROOT, "bench", "results", `${date}${suffix}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const result = {
      date: new Date().toISOString(),
      host: { cpus: os.cpus().length, loadavg: os.loadavg(), node: process.version },
      runs: RUNS,
      cpuComplete,
      note: "Ratios within one run compare; absolute seconds depend on the (shared) machine's load.",
      variants: Object.fromEntries(
        variants.map((v) => {
          const f = figures.get(v.id)!;
          return [
            v.id,
            { label: v.label, wall: f.wall, cpu: f.cpu, samples: f.samples, warmup: warmups.get(v.id) },
          ];
        }),
      ),
      pairs: pairs.map((p) => {
        const a = figures.get(p.a)!;
        const b = p.b === undefined ? undefined : figures.get(p.b);
        return {
          id: p.id,
          label: p.label,
          a: p.a,
          b: p.b ?? null,
          target: p.target ?? null,
          ratioWall: b ? ratio(a, b) : null,
          deltaWall: b ? a.wall.median - b.wall.median : null,
          deltaCpu: b ? a.cpu.median - b.cpu.median : null,
        };
      }),
      table: text,
    };
    // Formatted like every other file of the repository, so `prettier --check .` stays green.
    const options = (await prettier.resolveConfig(out)) ?? {};
    fs.writeFileSync(
      out,
      await prettier.format(JSON.stringify(result, null, 2), { ...options, parser: "json" }),
    );
    log(`written ${path.relative(REPO_ROOT, out)}`);
    expect(figures.size).toBe(variants.length);
  });
});
