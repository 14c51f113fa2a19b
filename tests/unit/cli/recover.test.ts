import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConcurrentUpdateError, type Stack } from "@pulumi/pulumi/automation";
import { describe, expect, it, vi } from "vitest";
import { EXIT, UserError } from "../../../cli/errors";
import {
  judgeLock,
  recoverLockedStack,
  withLockRecovery,
  type JudgeContext,
  type RecoveryOptions,
} from "../../../cli/actions/recover";
import {
  currentPidScope,
  parseLockHolders,
  processAlive,
  processStart,
  readHolderRecords,
  recordingLockHolder,
  type HolderRecord,
  type LockHolder,
  type ProcessStart,
} from "../../../cli/lock-holders";
import { collectHolderId, formatDuration, parseDuration } from "../../../cli/options";

// The DIY backend's refusal, as the engine prints it for a locked stack.
const LOCKED = [
  "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
  "  file:///var/state/.pulumi/locks/organization/nova-rollout/production/6b1f.json: created by ci@runner-7 (pid 4242) at 2026-11-26T06:00:00Z",
].join("\n");

function lockError(text = LOCKED): ConcurrentUpdateError {
  return new ConcurrentUpdateError({ toString: () => text } as never);
}

const NOW = new Date("2026-11-26T07:00:00Z");
const HOUR = 3_600_000;

// This process's boot and PID namespace, and the holder record a killed `up` on runner-7 left: its engine (pid 4242,
// the lock's holder) ran in this boot and namespace, started just before the lock and was last seen after it.
const SCOPE = { bootId: "boot-a", pidNamespace: "pid:[4026531836]" };
const ENGINE_TICKS = 500_000;

function record(over: Partial<HolderRecord> = {}): HolderRecord {
  return {
    stack: "production",
    hostname: "runner-7",
    ...SCOPE,
    cliPid: 4200,
    engines: [
      {
        pid: 4242,
        startTicks: ENGINE_TICKS,
        startedAt: "2026-11-26T05:59:59.400Z",
        lastSeenAt: "2026-11-26T06:20:00Z",
      },
    ],
    ...over,
  };
}

/** A process table of this namespace: pid → start ticks (absent: no such process). */
function table(entries: Record<number, number>): (pid: number) => ProcessStart | undefined {
  return (pid) => {
    const ticks = entries[pid];
    return ticks === undefined
      ? undefined
      : { startTicks: ticks, startedAt: new Date(NOW.getTime() - 60_000) };
  };
}

function ctx(over: Partial<JudgeContext> = {}): JudgeContext {
  return {
    hostname: "runner-7",
    now: NOW,
    staleAfterMs: 3 * HOUR,
    scope: SCOPE,
    records: [record()],
    processStart: table({ 4242: ENGINE_TICKS }),
    ...over,
  };
}

function holder(over: Partial<LockHolder> = {}): LockHolder {
  return {
    location: "file:///l.json",
    username: "ci",
    hostname: "runner-7",
    pid: 4242,
    createdAt: new Date("2026-11-26T06:00:00Z"),
    ...over,
  };
}

interface FakeStack {
  cancel: ReturnType<typeof vi.fn>;
  refresh: ReturnType<typeof vi.fn>;
  exportStack: ReturnType<typeof vi.fn>;
}

/** A stack whose state holds `pending` until a refresh clears it. */
function fakeStack(pending: { resource: { urn: string }; type: string }[] = []): FakeStack {
  let ops = pending;
  return {
    cancel: vi.fn(() => Promise.resolve()),
    refresh: vi.fn(() => {
      ops = [];
      return Promise.resolve({});
    }),
    exportStack: vi.fn(() => Promise.resolve({ version: 3, deployment: { pending_operations: ops } })),
  };
}

describe("lock holders from the engine's refusal", () => {
  it("reads location, user, host, pid and time of every lock", () => {
    const two = `${LOCKED}\n  gs://bucket/.pulumi/locks/organization/nova-rollout/production/9a.json: created by jane.doe@laptop.local (pid 17) at 2026-11-26T06:30:00+01:00`;
    expect(parseLockHolders(two)).toEqual([
      {
        location: "file:///var/state/.pulumi/locks/organization/nova-rollout/production/6b1f.json",
        username: "ci",
        hostname: "runner-7",
        pid: 4242,
        createdAt: new Date("2026-11-26T06:00:00Z"),
      },
      {
        location: "gs://bucket/.pulumi/locks/organization/nova-rollout/production/9a.json",
        username: "jane.doe",
        hostname: "laptop.local",
        pid: 17,
        createdAt: new Date("2026-11-26T05:30:00Z"),
      },
    ]);
  });

  it("finds none in other text", () => {
    expect(parseLockHolders("error: [409] Conflict: Another update is currently in progress.")).toEqual([]);
  });
});

