/**
 * The release (`rollout up`): `pulumi up` run directly (cli/direct-stack.ts) with the policy pack of the stack's class, so the readiness
 * gate and the safety policies apply; a failed post-deploy verification rolls back to the last good release through
 * the rollback action. Also the deployer's signed update request (`rollout request-update`).
 */
import * as path from "node:path";
import { writeReleaseComms } from "../../src/comms/templates";
import { summariseUpdate } from "../../src/comms/launch-summary";
import { stepBudget, timedStepEvent, type TimedStepEvent } from "../../src/comms/step-budget";
import {
  admissionMessage,
  admissionOf,
  gateInputFor,
  type GateInput,
  readStackConfigFile,
  recordSigningKey,
  signedBundleOf,
} from "../../src/evidence";
import { writeUpdateRequest } from "../../src/evidence/update-requests";
import { notifierFor } from "../announce";
import type { DirectUpResult } from "../direct-stack";
import { failedInVerification, failedUrns, policyArgs, StackConfig, type EngineEventLike } from "../engine";
import { describeFailure, EXIT, UserError } from "../errors";
import { fullHistory, type ReleaseEntry } from "../history";
import { writeLaunchReport } from "../launch-report";
import { DEFAULT_STALE_LOCK_AGE, parseDuration } from "../options";
import { progress } from "../output";
import { recordRejection, recordRetry, restoreRejectionsFrom } from "../rejected-releases";
import { stepProgress } from "../step-progress";
import { withLockRecovery, type RecoveryOptions } from "./recover";
import { operatorName, rollbackFailedReport, rollBackStack } from "./rollback";
import { resolveWhileReading, withEvidenceDir } from "./stack";

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
  return requestUpdateFor(
    gateInputOf(projectDir, stackName, new Date()),
    projectDir,
    stackName,
    who,
    required,
  );
}

/** The gate's view of what the stack file deploys now (read and classified once per action). */
function gateInputOf(
  projectDir: string,
  stackName: string,
  now: Date,
): GateInput | { enforcementError: string } {
  return gateInputFor({
    stack: stackName,
    config: readStackConfigFile(projectDir, stackName) ?? {},
    projectDir,
    now,
  });
}

/** {@link requestUpdate} with the gate's view already made. */
function requestUpdateFor(
  input: GateInput | { enforcementError: string },
  projectDir: string,
  stackName: string,
  who: DeployerIdentity,
  required: boolean,
): string | undefined {
  if ("enforcementError" in input || !input.stackClass.production) return undefined;
  const now = input.now;
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
    /** Progress events as JSON lines on stdout (`--json`) instead of lines on stderr. */
    json?: boolean;
  },
): Promise<string> {
  // The gate step of the launch summary's step budget runs from here to the start of the engine update.
  const actionStartedAt = Date.now();
  // The stack file and its class are read once for the whole release (the automatic rollback included).
  // The config and the whole history are two engine runs with nothing between them: run side by side, and beside the
  // cluster marker read that classifies the stack.
  const {
    resolved,
    stack,
    value: [config, history],
  } = await resolveWhileReading(projectDir, stackName, (s) =>
    Promise.all([StackConfig.of(s), fullHistory(s)]),
  );
  const gate = policyArgs(projectDir, stackName, o.policy, resolved.stackClass);
  const startedAt = new Date();
  const tag = config.value("imageTag");
  const notify = notifierFor(projectDir, config);
  const production = resolved.production;
  const evidenceDir = config.evidenceDir(projectDir);
  const signer = {
    ...(o.deployer?.as !== undefined ? { requestedBy: o.deployer.as } : {}),
    ...(o.deployer?.sshKey !== undefined ? { sshKey: o.deployer.sshKey } : {}),
  };
  // Rejections carried in stack history are written back before the gate reads the evidence directory.
  restoreRejectionsFrom(history, projectDir, evidenceDir, stackName);
  if (o.retry !== undefined) {
    recordRetry(projectDir, stackName, evidenceDir, {
      failedVersion: o.retry.failedVersion,
      reason: o.retry.reason,
      decidedBy: signer.requestedBy ?? operatorName(),
      sshKey: signer.sshKey,
      production,
    });
  }
  // The gate's view of what the stack deploys, made once: the update request and the admission both come from it.
  const gateInput = gateInputOf(projectDir, stackName, new Date());
  // Production: the deploy presents its identity, a request signed by the deployer the approval names.
  requestUpdateFor(gateInput, projectDir, stackName, o.deployer ?? {}, false);
  if (production && o.autoRollback && recordSigningKey(signer.sshKey) === undefined) {
    process.stderr.write(
      "warning: no SSH key to sign a rollback record (--ssh-key or NOVA_SSH_KEY_FILE): if verification fails, the automatic rollback cannot run\n",
    );
  }
  const admission = "enforcementError" in gateInput ? undefined : admissionOf(gateInput);
  const message = admission === undefined ? `release ${tag}` : admissionMessage(admission, `release ${tag}`);
  let result: DirectUpResult;
  const events: EngineEventLike[] = [];
  // Each resource event with its arrival time (the engine's timestamps are whole seconds): the step budget.
  const timed: TimedStepEvent[] = [];
  // The images this release deploys, for the channels that show them (Grafana annotations).
  const releaseDigests = { api: config.value("apiImageDigest"), worker: config.value("workerImageDigest") };
  await notify.send("release-started", stackName, tag, undefined, releaseDigests);
  // One line (or JSON event) per playbook step and per verification check as it starts and ends.
  const steps = stepProgress({ kind: "release", startedAt: actionStartedAt, json: o.json === true });
  const engineStartedAt = Date.now();
  steps.engineStarted();
  let engineFinishedAt = engineStartedAt;
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
          onEvent: (e) => {
            const step = timedStepEvent(e, Date.now());
            if (step !== undefined) timed.push(step);
            events.push(e);
            steps.onEvent(e);
          },
        }),
      () => {
        events.length = 0;
        timed.length = 0;
      },
    );
    engineFinishedAt = Date.now();
    steps.finish(true);
  } catch (err) {
    steps.finish(false);
    // Decided from the engine's events (which resources failed), not from the error text.
    if (!failedInVerification(events)) {
      if (describeFailure(err).code === EXIT.policyViolation) {
        await notify.send(
          "gate-blocked",
          stackName,
          tag,
          "mandatory policy violations; nothing changed",
          releaseDigests,
        );
      }
      throw err;
    }
    const failingChecks = failedUrns(events).map((u) => u.split("::").at(-1) ?? u);
    const failing = failingChecks.join(", ");
    await notify.send("verification-failed", stackName, tag, failing, releaseDigests);
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
      target = await rollBackStack(withEvidenceDir(resolved, evidenceDir), stack, {
        reason: `automatic rollback after release ${tag} failed post-deploy verification`,
        failedRelease: { startedAt, verificationFailedAt: new Date() },
        rejects: rejection,
        ...(o.json === true ? { json: true } : {}),
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
        releaseDigests,
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
  const summary = {
    ...summariseUpdate(stackName, "release", startedAt, result),
    stepBudget: stepBudget({
      kind: "release",
      startedAt: actionStartedAt,
      engineStartedAt,
      finishedAt: engineFinishedAt,
      events: timed,
    }),
  };
  const report = writeLaunchReport(evidenceDir, summary);
  writeReleaseComms(evidenceDir, summary, { launchReport: path.basename(report) });
  await notify.send(
    "release-succeeded",
    stackName,
    tag,
    `launch summary ${path.basename(report)}`,
    summary.digests,
  );
  return report;
}
