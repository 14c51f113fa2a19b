/**
 * `up`: the release, through the Automation API with the policy pack of the stack's class, so the readiness gate and
 * the safety policies apply; a failed post-deploy verification rolls back to the last good release.
 */
import * as path from "node:path";
import { Command } from "commander";
import { type UpResult } from "@pulumi/pulumi/automation";
import { writeReleaseComms } from "../../src/comms/templates";
import {
  admissionMessage,
  admissionOf,
  gateInputFor,
  readStackConfigFile,
  type Admission,
} from "../../src/evidence";
import { notifierFor } from "../announce";
import {
  describeFailure,
  EXIT,
  failedInVerification,
  failedUrns,
  openStack,
  policyArgs,
  progress,
  projectRoot,
  JSON_OPTION,
  STACK_OPTION,
  UserError,
  type EngineEventLike,
  StackConfig,
} from "../engine";
import { summariseUpdate, writeLaunchReport } from "../launch-report";
import {
  DEFAULT_STALE_LOCK_AGE,
  LOCK_AGE_OPTION,
  parseDuration,
  withLockRecovery,
  type RecoveryOptions,
} from "../recover";
import { rollBack } from "./rollback";

/** The gate admission of what the stack file deploys now (undefined when the gate would not pass it). */
function currentAdmission(projectDir: string, stackName: string): Admission | undefined {
  const input = gateInputFor({
    stack: stackName,
    config: readStackConfigFile(projectDir, stackName) ?? {},
    projectDir,
    now: new Date(),
  });
  return "enforcementError" in input ? undefined : admissionOf(input);
}

/**
 * `up`: the release. The update's message records what admitted it (bundle hash, approval), so stack history can
 * later admit a rollback to it. When post-deploy verification fails, the previous good release is re-applied
 * automatically (gated and verified like any rollback) unless `--no-auto-rollback`; the command still exits non-zero.
 */
export async function release(
  projectDir: string,
  stackName: string,
  o: { policy: boolean; autoRollback: boolean; recovery?: RecoveryOptions },
): Promise<string> {
  const stack = await openStack({ projectDir, stack: stackName });
  const gate = policyArgs(projectDir, stackName, o.policy);
  const startedAt = new Date();
  const config = await StackConfig.of(stack);
  const tag = config.value("imageTag");
  const notify = notifierFor(projectDir, config);
  const admission = currentAdmission(projectDir, stackName);
  const message = admission === undefined ? `release ${tag}` : admissionMessage(admission, `release ${tag}`);
  let result: UpResult;
  const events: EngineEventLike[] = [];
  await notify.send("release-started", stackName, tag);
  try {
    // Refresh first: the release is the source of truth, so drift (an object deleted or changed by hand) is repaired.
    // A lock left by an interrupted update is recovered (when provably abandoned) and the release continues.
    result = await withLockRecovery(
      stack,
      stackName,
      o.recovery ?? { yes: false, staleAfterMs: parseDuration(DEFAULT_STALE_LOCK_AGE) },
      () =>
        stack.up({
          ...gate,
          message,
          refresh: true,
          onOutput: progress(),
          onEvent: (e) => void events.push(e),
        }),
      () => (events.length = 0),
    );
  } catch (err) {
    // Decided from the engine's events (which resources failed), not from the error text.
    if (!failedInVerification(events)) {
      if (describeFailure(err).code === EXIT.policyViolation) {
        await notify.send("gate-blocked", stackName, tag, "mandatory policy violations; nothing changed");
      }
      throw err;
    }
    const failing = failedUrns(events)
      .map((u) => u.split("::").at(-1) ?? u)
      .join(", ");
    await notify.send("verification-failed", stackName, tag, failing);
    if (!o.autoRollback) {
      throw new UserError(
        "Post-deploy verification failed (see above); the release is left in place.",
        EXIT.verificationFailed,
      );
    }
    process.stderr.write("\nPost-deploy verification failed: rolling back to the previous good release.\n");
    const target = await rollBack(projectDir, stackName, stack, {
      reason: `automatic rollback after release ${tag} failed post-deploy verification`,
      failedRelease: { startedAt, verificationFailedAt: new Date() },
    });
    throw new UserError(
      `Post-deploy verification failed; rolled back to update ${target.version} (release ${target.release}).`,
      EXIT.verificationFailed,
    );
  }
  const evidenceDir = config.evidenceDir(projectDir);
  const summary = summariseUpdate(stackName, "release", startedAt, result);
  const report = writeLaunchReport(evidenceDir, summary);
  writeReleaseComms(evidenceDir, summary, { launchReport: path.basename(report) });
  await notify.send("release-succeeded", stackName, tag, `launch summary ${path.basename(report)}`);
  return report;
}

export function upCommand(): Command {
  return new Command("up")
    .description(
      "Roll the release out: gate, pre-apply steps, chart, verification; writes the launch summary",
    )
    .requiredOption(...STACK_OPTION)
    .option("--no-policy", "skip the policy pack (sandbox stacks only)")
    .option("--no-auto-rollback", "leave a release whose verification failed in place")
    .option(...LOCK_AGE_OPTION)
    .option(
      "-y, --yes",
      "cancel a lock left by an interrupted update without asking (when provably abandoned)",
    )
    .option(...JSON_OPTION)
    .action(
      async (o: {
        stack: string;
        policy: boolean;
        autoRollback: boolean;
        lockStaleAfter: number;
        yes?: boolean;
        json?: boolean;
      }) => {
        const projectDir = projectRoot();
        const file = await release(projectDir, o.stack, {
          ...o,
          recovery: { yes: o.yes === true, staleAfterMs: o.lockStaleAfter },
        });
        const launchSummary = path.relative(projectDir, file);
        process.stdout.write(
          o.json === true
            ? `${JSON.stringify({ stack: o.stack, launchSummary })}\n`
            : `launch summary: ${launchSummary}\n`,
        );
      },
    );
}