describe("judging a lock: gone only on positive evidence, never by age", () => {
  const OLD = { staleAfterMs: 30 * 60_000 }; // the lock (1h) is older than this
  it.each<[string, Partial<JudgeContext>, Partial<LockHolder>, "gone" | "alive" | "unknown", RegExp]>([
    [
      "same host, boot and PID namespace, process gone",
      { processStart: table({}) },
      {},
      "gone",
      /ci@runner-7 \(pid 4242\), taken 1h ago: that process is no longer running on this host \(same boot and PID namespace\)/,
    ],
    [
      "same host, boot and namespace, the pid reused by a later process (start time differs)",
      { processStart: table({ 4242: ENGINE_TICKS + 90_000 }) },
      {},
      "gone",
      /no longer running on this host: pid 4242 now belongs to a process started at/,
    ],
    [
      "same host, boot and namespace, the same process still running, however old",
      OLD,
      {},
      "alive",
      /that process is still running on this host/,
    ],
    [
      "a live holder in another PID namespace with the same host name (its pid is free here), old",
      { ...OLD, records: [record({ pidNamespace: "pid:[4026532174]" })], processStart: table({}) },
      {},
      "unknown",
      /taken in another PID namespace \(pid:\[4026532174\], this one is pid:\[4026531836\]\)/,
    ],
    [
      "a lock of another boot",
      { ...OLD, records: [record({ bootId: "boot-b" })], processStart: table({}) },
      {},
      "unknown",
      /taken before this machine last booted/,
    ],
    [
      "an old lock alone: same host name, no record of its holder",
      { ...OLD, records: [], processStart: table({}) },
      {},
      "unknown",
      /no record of that process on this machine/,
    ],
    [
      "a record of the same pid that ended before the lock was taken is no evidence",
      {
        records: [
          record({
            engines: [
              {
                pid: 4242,
                startTicks: 1,
                startedAt: "2026-11-26T04:00:00Z",
                lastSeenAt: "2026-11-26T05:00:00Z",
              },
            ],
          }),
        ],
        processStart: table({}),
      },
      {},
      "unknown",
      /no record of that process/,
    ],
    [
      "another host, old",
      { ...OLD, processStart: table({}) },
      { hostname: "runner-9" },
      "unknown",
      /another host; whether that process runs cannot be checked from here/,
    ],
    [
      "a machine that does not show its boot and namespace",
      { scope: undefined, processStart: table({}) },
      {},
      "unknown",
      /cannot be checked from here/,
    ],
  ])("%s", (_name, over, who, verdict, why) => {
    const j = judgeLock(holder(who), ctx(over));
    expect(j.verdict).toBe(verdict);
    expect(j.stale).toBe(verdict === "gone");
    expect(j.why).toMatch(why);
  });

  it("age only marks a lock as one a person may confirm", () => {
    const unknown = { records: [], processStart: table({}) };
    expect(judgeLock(holder(), ctx({ ...unknown, staleAfterMs: 30 * 60_000 })).old).toBe(true);
    expect(judgeLock(holder(), ctx({ ...unknown, staleAfterMs: 2 * HOUR })).old).toBe(false);
  });
});

describe("process liveness", () => {
  it("this process runs; a child that exited does not", () => {
    expect(processAlive(process.pid)).toBe(true);
    const child = spawnSync(process.execPath, ["-e", "process.exit(0)"]);
    expect(child.pid).toBeGreaterThan(0);
    expect(processAlive(child.pid)).toBe(false);
  });

  it("reads a running process's start (field 22 of /proc/<pid>/stat) and none for an exited one", () => {
    const self = processStart(process.pid);
    expect(self?.startTicks).toBeGreaterThan(0);
    expect(Math.abs((self?.startedAt.getTime() ?? 0) - (Date.now() - process.uptime() * 1000))).toBeLessThan(
      5_000,
    );
    const child = spawnSync(process.execPath, ["-e", "process.exit(0)"]);
    expect(processStart(child.pid)).toBeUndefined();
  });

  it("this process's boot id and PID namespace come from /proc", () => {
    expect(currentPidScope()).toEqual({
      bootId: fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim(),
      pidNamespace: fs.readlinkSync("/proc/self/ns/pid"),
    });
  });
});

