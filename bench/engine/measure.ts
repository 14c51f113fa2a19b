// Whole-process measurement for the engine bench: wall time until the command exits and CPU time (user + system) of
// the command and every process of its tree (pulumi, the language hosts, node, the providers, the policy pack).
//
// The command runs under bench/engine/subreaper.py (python3, PR_SET_CHILD_SUBREAPER): a plugin that outlives its parent
// — the policy pack's node process does, its language host exits first — is re-parented to the wrapper and counted.
// Without the wrapper (no python3), the CPU is this process's getrusage(RUSAGE_CHILDREN) from /proc/self/stat
// (cutime + cstime) before and after the child is reaped, which misses such orphans (`cpuComplete: false`): measured
// on 2026-11-26 it missed the policy pack's whole ~1.6 s of CPU.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Clock ticks per second of the /proc counters (USER_HZ). */
const CLK_TCK = (() => {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user, system) of every child of this process that has been reaped so far. */
export function childrenCpu(): { user: number; sys: number } {
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  // Fields after the command name (which may hold spaces) start at field 3 (state).
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const field = (n: number) => Number(rest[n - 3]);
  return { user: field(16) / CLK_TCK, sys: field(17) / CLK_TCK };
}

export interface Sample {
  /** Wall seconds. */
  readonly wall: number;
  /** User + system CPU seconds of the command and all its waited-for descendants. */
  readonly cpu: number;
  readonly code: number;
}

const SUBREAPER = path.join(__dirname, "subreaper.py");
const PYTHON = (() => {
  try {
    execFileSync("python3", ["-c", "import ctypes, resource"], { stdio: "ignore" });
    return "python3";
  } catch {
    return undefined;
  }
})();

/** True when CPU figures include orphaned plugin processes (python3 found for the subreaper wrapper). */
export const cpuComplete = PYTHON !== undefined;

export interface RunSpec {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  /** Exit codes that count as success (default [0]). */
  readonly okCodes?: readonly number[];
}

/** Runs one command to completion (output kept in memory for the error message) and measures it. */
export async function measure(spec: RunSpec): Promise<Sample & { output: string }> {
  const report = path.join(os.tmpdir(), `nova-bench-${process.pid}-${Date.now()}.json`);
  const [cmd, args] =
    PYTHON !== undefined ? [PYTHON, [SUBREAPER, report, spec.cmd, ...spec.args]] : [spec.cmd, [...spec.args]];
  const before = childrenCpu();
  const start = process.hrtime.bigint();
  const chunks: Buffer[] = [];
  let code = await new Promise<number>((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (b: Buffer) => chunks.push(b));
    child.stderr.on("data", (b: Buffer) => chunks.push(b));
    child.on("error", reject);
    // "close": the child is reaped (its rusage is in ours) and its pipes are drained.
    child.on("close", (c, signal) => resolve(c ?? (signal !== null ? 128 : -1)));
  });
  let wall = Number(process.hrtime.bigint() - start) / 1e9;
  const after = childrenCpu();
  let cpu = after.user - before.user + (after.sys - before.sys);
  if (PYTHON !== undefined) {
    const r = JSON.parse(fs.readFileSync(report, "utf8")) as {
      code: number | null;
      wall: number;
      cpu: number;
    };
    fs.rmSync(report, { force: true });
    code = r.code ?? -1;
    wall = r.wall;
    cpu = r.cpu;
  }
  const output = Buffer.concat(chunks).toString("utf8");
  if (!(spec.okCodes ?? [0]).includes(code)) {
    const tail = output.trim().split("\n").slice(-30).join("\n");
    throw new Error(`${spec.cmd} ${spec.args.join(" ")} (in ${spec.cwd}) exited ${code}:\n${tail}`);
  }
  return { wall, cpu, code, output };
}

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: NaN, min: NaN, max: NaN };
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[n - 1] ?? NaN };
}
