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
import * as os from "node:os";
import * as readline from "node:readline/promises";
import type { EngineStack } from "../direct-stack";
import { EXIT, isConcurrentUpdateError, UserError } from "../errors";
import { progress } from "../output";
import { clusterState } from "../cluster-state";
import { engineEnv, openStack } from "../engine";
import { repairFileBackendMetadata } from "../state-metadata";
import { formatDuration } from "../options";
import {
  currentPidScope,
  HOLDER_SCAN_MS,
  type EngineProcessRecord,
  type HolderRecord,
  type LockHolder,
  parseLockHolders,
  type PidScope,
  processStart,
  type ProcessStart,
  readHolderRecords,
  recordingLockHolder,
} from "../lock-holders";

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
  stack: EngineStack,
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
export async function pendingOperations(stack: EngineStack): Promise<PendingOperation[]> {
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
export async function reconcilePending(stack: EngineStack, stackName: string): Promise<PendingOperation[]> {
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
  stack: EngineStack,
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

/**
 * `recover`: after an update was killed mid-flight, cancels its lock when the holder is provably gone (this host, boot
 * and PID namespace, its process no longer running), or when a person confirms an old lock whose holder cannot be
 * checked (or names it with `--force-unlock`), reconciles the pending operations with the cluster,
 * and says where the release stands. `rollout up` then finishes the interrupted release (and resumes the CronJobs
 * once verified).
 */
export async function recover(
  projectDir: string,
  stackName: string,
  o: RecoveryOptions & { readonly quiet?: boolean },
): Promise<{ locked: boolean; pending: number; suspended: readonly string[] }> {
  // Before the engine reads the state: metadata a killed engine left half-written makes every read of it fail.
  const setAside = repairFileBackendMetadata(
    projectDir,
    stackName,
    engineEnv({ projectDir, stack: stackName }),
  );
  if (setAside.length > 0) {
    process.stderr.write(
      [
        `set aside ${setAside.length} half-written metadata file(s) of the state backend (an engine was killed while writing them; the state itself is whole):`,
        ...setAside.map((f) => `  ${f}`),
        "",
      ].join("\n"),
    );
  }
  const stack = await openStack({ projectDir, stack: stackName });
  let locked = false;
  let pending: number;
  try {
    // A refresh takes the stack's lock (a preview does not), reads every resource back from the cluster and clears
    // what an interrupted update left pending: the check for a lock and the reconciliation in one step.
    const before = await pendingOperations(stack);
    pending = before.length;
    if (pending > 0) process.stderr.write(describePending(before));
    await recordingLockHolder(stackName, () =>
      stack.refresh({ clearPendingCreates: true, onOutput: progress("  ") }),
    );
  } catch (err) {
    if (!isConcurrentUpdateError(err)) throw err;
    locked = true;
    pending = (await recoverLockedStack(stack, stackName, err, o)).pending.length;
  }
  const left = await pendingOperations(stack);
  const state = await clusterState(projectDir, stackName);
  // The report is the result; with --json it moves to stderr beside the progress.
  (o.quiet === true ? process.stderr : process.stdout).write(
    [
      `${stackName}: ${locked ? "abandoned lock cancelled" : "no lock held"}, ${pending} pending operation(s) reconciled, ${left.length} left`,
      "The cluster now:",
      ...state.lines,
      state.suspended.length > 0
        ? `Next: \`rollout up --stack ${stackName}\` finishes the interrupted release; it resumes ${state.suspended.join(", ")} once verification passes.`
        : `Next: \`rollout up --stack ${stackName}\` finishes the interrupted release.`,
      "",
    ].join("\n"),
  );
  return { locked, pending, suspended: state.suspended };
}
