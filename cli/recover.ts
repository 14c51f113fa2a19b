/**
 * Crash recovery for interrupted updates. An `up` killed mid-flight (a lost CI runner, SIGKILL) leaves its lock in
 * the backend and its in-flight steps as pending operations in the state. A lock is cancelled only when its holder is
 * provably gone (same host, process no longer running) or older than the configured age; pending operations are then
 * reconciled by a refresh against the cluster, so the next update re-applies whatever the interrupted one left half
 * done (Kubernetes objects are applied server-side, so objects it created are adopted).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as readline from "node:readline/promises";
import { InvalidArgumentError } from "commander";
import type { Stack } from "@pulumi/pulumi/automation";
import { EXIT, isConcurrentUpdateError, progress, UserError } from "./engine";

/** Who holds a lock on a stack, as the DIY backend's lock file records it. */
export interface LockHolder {
  /** Where the lock lives (the backend URL of the lock object). */
  readonly location: string;
  readonly username: string;
  readonly hostname: string;
  readonly pid: number;
  readonly createdAt: Date;
}

/**
 * The lock holders the engine names when it refuses an operation on a locked stack. The DIY backends (file, gs, s3,
 * azblob) list each lock as `<location>: created by <user>@<host> (pid <n>) at <RFC 3339 time>`.
 */
export function parseLockHolders(text: string): LockHolder[] {
  const holders: LockHolder[] = [];
  const line = /^\s*(\S.*?): created by (.*)@([^@\s]+) \(pid (\d+)\) at (\S+)\s*$/gm;
  for (const m of text.matchAll(line)) {
    const createdAt = new Date(m[5] ?? "");
    if (Number.isNaN(createdAt.getTime())) continue;
    holders.push({
      location: m[1] ?? "",
      username: m[2] ?? "",
      hostname: m[3] ?? "",
      pid: Number(m[4]),
      createdAt,
    });
  }
  return holders;
}

/**
 * Whether a process of this host is still running. A zombie (exited, not yet reaped by its parent) counts as gone;
 * a process owned by another user (EPERM) counts as running.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return true;
  }
}

export interface LockJudgement {
  readonly holder: LockHolder;
  /** Provably abandoned: safe to cancel. */
  readonly stale: boolean;
  /** Why, in words a person can check. */
  readonly why: string;
}

export interface JudgeContext {
  readonly hostname: string;
  readonly now: Date;
  /** A lock older than this is abandoned whoever holds it. */
  readonly staleAfterMs: number;
  readonly alive: (pid: number) => boolean;
}

/** Judges one lock: abandoned when its process on this host is gone, or when it is older than the configured age. */
export function judgeLock(holder: LockHolder, ctx: JudgeContext): LockJudgement {
  const age = ctx.now.getTime() - holder.createdAt.getTime();
  const who = `${holder.username}@${holder.hostname} (pid ${holder.pid}), taken ${formatDuration(age)} ago`;
  if (holder.hostname === ctx.hostname && !ctx.alive(holder.pid)) {
    return { holder, stale: true, why: `${who}: that process is no longer running on this host` };
  }
  if (age > ctx.staleAfterMs) {
    return {
      holder,
      stale: true,
      why: `${who}: older than the stale-lock age ${formatDuration(ctx.staleAfterMs)}`,
    };
  }
  const reason =
    holder.hostname === ctx.hostname
      ? "that process is still running on this host"
      : `another host; it counts as abandoned once older than ${formatDuration(ctx.staleAfterMs)}`;
  return { holder, stale: false, why: `${who}: ${reason}` };
}

/** `90s`, `45m`, `2h`, `1h30m`, `1d` → milliseconds (commander argument parser). */
export function parseDuration(value: string): number {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value.trim());
  if (m === null || value.trim() === "") {
    throw new InvalidArgumentError("expected a duration such as 90s, 45m, 2h or 1h30m");
  }
  const [d, h, min, s] = [m[1], m[2], m[3], m[4]].map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
  ];
  const ms = (((d * 24 + h) * 60 + min) * 60 + s) * 1000;
  if (ms <= 0) throw new InvalidArgumentError("expected a duration above zero");
  return ms;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
}

/** The default age after which any lock counts as abandoned. */
export const DEFAULT_STALE_LOCK_AGE = "3h";

/** The option of the commands that recover an abandoned lock (`up`, `recover`). */
export const LOCK_AGE_OPTION = [
  "--lock-stale-after <duration>",
  "a lock older than this counts as abandoned even when its holder ran on another host",
  parseDuration,
  parseDuration(DEFAULT_STALE_LOCK_AGE),
] as const;

export interface RecoveryOptions {
  /** Cancel without asking. Without a terminal, recovery needs it. */
  readonly yes: boolean;
  readonly staleAfterMs: number;
  /** Overrides for tests. */
  readonly now?: Date;
  readonly hostname?: string;
  readonly alive?: (pid: number) => boolean;
  readonly confirm?: (question: string) => Promise<boolean>;
}

