/**
 * Who holds a stack's lock, and the evidence the CLI keeps of its own engine processes while it runs an operation (the
 * holder record). `cli/actions/recover.ts` judges a lock from this evidence: a lock is cancelled only on positive
 * evidence that its holder is gone (taken on this host, in this boot and this PID namespace, and that process no
 * longer runs; its start time is checked, so a reused process id does not count).
 */
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { z } from "zod";

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
