/**
 * Crash recovery for interrupted updates. An `up` killed mid-flight (a lost CI runner, SIGKILL) leaves its lock in
 * the backend and its in-flight steps as pending operations in the state. A lock is cancelled only on positive
 * evidence that its holder is gone: taken on this host, in this boot and this PID namespace (the holder record the CLI
 * keeps while it runs an operation), and that process no longer runs (its start time is checked, so a reused process
 * id does not count). Age alone never cancels a lock: an old lock without that evidence needs a person's confirmation
 * naming its holder, or `--force-unlock <host>:<pid>`. Pending operations are then reconciled by a refresh against
 * the cluster, so the next update re-applies whatever the interrupted one left half done (Kubernetes objects are
 * applied server-side, so objects it created are adopted).
 */
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { InvalidArgumentError } from "commander";
import type { Stack } from "@pulumi/pulumi/automation";
import { z } from "zod";
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

/** What makes a process id comparable: the machine's boot and the PID namespace the id belongs to. */
export interface PidScope {
  /** `/proc/sys/kernel/random/boot_id`: new at every boot. */
  readonly bootId: string;
  /** `readlink /proc/self/ns/pid`, e.g. `pid:[4026531836]`. */
  readonly pidNamespace: string;
}

/** The {@link PidScope} of this process; undefined where /proc does not tell (not Linux). */
export function currentPidScope(): PidScope | undefined {
  try {
    return {
      bootId: fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim(),
      pidNamespace: fs.readlinkSync("/proc/self/ns/pid"),
    };
  } catch {
    return undefined;
  }
}

/** A running process, as /proc shows it. */
export interface ProcessStart {
  /** Field 22 of `/proc/<pid>/stat`: when it started, in clock ticks after boot. */
  readonly startTicks: number;
  /** The same moment as a time. */
  readonly startedAt: Date;
}

/** `USER_HZ`: the unit of the start time in `/proc/<pid>/stat` (100 on every Linux ABI Node.js runs on). */
const CLOCK_TICKS_PER_SECOND = 100;

/** When this machine booted (`btime` of /proc/stat), in milliseconds; 0 when unknown. */
function bootTimeMs(): number {
  try {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"));
    return m === null ? 0 : Number(m[1]) * 1000;
  } catch {
    return 0;
  }
}

/**
 * The start of the running process `pid` of this PID namespace; undefined when none runs with that id (a zombie
 * counts as gone).
 */
export function processStart(pid: number): ProcessStart | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // After the command name (which may hold spaces): field 3 (state) first, so field 22 (starttime) is the 20th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  const startTicks = Number(fields[19]);
  if (!Number.isSafeInteger(startTicks)) return undefined;
  return {
    startTicks,
    startedAt: new Date(bootTimeMs() + (startTicks * 1000) / CLOCK_TICKS_PER_SECOND),
  };
}

/** The descendants of `root` (from the parent ids in /proc), children first. */
function descendantProcesses(root: number): number[] {
  let names: string[];
  try {
    names = fs.readdirSync("/proc");
  } catch {
    return [];
  }
  const childrenOf = new Map<number, number[]>();
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), Number(name)]);
    } catch {
      // exited meanwhile
    }
  }
  const tree: number[] = [];
  const queue = [...(childrenOf.get(root) ?? [])];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    tree.push(pid);
    queue.push(...(childrenOf.get(pid) ?? []));
  }
  return tree;
}

/** One engine process an operation of the CLI started, as the CLI saw it running. */
export interface EngineProcessRecord {
  readonly pid: number;
  /** Field 22 of its `/proc/<pid>/stat`: tells it from a later process that reuses the id. */
  readonly startTicks: number;
  readonly startedAt: string;
  /** The last time the CLI saw it running. */
  readonly lastSeenAt: string;
}

/**
 * What the CLI keeps on this machine while an operation that takes the stack's lock runs: the engine processes it
 * started, with the boot and PID namespace their ids belong to. The engine's own lock names only a host name and a
 * pid; this record is the evidence a later recovery needs to call a holder gone. Deleted when the operation ends, so
 * only a run that was killed leaves one.
 */
export interface HolderRecord {
  readonly stack: string;
  readonly hostname: string;
  readonly bootId: string;
  readonly pidNamespace: string;
  /** The CLI process that ran the operation. */
  readonly cliPid: number;
  readonly engines: readonly EngineProcessRecord[];
}

const holderRecordSchema = z.object({
  stack: z.string(),
  hostname: z.string(),
  bootId: z.string().min(1),
  pidNamespace: z.string().min(1),
  cliPid: z.number().int().positive(),
  engines: z.array(
    z.object({
      pid: z.number().int().positive(),
      startTicks: z.number().int().nonnegative(),
      startedAt: z.iso.datetime(),
      lastSeenAt: z.iso.datetime(),
    }),
  ),
});