/** One pending operation the interrupted update left in the state. */
export interface PendingOperation {
  readonly urn: string;
  readonly type: string;
}

export interface Recovery {
  readonly cancelled: readonly LockJudgement[];
  readonly pending: readonly PendingOperation[];
}

/**
 * Recovers a stack an interrupted update left locked: judges every lock named in `lockError`, refuses (exit 4) while
 * any holder may still be alive, else asks (or takes `--yes`), cancels the locks and reconciles pending operations.
 */
export async function recoverLockedStack(
  stack: Stack,
  stackName: string,
  lockError: Error,
  o: RecoveryOptions,
): Promise<Recovery> {
  const holders = parseLockHolders(lockError.message);
  if (holders.length === 0) throw lockError;
  const ctx: JudgeContext = {
    hostname: o.hostname ?? os.hostname(),
    now: o.now ?? new Date(),
    staleAfterMs: o.staleAfterMs,
    alive: o.alive ?? processAlive,
  };
  const judged = holders.map((h) => judgeLock(h, ctx));
  const live = judged.filter((j) => !j.stale);
  if (live.length > 0) {
    throw new UserError(
      [
        `${stackName} is locked by an update that may still be running:`,
        ...live.map((j) => `  ${j.why}`),
        "Wait for it to finish. If you know it is gone, run `rollout recover` with a shorter --lock-stale-after.",
      ].join("\n"),
      EXIT.concurrentUpdate,
    );
  }
  process.stderr.write(
    [`${stackName} is locked by an interrupted update:`, ...judged.map((j) => `  ${j.why}`), ""].join("\n"),
  );
  const question = `Cancel the abandoned lock${judged.length > 1 ? "s" : ""} of ${stackName} and reconcile its state with the cluster?`;
  if (!o.yes && !(await (o.confirm ?? askYesNo)(question))) {
    throw new UserError("Recovery cancelled; the stack is still locked.", EXIT.concurrentUpdate);
  }
  await stack.cancel();
  process.stderr.write(`cancelled the lock${judged.length > 1 ? "s" : ""} of ${stackName}\n`);
  const pending = await reconcilePending(stack);
  return { cancelled: judged, pending };
}

/** The pending operations recorded in the stack's state. */
export async function pendingOperations(stack: Stack): Promise<PendingOperation[]> {
  const state = await stack.exportStack();
  const deployment = state.deployment as {
    pending_operations?: { resource?: { urn?: string }; type?: string }[];
  };
  return (deployment.pending_operations ?? []).map((op) => ({
    urn: op.resource?.urn ?? "(unknown)",
    type: op.type ?? "(unknown)",
  }));
}

/** The pending operations as lines a person can check against the cluster. */
export function describePending(pending: readonly PendingOperation[]): string {
  return [
    `${pending.length} operation(s) were in flight when the update stopped:`,
    ...pending.map((p) => `  * ${p.urn} (interrupted while ${p.type})`),
    "",
  ].join("\n");
}

/**
 * Reconciles pending operations: a refresh reads every resource back from the cluster and clears them; pending
 * creates are dropped from the state, and the next update applies those objects again (adopting any the interrupted
 * update did create). Returns what was pending.
 */
export async function reconcilePending(stack: Stack): Promise<PendingOperation[]> {
  const pending = await pendingOperations(stack);
  if (pending.length === 0) {
    process.stderr.write("no pending operations in the state\n");
    return pending;
  }
  process.stderr.write(`${describePending(pending)}reconciling with a refresh…\n`);
  await stack.refresh({ clearPendingCreates: true, onOutput: progress("  ") });
  const left = await pendingOperations(stack);
  if (left.length > 0) {
    throw new UserError(
      `The refresh left ${left.length} pending operation(s): ${left.map((p) => p.urn).join(", ")}. Inspect them with \`pulumi stack export\`.`,
    );
  }
  return pending;
}

/**
 * Runs `operation`; when the stack is locked, recovers it (see {@link recoverLockedStack}) and runs it once more.
 * `onRecovered` runs between the two attempts (e.g. to reset what the first attempt collected).
 */
export async function withLockRecovery<T>(
  stack: Stack,
  stackName: string,
  o: RecoveryOptions,
  operation: () => Promise<T>,
  onRecovered: () => void = () => undefined,
): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (!isConcurrentUpdateError(err)) throw err;
    await recoverLockedStack(stack, stackName, err, o);
    onRecovered();
    process.stderr.write(`continuing the interrupted work on ${stackName}\n`);
    return operation();
  }
}

/** Asks a yes/no question on the terminal; without one, `--yes` is required. */
export async function askYesNo(question: string): Promise<boolean> {
  if (process.stdin.isTTY !== true) {
    throw new UserError(`${question} This needs confirmation: pass --yes when running without a terminal.`);
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
