/** `recover`: the command side of crash recovery (the lock and pending-operation logic is in cli/recover.ts). */
import { Command } from "commander";
import { clusterState } from "../cluster-state";
import {
  isConcurrentUpdateError,
  JSON_OPTION,
  openStack,
  progress,
  projectRoot,
  STACK_OPTION,
} from "../engine";
import {
  describePending,
  FORCE_UNLOCK_OPTION,
  LOCK_AGE_OPTION,
  pendingOperations,
  recordingLockHolder,
  recoverLockedStack,
  type RecoveryOptions,
} from "../recover";

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

export function recoverCommand(): Command {
  return new Command("recover")
    .description(
      "Recover a stack an interrupted update left locked: cancel an abandoned lock, reconcile pending operations",
    )
    .requiredOption(...STACK_OPTION)
    .option(...LOCK_AGE_OPTION)
    .option(...FORCE_UNLOCK_OPTION)
    .option("-y, --yes", "cancel a provably abandoned lock without asking (never a lock judged by its age)")
    .option(...JSON_OPTION)
    .action(
      async (o: {
        stack: string;
        lockStaleAfter: number;
        forceUnlock: string[];
        yes?: boolean;
        json?: boolean;
      }) => {
        const result = await recover(projectRoot(), o.stack, {
          yes: o.yes === true,
          staleAfterMs: o.lockStaleAfter,
          forceUnlock: o.forceUnlock,
          quiet: o.json === true,
        });
        if (o.json === true) process.stdout.write(`${JSON.stringify({ stack: o.stack, ...result })}\n`);
      },
    );
}