/** Where holder records live: private to the user, on this machine. */
export function defaultHolderRecordDir(): string {
  return path.join(os.homedir(), ".nova-rollout", "lock-holders");
}

function stackRecordDir(dir: string, stack: string): string {
  return path.join(dir, encodeURIComponent(stack));
}

/** The holder records kept on this machine for `stack`; unreadable or malformed files count as no record. */
export function readHolderRecords(stack: string, dir = defaultHolderRecordDir()): HolderRecord[] {
  const stackDir = stackRecordDir(dir, stack);
  let names: string[];
  try {
    names = fs.readdirSync(stackDir).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
  const records: HolderRecord[] = [];
  for (const name of names) {
    try {
      const parsed = holderRecordSchema.safeParse(
        JSON.parse(fs.readFileSync(path.join(stackDir, name), "utf8")),
      );
      if (parsed.success && parsed.data.stack === stack) records.push(parsed.data);
    } catch {
      // no evidence from this file
    }
  }
  return records;
}

/** How often the CLI looks at its engine processes while an operation runs. */
export const HOLDER_SCAN_MS = 1_000;

/** How long a recorded process that is no longer seen stays in the record (short-lived helpers come and go). */
const HOLDER_FORGET_MS = 30_000;

/**
 * Runs `operation` while recording its engine processes (the CLI's descendants) in a {@link HolderRecord}. The
 * record is best effort: where it cannot be written, a later recovery finds no evidence and asks a person instead.
 */
export async function recordingLockHolder<T>(
  stack: string,
  operation: () => Promise<T>,
  o: { readonly dir?: string; readonly intervalMs?: number } = {},
): Promise<T> {
  const scope = currentPidScope();
  if (scope === undefined) return operation();
  const stackDir = stackRecordDir(o.dir ?? defaultHolderRecordDir(), stack);
  const file = path.join(stackDir, `${process.pid}-${processStart(process.pid)?.startTicks ?? 0}.json`);
  const engines = new Map<string, EngineProcessRecord>();
  const scan = () => {
    try {
      const seenAt = new Date().toISOString();
      let seen = false;
      for (const pid of descendantProcesses(process.pid)) {
        const start = processStart(pid);
        if (start === undefined) continue;
        const key = `${pid}:${start.startTicks}`;
        const known = engines.get(key);
        engines.set(key, {
          pid,
          startTicks: start.startTicks,
          startedAt: known?.startedAt ?? start.startedAt.toISOString(),
          lastSeenAt: seenAt,
        });
        seen = true;
      }
      // A process gone for a while held no lock of this operation (the operation would have failed): forget it.
      for (const [key, e] of engines) {
        if (Date.parse(e.lastSeenAt) < Date.now() - HOLDER_FORGET_MS) engines.delete(key);
      }
      if (!seen) return;
      const record: HolderRecord = {
        stack,
        hostname: os.hostname(),
        ...scope,
        cliPid: process.pid,
        engines: [...engines.values()],
      };
      fs.mkdirSync(stackDir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${randomUUID()}.tmp`;
      fs.writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
      fs.renameSync(tmp, file);
    } catch {
      // best effort (see above)
    }
  };
  const timer = setInterval(scan, o.intervalMs ?? HOLDER_SCAN_MS);
  timer.unref();
  try {
    return await operation();
  } finally {
    clearInterval(timer);
    fs.rmSync(file, { force: true });
  }
}

/**
 * What the evidence says of a lock's holder: `gone` (provably: cancelling is safe), `alive` (its process runs), or
 * `unknown` (it cannot be checked from here: another host, another boot or PID namespace, or no record of it).
 */
export type LockVerdict = "gone" | "alive" | "unknown";

export interface LockJudgement {
  readonly holder: LockHolder;
  readonly verdict: LockVerdict;
  /** Provably abandoned: safe to cancel (`verdict === "gone"`). */
  readonly stale: boolean;
  /** Older than the stale-lock age: without evidence, a person may cancel it after confirming. */
  readonly old: boolean;
  /** Why, in words a person can check. */
  readonly why: string;
}

export interface JudgeContext {
  readonly hostname: string;
  readonly now: Date;
  /** The age from which a lock without evidence may be cancelled after a person confirms it. */
  readonly staleAfterMs: number;
  /** The boot and PID namespace of this process; undefined when this machine does not tell. */
  readonly scope: PidScope | undefined;
  /** The holder records kept on this machine for the stack ({@link readHolderRecords}). */
  readonly records: readonly HolderRecord[];
  /** The start of a running process of this PID namespace; undefined when none runs with that id. */
  readonly processStart: (pid: number) => ProcessStart | undefined;
}

/** How a lock's holder is named on the command line (`--force-unlock`): `<host>:<pid>`. */
export function holderId(holder: LockHolder): string {
  return `${holder.hostname}:${holder.pid}`;
}

/**
 * Slack between a holder record's times and the lock's: the engine prints the lock's time in whole seconds, and the
 * CLI sees its engine processes once per {@link HOLDER_SCAN_MS}.
 */
const RECORD_SLACK_MS = 1_000 + 2 * HOLDER_SCAN_MS;

/** Whether `e` may be the process that took `holder`'s lock: same id, started before the lock, seen until then. */
function mayHoldLock(e: EngineProcessRecord, holder: LockHolder): boolean {
  const taken = holder.createdAt.getTime();
  return (
    e.pid === holder.pid &&
    new Date(e.startedAt).getTime() <= taken + RECORD_SLACK_MS &&
    taken <= new Date(e.lastSeenAt).getTime() + RECORD_SLACK_MS
  );
}

/**
 * Judges one lock. Its holder is gone only on positive evidence: the lock was taken on this host, a holder record
 * shows the process that took it ran in this boot and this PID namespace, and no process with that id runs now, or
 * the one that does started at another time (the id was reused). Age alone never makes a lock abandoned.
 */
export function judgeLock(holder: LockHolder, ctx: JudgeContext): LockJudgement {
  const age = ctx.now.getTime() - holder.createdAt.getTime();
  const old = age > ctx.staleAfterMs;
  const who = `${holder.username}@${holder.hostname} (pid ${holder.pid}), taken ${formatDuration(age)} ago`;
  const verdict = (v: LockVerdict, reason: string): LockJudgement => ({
    holder,
    verdict: v,
    stale: v === "gone",
    old,
    why: `${who}: ${reason}`,
  });
  if (holder.hostname !== ctx.hostname) {
    return verdict("unknown", "another host; whether that process runs cannot be checked from here");
  }
  const records = ctx.records.filter(
    (r) => r.hostname === holder.hostname && r.engines.some((e) => mayHoldLock(e, holder)),
  );
  if (records.length === 0 || ctx.scope === undefined) {
    return verdict(
      "unknown",
      "no record of that process on this machine (taken in another container or PID namespace with the same host name, or by a run that kept none); whether it runs cannot be checked from here",
    );
  }
  const scope = ctx.scope;
  const here = records.filter((r) => r.bootId === scope.bootId && r.pidNamespace === scope.pidNamespace);
  if (here.length === 0) {
    const other = records[0] as HolderRecord;
    return verdict(
      "unknown",
      other.bootId !== scope.bootId
        ? "taken before this machine last booted, by its record; that is not checked as proof it is gone"
        : `taken in another PID namespace (${other.pidNamespace}, this one is ${scope.pidNamespace}); whether that process runs cannot be checked from here`,
    );
  }
  const running = ctx.processStart(holder.pid);
  if (running === undefined) {
    return verdict("gone", "that process is no longer running on this host (same boot and PID namespace)");
  }
  const engines = here.flatMap((r) => r.engines).filter((e) => mayHoldLock(e, holder));
  if (engines.some((e) => e.startTicks === running.startTicks)) {
    return verdict("alive", "that process is still running on this host");
  }
  return verdict(
    "gone",
    `that process is no longer running on this host: pid ${holder.pid} now belongs to a process started at ${running.startedAt.toISOString()}`,
  );
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

/** The default age from which a lock without evidence of its holder may be cancelled after confirmation. */
export const DEFAULT_STALE_LOCK_AGE = "3h";

/** The option of the commands that recover an abandoned lock (`up`, `recover`). */
export const LOCK_AGE_OPTION = [
  "--lock-stale-after <duration>",
  "a lock this old whose holder cannot be checked (another host or PID namespace) may be cancelled once you confirm it; never by age alone",
  parseDuration,
  parseDuration(DEFAULT_STALE_LOCK_AGE),
] as const;

/** `runner-7:4242` → itself, checked (commander argument parser, repeatable). */
export function collectHolderId(value: string, previous: readonly string[] = []): string[] {
  if (!/^[^\s:]+:\d+$/.test(value.trim())) {
    throw new InvalidArgumentError(
      "expected the lock holder as <host>:<pid>, as the locked-stack message names it",
    );
  }
  return [...previous, value.trim()];
}

/** The option that cancels a lock whose holder cannot be checked, naming it (`up`, `recover`). */
export const FORCE_UNLOCK_OPTION = [
  "--force-unlock <host:pid>",
  "cancel the lock of this holder although nothing shows it is gone (you checked it yourself); repeatable",
  collectHolderId,
  [] as string[],
] as const;

export interface RecoveryOptions {
  /** Cancel provably abandoned locks without asking. Without a terminal, recovery needs it. Never cancels by age. */
  readonly yes: boolean;
  readonly staleAfterMs: number;
  /** Holders (`<host>:<pid>`) whose locks are cancelled without evidence that they are gone. */
  readonly forceUnlock?: readonly string[];
  /** Overrides for tests. */
  readonly now?: Date;
  readonly hostname?: string;
  readonly scope?: PidScope | undefined;
  readonly records?: readonly HolderRecord[];
  readonly processStart?: (pid: number) => ProcessStart | undefined;
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
 * Recovers a stack an interrupted update left locked: judges every lock named in `lockError` ({@link judgeLock}).
 * Refuses (exit 4) while any holder runs, or may run and nobody confirmed otherwise; a provably abandoned lock is
 * cancelled after a question (or `--yes`); an old lock without evidence only after a question naming its holder on a
 * terminal (never with `--yes`) or `--force-unlock <host>:<pid>`. Then reconciles pending operations.
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
    scope: "scope" in o ? o.scope : currentPidScope(),
    records: o.records ?? readHolderRecords(stackName),
    processStart: o.processStart ?? processStart,
  };
  const judged = holders.map((h) => judgeLock(h, ctx));
  const forced = new Set(o.forceUnlock ?? []);
  const interactive = !o.yes && (o.confirm !== undefined || process.stdin.isTTY === true);
  const confirm = o.confirm ?? askYesNo;
  // An old lock without evidence may be cancelled by a person who answers for it; never by --yes, never when young.
  const unproven = judged.filter((j) => j.verdict === "unknown" && !forced.has(holderId(j.holder)));
  const blocked = [
    ...judged.filter((j) => j.verdict === "alive"),
    ...unproven.filter((j) => !(j.old && interactive)),
  ];
  if (blocked.length > 0) {
    const unknown = blocked.filter((j) => j.verdict === "unknown");
    throw new UserError(
      [
        `${stackName} is locked by an update that may still be running:`,
        ...blocked.map((j) => `  ${j.why}`),
        unknown.length > 0
          ? `Wait for it to finish. A lock is not cancelled by its age alone: once you have checked that the holder no longer runs, name it with ${unknown.map((j) => `--force-unlock ${holderId(j.holder)}`).join(" ")}${unknown.some((j) => j.old) ? " (or answer the question on a terminal, without --yes)" : ""}.`
          : "Wait for it to finish, or stop that process first.",
      ].join("\n"),
      EXIT.concurrentUpdate,
    );
  }
  for (const j of unproven) {
    const question = `Nothing shows that ${j.why}. Cancel the lock of ${holderId(j.holder)} on ${stackName}? Only if you know that process no longer runs.`;
    if (!(await confirm(question))) {
      throw new UserError("Recovery cancelled; the stack is still locked.", EXIT.concurrentUpdate);
    }
  }
  process.stderr.write(
    [`${stackName} is locked by an interrupted update:`, ...judged.map((j) => `  ${j.why}`), ""].join("\n"),
  );
  const gone = judged.filter((j) => j.verdict === "gone");
  const question = `Cancel the abandoned lock${judged.length > 1 ? "s" : ""} of ${stackName} and reconcile its state with the cluster?`;
  if (gone.length > 0 && !o.yes && !(await confirm(question))) {
    throw new UserError("Recovery cancelled; the stack is still locked.", EXIT.concurrentUpdate);
  }
  await stack.cancel();
  process.stderr.write(`cancelled the lock${judged.length > 1 ? "s" : ""} of ${stackName}\n`);
  const pending = await reconcilePending(stack, stackName);
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
export async function reconcilePending(stack: Stack, stackName: string): Promise<PendingOperation[]> {
  const pending = await pendingOperations(stack);
  if (pending.length === 0) {
    process.stderr.write("no pending operations in the state\n");
    return pending;
  }
  process.stderr.write(`${describePending(pending)}reconciling with a refresh…\n`);
  await recordingLockHolder(stackName, () =>
    stack.refresh({ clearPendingCreates: true, onOutput: progress("  ") }),
  );
  const left = await pendingOperations(stack);
  if (left.length > 0) {
    throw new UserError(
      `The refresh left ${left.length} pending operation(s): ${left.map((p) => p.urn).join(", ")}. Inspect them with \`pulumi stack export\`.`,
    );
  }
  return pending;
}

/**
 * Runs `operation` (recording its engine processes, {@link recordingLockHolder}); when the stack is locked, recovers it (see {@link recoverLockedStack}) and runs it once more.
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
    return await recordingLockHolder(stackName, operation);
  } catch (err) {
    if (!isConcurrentUpdateError(err)) throw err;
    await recoverLockedStack(stack, stackName, err, o);
    onRecovered();
    process.stderr.write(`continuing the interrupted work on ${stackName}\n`);
    return recordingLockHolder(stackName, operation);
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
