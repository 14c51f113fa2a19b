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
  classifyStackFile,
  readStackConfigFile,
  recordSigningKey,
  signedBundleOf,
  type Admission,
} from "../../src/evidence";
import { writeUpdateRequest } from "../../src/evidence/update-requests";
import { notifierFor } from "../announce";
import {
  describeFailure,
  EXIT,
  failedInVerification,
  failedUrns,
  fullHistory,
  openStack,
  policyArgs,
  progress,
  projectRoot,
  JSON_OPTION,
  STACK_OPTION,
  UserError,
  type EngineEventLike,
  type ReleaseEntry,
  StackConfig,
} from "../engine";
import { summariseUpdate, writeLaunchReport } from "../launch-report";
import {
  DEFAULT_STALE_LOCK_AGE,
  FORCE_UNLOCK_OPTION,
  LOCK_AGE_OPTION,
  parseDuration,
  withLockRecovery,
  type RecoveryOptions,
} from "../recover";
import { recordRejection, recordRetry, restoreRejectionsFrom } from "../rejected-releases";
import { positiveInt } from "./history";
import { operatorName, rollBack, rollbackFailedReport } from "./rollback";
import { SSH_KEY_OPTION } from "./freeze";

/** Who presents an update request, and the key that signs it. */
export interface DeployerIdentity {
  /** Roster name (`--as`; default `NOVA_OPERATOR`, else the login name). */
  readonly as?: string;
  /** SSH key (`--ssh-key`; default `NOVA_SSH_KEY_FILE`). */
  readonly sshKey?: string;
}

/**
 * Writes the deployer's signed update request for what a production stack file deploys now (release, digests, newest
 * signed bundle); the program guard requires one by the deployer the approval names. Returns the file, or undefined
 * for a stack that is not production. When nothing can be requested it throws a UserError if `required`, else warns.
 */
