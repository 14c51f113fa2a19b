import { spawnSync } from "node:child_process";
import { ConcurrentUpdateError, type Stack } from "@pulumi/pulumi/automation";
import { describe, expect, it, vi } from "vitest";
import { EXIT, UserError } from "../../../cli/engine";
import {
  formatDuration,
  judgeLock,
  parseDuration,
  parseLockHolders,
  processAlive,
  recoverLockedStack,
  withLockRecovery,
  type JudgeContext,
  type LockHolder,
} from "../../../cli/recover";

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

function ctx(over: Partial<JudgeContext> = {}): JudgeContext {
  return { hostname: "runner-7", now: NOW, staleAfterMs: 3 * HOUR, alive: () => true, ...over };
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

describe("judging a lock", () => {
  it("a lock whose process on this host is gone is abandoned", () => {
    const j = judgeLock(holder(), ctx({ alive: () => false }));
    expect(j.stale).toBe(true);
    expect(j.why).toMatch(/ci@runner-7 \(pid 4242\), taken 1h ago: that process is no longer running/);
  });

  it("a lock whose process on this host still runs is not, however old", () => {
    const j = judgeLock(holder(), ctx({ staleAfterMs: 5 * HOUR }));
    expect(j.stale).toBe(false);
    expect(j.why).toMatch(/still running on this host/);
  });

  it("a young lock from another host is not abandoned (its process cannot be checked)", () => {
    const alive = vi.fn(() => false);
    const j = judgeLock(holder({ hostname: "runner-9" }), ctx({ alive }));
    expect(j.stale).toBe(false);
    expect(j.why).toMatch(/another host; it counts as abandoned once older than 3h/);
    expect(alive).not.toHaveBeenCalled();
  });

  it("any lock older than the stale age is abandoned", () => {
    const j = judgeLock(holder({ hostname: "runner-9" }), ctx({ staleAfterMs: 30 * 60_000 }));
    expect(j.stale).toBe(true);
    expect(j.why).toMatch(/older than the stale-lock age 30m/);
  });
});

describe("process liveness", () => {
  it("this process runs; a child that exited does not", () => {
    expect(processAlive(process.pid)).toBe(true);
    const child = spawnSync(process.execPath, ["-e", "process.exit(0)"]);
    expect(child.pid).toBeGreaterThan(0);
    expect(processAlive(child.pid)).toBe(false);
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

  it("cancels an abandoned lock and reconciles the pending operations with a refresh", async () => {
    const stack = fakeStack(pending);
    const r = await recoverLockedStack(stack as unknown as Stack, "production", lockError(), {
      yes: true,
      staleAfterMs: 3 * HOUR,
      now: NOW,
      hostname: "runner-7",
      alive: () => false,
    });
    expect(stack.cancel).toHaveBeenCalledOnce();
    expect(stack.refresh).toHaveBeenCalledWith(expect.objectContaining({ clearPendingCreates: true }));
    expect(r.pending).toEqual([
      { urn: "urn:pulumi:p::nova-rollout::kubernetes:apps/v1:Deployment::api", type: "updating" },
    ]);
  });

  it("refuses, with exit code 4 and nothing cancelled, while a holder may be alive", async () => {
    const stack = fakeStack(pending);
    const err = await recoverLockedStack(stack as unknown as Stack, "production", lockError(), {
      yes: true,
      staleAfterMs: 3 * HOUR,
      now: NOW,
      hostname: "runner-7",
      alive: () => true,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(EXIT.concurrentUpdate);
    expect((err as UserError).message).toMatch(/may still be running:\n {2}ci@runner-7 \(pid 4242\)/);
    expect(stack.cancel).not.toHaveBeenCalled();
    expect(stack.refresh).not.toHaveBeenCalled();
  });

  it("asks first: a no leaves the lock", async () => {
    const stack = fakeStack();
    const confirm = vi.fn(() => Promise.resolve(false));
    const err = await recoverLockedStack(stack as unknown as Stack, "production", lockError(), {
      yes: false,
      staleAfterMs: 3 * HOUR,
      now: NOW,
      hostname: "runner-7",
      alive: () => false,
      confirm,
    }).catch((e: unknown) => e);
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
    const out = await withLockRecovery(
      stack as unknown as Stack,
      "production",
      { yes: true, staleAfterMs: HOUR, now: NOW, hostname: "runner-7", alive: () => false },
      op,
      reset,
    );
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