describe("holder records", () => {
  it("an operation's engine processes are recorded with boot, namespace and start time, and the record removed after", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "holders-"));
    let seen: HolderRecord[] = [];
    let enginePid = 0;
    await recordingLockHolder(
      "org/production",
      async () => {
        const engine = spawn("sleep", ["5"], { stdio: "ignore" });
        enginePid = engine.pid ?? 0;
        const deadline = Date.now() + 5_000;
        while (seen.length === 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          seen = readHolderRecords("org/production", dir);
        }
        // While it runs, a lock it took is judged alive; once it is gone, gone.
        const lock = holder({ hostname: os.hostname(), pid: enginePid, createdAt: new Date() });
        const live = {
          hostname: os.hostname(),
          now: new Date(),
          staleAfterMs: HOUR,
          scope: currentPidScope(),
          records: seen,
          processStart,
        };
        expect(judgeLock(lock, live).verdict).toBe("alive");
        engine.kill("SIGKILL");
        await new Promise((r) => engine.once("exit", r));
        expect(judgeLock(lock, live).verdict).toBe("gone");
      },
      { dir, intervalMs: 50 },
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      stack: "org/production",
      hostname: os.hostname(),
      ...currentPidScope(),
      cliPid: process.pid,
    });
    expect(seen[0]?.engines.find((e) => e.pid === enginePid)?.startTicks).toBeGreaterThan(0);
    expect(readHolderRecords("org/production", dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("malformed records count as none", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "holders-"));
    fs.mkdirSync(path.join(dir, "production"));
    fs.writeFileSync(path.join(dir, "production", "1-1.json"), '{"stack":"production","pid":"x"}');
    expect(readHolderRecords("production", dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("--force-unlock values", () => {
  it("takes <host>:<pid>, repeatable", () => {
    expect(collectHolderId("runner-9:17", collectHolderId("runner-7:4242"))).toEqual([
      "runner-7:4242",
      "runner-9:17",
    ]);
  });
  it.each(["runner-7", "4242", "runner 7:1", "runner-7:pid"])("rejects %j", (v) => {
    expect(() => collectHolderId(v)).toThrow(/<host>:<pid>/);
  });
});

describe("durations", () => {
  it.each([
    ["90s", 90_000],
    ["45m", 45 * 60_000],
    ["2h", 2 * HOUR],
    ["1h30m", 1.5 * HOUR],
    ["1d", 24 * HOUR],
  ])("%s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "0m", "2 hours", "-1h", "h"])("rejects %j", (text) => {
    expect(() => parseDuration(text)).toThrow(/duration/);
  });

  it("formats", () => {
    expect([formatDuration(5_000), formatDuration(300_000), formatDuration(5_400_000)]).toEqual([
      "5s",
      "5m",
      "1h30m",
    ]);
  });
});

describe("recovering a locked stack", () => {
  const pending = [
    { resource: { urn: "urn:pulumi:p::nova-rollout::kubernetes:apps/v1:Deployment::api" }, type: "updating" },
  ];
  /** Recovery options on runner-7 at NOW, the holder's record on file; `over` changes the evidence. */
  function opts(over: Partial<RecoveryOptions> = {}): RecoveryOptions {
    return {
      yes: true,
      staleAfterMs: 3 * HOUR,
      now: NOW,
      hostname: "runner-7",
      scope: SCOPE,
      records: [record()],
      processStart: table({}),
      ...over,
    };
  }
  const NO_EVIDENCE = { records: [], staleAfterMs: 30 * 60_000 } as const; // an old lock, nothing known of it

  it("cancels a provably abandoned lock and reconciles the pending operations with a refresh", async () => {
    const stack = fakeStack(pending);
    const r = await recoverLockedStack(stack as unknown as Stack, "production", lockError(), opts());
    expect(stack.cancel).toHaveBeenCalledOnce();
    expect(stack.refresh).toHaveBeenCalledWith(expect.objectContaining({ clearPendingCreates: true }));
    expect(r.pending).toEqual([
      { urn: "urn:pulumi:p::nova-rollout::kubernetes:apps/v1:Deployment::api", type: "updating" },
    ]);
  });

  it("refuses, with exit code 4 and nothing cancelled, while the holder runs", async () => {
    const stack = fakeStack(pending);
    const err = await recoverLockedStack(
      stack as unknown as Stack,
      "production",
      lockError(),
      opts({ processStart: table({ 4242: ENGINE_TICKS }), forceUnlock: ["runner-7:4242"] }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(EXIT.concurrentUpdate);
    expect((err as UserError).message).toMatch(/may still be running:\n {2}ci@runner-7 \(pid 4242\)/);
    expect((err as UserError).message).toMatch(/stop that process first/);
    expect(stack.cancel).not.toHaveBeenCalled();
    expect(stack.refresh).not.toHaveBeenCalled();
  });

  it.each<[string, Partial<RecoveryOptions>]>([
    ["an old lock alone, with --yes (CI)", NO_EVIDENCE],
    [
      "a live holder in another PID namespace with the same host name, old, with --yes",
      { ...NO_EVIDENCE, records: [record({ pidNamespace: "pid:[4026532174]" })] },
    ],
    ["an old lock without --yes and without a terminal", { ...NO_EVIDENCE, yes: false }],
  ])("is not cancelled by age: %s", async (_name, over) => {
    const stack = fakeStack(pending);
    const err = await recoverLockedStack(
      stack as unknown as Stack,
      "production",
      lockError(),
      opts(over),
    ).catch((e: unknown) => e);
    expect((err as UserError).exitCode).toBe(EXIT.concurrentUpdate);
    expect((err as UserError).message).toMatch(/not cancelled by its age alone/);
    expect((err as UserError).message).toMatch(/--force-unlock runner-7:4242/);
    expect(stack.cancel).not.toHaveBeenCalled();
  });

  it("an old lock without evidence: a person confirms, asked by the holder's name", async () => {
    const stack = fakeStack();
    const confirm = vi.fn(() => Promise.resolve(true));
    await recoverLockedStack(
      stack as unknown as Stack,
      "production",
      lockError(),
      opts({ ...NO_EVIDENCE, yes: false, confirm }),
    );
    expect(confirm).toHaveBeenCalledWith(
      expect.stringMatching(
        /Nothing shows that ci@runner-7 \(pid 4242\).*Cancel the lock of runner-7:4242 on production\?/,
      ),
    );
    expect(stack.cancel).toHaveBeenCalledOnce();
  });

  it("a young lock without evidence is not even asked about", async () => {
    const stack = fakeStack();
    const confirm = vi.fn(() => Promise.resolve(true));
    const err = await recoverLockedStack(
      stack as unknown as Stack,
      "production",
      lockError(),
      opts({ records: [], yes: false, confirm }),
    ).catch((e: unknown) => e);
    expect((err as UserError).exitCode).toBe(EXIT.concurrentUpdate);
    expect(confirm).not.toHaveBeenCalled();
    expect(stack.cancel).not.toHaveBeenCalled();
  });

  it("--force-unlock naming the holder cancels a lock without evidence, whatever its age", async () => {
    const stack = fakeStack();
    await recoverLockedStack(
      stack as unknown as Stack,
      "production",
      lockError(),
      opts({ records: [], forceUnlock: ["runner-7:4242"] }),
    );
    expect(stack.cancel).toHaveBeenCalledOnce();
    const other = fakeStack();
    await expect(
      recoverLockedStack(
        other as unknown as Stack,
        "production",
        lockError(),
        opts({ records: [], forceUnlock: ["runner-7:4243"] }),
      ),
    ).rejects.toThrow(/may still be running/);
    expect(other.cancel).not.toHaveBeenCalled();
  });

  it("asks first: a no leaves the lock", async () => {
    const stack = fakeStack();
    const confirm = vi.fn(() => Promise.resolve(false));
    const err = await recoverLockedStack(
      stack as unknown as Stack,
      "production",
      lockError(),
      opts({ yes: false, confirm }),
    ).catch((e: unknown) => e);
    expect(confirm).toHaveBeenCalledWith(expect.stringMatching(/Cancel the abandoned lock of production/));
    expect((err as UserError).message).toMatch(/still locked/);
    expect(stack.cancel).not.toHaveBeenCalled();
  });

  it("rethrows a refusal it cannot read", async () => {
    const stack = fakeStack();
    const original = lockError("error: [409] Conflict: Another update is currently in progress.");
    await expect(
      recoverLockedStack(stack as unknown as Stack, "production", original, {
        yes: true,
        staleAfterMs: HOUR,
      }),
    ).rejects.toBe(original);
  });

  it("withLockRecovery runs the operation again after recovering, once", async () => {
    const stack = fakeStack();
    const op = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(lockError())
      .mockResolvedValueOnce("done");
    const reset = vi.fn();
    const out = await withLockRecovery(stack as unknown as Stack, "production", opts(), op, reset);
    expect(out).toBe("done");
    expect(op).toHaveBeenCalledTimes(2);
    expect(reset).toHaveBeenCalledOnce();
    expect(stack.cancel).toHaveBeenCalledOnce();
  });

  it("withLockRecovery passes other failures through untouched", async () => {
    const stack = fakeStack();
    const boom = new Error("boom");
    await expect(
      withLockRecovery(stack as unknown as Stack, "production", { yes: true, staleAfterMs: HOUR }, () =>
        Promise.reject(boom),
      ),
    ).rejects.toBe(boom);
    expect(stack.cancel).not.toHaveBeenCalled();
  });
});