export function requestUpdate(
  projectDir: string,
  stackName: string,
  who: DeployerIdentity,
  required: boolean,
): string | undefined {
  const now = new Date();
  const input = gateInputFor({
    stack: stackName,
    config: readStackConfigFile(projectDir, stackName) ?? {},
    projectDir,
    now,
  });
  if ("enforcementError" in input || !input.stackClass.production) return undefined;
  const sshKey = recordSigningKey(who.sshKey);
  const bundle = signedBundleOf(input);
  const bound = "status" in bundle && bundle.status === "ok" ? bundle.bundle : undefined;
  if (sshKey === undefined || !input.settings.ok || bound === undefined) {
    const missing = [
      ...(sshKey === undefined
        ? ["no --ssh-key or NOVA_SSH_KEY_FILE (the deployer's key in the committed roster)"]
        : []),
      ...(!input.settings.ok
        ? [`the stack config is incomplete (${input.settings.problems.join("; ")})`]
        : []),
      ...(bound === undefined
        ? [`no signed bundle to bind to (npm run preflight -- --stack ${stackName} --signing-key <key>)`]
        : []),
    ];
    const text = `no update request was signed for production stack ${stackName}: ${missing.join("; ")}`;
    if (required) throw new UserError(`request-update: ${text}.`);
    process.stderr.write(
      `warning: ${text}; the program refuses the update unless the approval's deployer has signed one.\n`,
    );
    return undefined;
  }
  const s = input.settings.settings;
  const file = writeUpdateRequest(
    input.evidenceDir,
    {
      kind: "update-request",
      stack: stackName,
      release: s.release,
      imageDigests: s.digests,
      bundleSha256: bound.contentSha256,
      requestedBy: who.as ?? operatorName(),
      createdAt: now.toISOString(),
    },
    sshKey,
    now,
  );
  process.stderr.write(`update request: ${path.relative(projectDir, file)} (signed)\n`);
  return file;
}

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
  o: {
    policy: boolean;
    autoRollback: boolean;
    recovery?: RecoveryOptions;
    /** Who deploys; also signs the automatic rollback's record and a retry decision (CI: the CI identity). */
    deployer?: DeployerIdentity;
    /** Decide to retry this failed (rejected) update: a retry record naming it, signed by the deployer. */
    retry?: { readonly failedVersion: number; readonly reason?: string };
  },
): Promise<string> {
  const stack = await openStack({ projectDir, stack: stackName });
  // Production: the deploy presents its identity, a request signed by the deployer the approval names.
  requestUpdate(projectDir, stackName, o.deployer ?? {}, false);
  const gate = policyArgs(projectDir, stackName, o.policy);
  const startedAt = new Date();
  const config = await StackConfig.of(stack);
  const tag = config.value("imageTag");
  const notify = notifierFor(projectDir, config);
  const production = classifyStackFile(projectDir, stackName).production;
  const signer = {
    ...(o.deployer?.as !== undefined ? { requestedBy: o.deployer.as } : {}),
    ...(o.deployer?.sshKey !== undefined ? { sshKey: o.deployer.sshKey } : {}),
  };
  // Rejections carried in stack history are written back before the gate reads the evidence directory.
  const history = await fullHistory(stack);
  restoreRejectionsFrom(history, projectDir, config.evidenceDir(projectDir), stackName);
  if (o.retry !== undefined) {
    recordRetry(projectDir, stackName, config.evidenceDir(projectDir), {
      failedVersion: o.retry.failedVersion,
      reason: o.retry.reason,
      decidedBy: signer.requestedBy ?? operatorName(),
      sshKey: signer.sshKey,
      production,
    });
  }
  if (production && o.autoRollback && recordSigningKey(signer.sshKey) === undefined) {
    process.stderr.write(
      "warning: no SSH key to sign a rollback record (--ssh-key or NOVA_SSH_KEY_FILE): if verification fails, the automatic rollback cannot run\n",
    );
  }
  const admission = currentAdmission(projectDir, stackName);
  const message = admission === undefined ? `release ${tag}` : admissionMessage(admission, `release ${tag}`);
  let result: UpResult;
  const events: EngineEventLike[] = [];
  await notify.send("release-started", stackName, tag);
  try {
    // Refresh first: the release is the source of truth, so drift (an object deleted or changed by hand) is repaired.
    // A lock left by an interrupted update is recovered (when provably abandoned, or a person named it) and the
    // release continues.
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
    const failingChecks = failedUrns(events).map((u) => u.split("::").at(-1) ?? u);
    const failing = failingChecks.join(", ");
    await notify.send("verification-failed", stackName, tag, failing);
    const rejection = await recordRejection(
      stack,
      projectDir,
      stackName,
      config,
      failingChecks,
      (history[0]?.version ?? 0) + 1,
    );
    if (!o.autoRollback) {
      throw new UserError(
        "Post-deploy verification failed (see above); the release is left in place.",
        EXIT.verificationFailed,
      );
    }
    process.stderr.write("\nPost-deploy verification failed: rolling back to the previous good release.\n");
    let target: ReleaseEntry;
    try {
      target = await rollBack(projectDir, stackName, stack, {
        reason: `automatic rollback after release ${tag} failed post-deploy verification`,
        failedRelease: { startedAt, verificationFailedAt: new Date() },
        rejects: rejection,
        ...signer,
      });
    } catch (rollbackErr) {
      // Whatever stopped the automatic rollback (no target, no key, the gate, the update), it ends the same way:
      // where the stack stands, the emergency steps, the rollback-failed event and exit code 8.
      if (rollbackErr instanceof UserError && rollbackErr.exitCode === EXIT.rollbackFailed) throw rollbackErr;
      await notify.send(
        "rollback-failed",
        stackName,
        tag,
        `automatic rollback: ${describeFailure(rollbackErr).message.split("\n")[0] ?? ""}`,
      );
      throw new UserError(
        `Post-deploy verification of release ${tag} failed and the automatic rollback could not run; release ${tag} is still deployed.\n${await rollbackFailedReport(projectDir, stackName, undefined, rollbackErr)}`,
        EXIT.rollbackFailed,
      );
    }
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
    .option(...FORCE_UNLOCK_OPTION)
    .option(
      "-y, --yes",
      "cancel a lock left by an interrupted update without asking (only when provably abandoned, never by age)",
    )
    .option(
      "--as <name>",
      "production: who deploys, the approval's deployer (roster name; default NOVA_OPERATOR, else your user name)",
    )
    .option(
      "--ssh-key <file>",
      "production: the deployer's SSH key that signs the update request (default NOVA_SSH_KEY_FILE)",
    )
    .option(
      "--retry-failed <version>",
      "record the decision to deploy again the release rejected when update <version> failed verification (signed as --as with --ssh-key)",
      positiveInt,
    )
    .option("--reason <text>", "why the rejected release is safe to deploy again (with --retry-failed)")
    .option(...JSON_OPTION)
    .action(
      async (o: {
        stack: string;
        as?: string;
        sshKey?: string;
        retryFailed?: number;
        reason?: string;
        policy: boolean;
        autoRollback: boolean;
        lockStaleAfter: number;
        forceUnlock: string[];
        yes?: boolean;
        json?: boolean;
      }) => {
        const projectDir = projectRoot();
        const file = await release(projectDir, o.stack, {
          ...o,
          deployer: {
            ...(o.as !== undefined ? { as: o.as } : {}),
            ...(o.sshKey !== undefined ? { sshKey: o.sshKey } : {}),
          },
          recovery: { yes: o.yes === true, staleAfterMs: o.lockStaleAfter, forceUnlock: o.forceUnlock },
          ...(o.retryFailed !== undefined
            ? {
                retry: {
                  failedVersion: o.retryFailed,
                  ...(o.reason !== undefined ? { reason: o.reason } : {}),
                },
              }
            : {}),
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

export function requestUpdateCommand(): Command {
  return new Command("request-update")
    .description(
      "Production: sign the deployer's update request for what the stack deploys now (before a plain `pulumi up`; `rollout up` does it itself)",
    )
    .requiredOption(...STACK_OPTION)
    .option(
      "--as <name>",
      "who deploys: the approval's deployer (default NOVA_OPERATOR, else your user name)",
    )
    .option(...SSH_KEY_OPTION)
    .option(...JSON_OPTION)
    .action((o: { stack: string; as?: string; sshKey?: string; json?: boolean }) => {
      const projectDir = projectRoot();
      const who = {
        ...(o.as !== undefined ? { as: o.as } : {}),
        ...(o.sshKey !== undefined ? { sshKey: o.sshKey } : {}),
      };
      const file = requestUpdate(projectDir, o.stack, who, true);
      if (file === undefined) {
        throw new UserError(
          `request-update: ${o.stack} is not a production stack; it needs no update request.`,
        );
      }
      const rel = path.relative(projectDir, file);
      process.stdout.write(
        o.json === true ? `${JSON.stringify({ stack: o.stack, request: rel })}\n` : `${rel}\n`,
      );
    });
}
