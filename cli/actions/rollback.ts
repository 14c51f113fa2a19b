/**
 * The rollback (`rollout rollback`, and the automatic one of `rollout up`): re-applies the config of a good earlier
 * release from stack history, gated (admitted by what admitted that release) and verified like any release.
 */
import * as os from "node:os";
import * as path from "node:path";
import type { EngineStack } from "../direct-stack";
import { writeReleaseComms } from "../../src/comms/templates";
import { summariseUpdate, type LaunchSummary } from "../../src/comms/launch-summary";
import { stepBudget, timedStepEvent, type TimedStepEvent } from "../../src/comms/step-budget";
import { formatRollbackOf, ROLLBACK_OF_KEY } from "../../src/config/rollback-of";
import {
  admissionMessage,
  RecordSigningError,
  recordSigningKey,
  writeSignedRecord,
} from "../../src/evidence";
import { readRejections, rejectionNote, type RejectionRecord } from "../../src/evidence/rejections";
import { notifierFor } from "../announce";
import { clusterState, emergencySteps } from "../cluster-state";
import { policyArgs, StackConfig, verificationUrns } from "../engine";
import { describeFailure, EXIT, UserError } from "../errors";
import { fullHistory, rollbackTarget, shortDigest, type ReleaseEntry } from "../history";
import { writeLaunchReport } from "../launch-report";
import { recordingLockHolder } from "../lock-holders";
import { progress } from "../output";
import { rejectedDigests } from "../rejected-releases";
import { stepProgress, type ProgressEventSource } from "../step-progress";
import { configJson, projectConfigDefaults, restoreConfig, rollbackConfigChanges } from "./rollback-config";
import { resolveStack, resolveWhileReading, withEvidenceDir, type ResolvedStack } from "./stack";

export interface RollbackOptions {
  /** Update version to roll back to; default: the newest successful update with other digests. */
  readonly to?: number;
  /** Only preview; the stack config is restored afterwards. */
  readonly preview?: boolean;
  /** Why (recorded in the rollback record). */
  readonly reason?: string;
  /**
   * Who asks for it (recorded in the rollback record): their name in the roster (policy/trust/roster.json), since a
   * production rollback record counts only when signed by that person. Default: `NOVA_OPERATOR`, else the user name.
   */
  readonly requestedBy?: string;
  /** The SSH key that signs the rollback record (`--ssh-key`; default `NOVA_SSH_KEY_FILE`). */
  readonly sshKey?: string;
  /** Asked with the target before anything changes; a false answer cancels. Default: no question. */
  readonly confirm?: (target: ReleaseEntry) => Promise<boolean>;
  /** When the rollback follows a release that failed verification: when it started and failed (the postmortem's timeline). */
  readonly failedRelease?: { readonly startedAt: Date; readonly verificationFailedAt: Date };
  /** The rejection of the failed release this rollback follows: carried in the update's message (stack history). */
  readonly rejects?: RejectionRecord;
  /** Progress events as JSON lines on stdout (`--json`) instead of lines on stderr. */
  readonly json?: boolean;
}

/** The person running the CLI, as the roster names them: `NOVA_OPERATOR`, else the login name. */
export function operatorName(): string {
  const named = process.env["NOVA_OPERATOR"];
  return named !== undefined && named !== "" ? named : os.userInfo().username;
}

/** How long a rollback record admits its rollback. */
const ROLLBACK_RECORD_HOURS = 1;

/**
 * Re-applies the config of a good earlier update, through the policy pack and the post-deploy verification. On a
 * production stack the target must carry a gate admission in history; a rollback record (who, why, until when) bound
 * to the target's bundle is written first, so the gate admits the rollback by what admitted the release then. The
 * rollback's own update re-runs the CronJob pause/resume, so nothing stays paused. On failure the stack config is
 * restored as it was and the error says what state the stack is in and what to do (exit code 8).
 */
export async function rollBack(
  projectDir: string,
  stackName: string,
  stack: EngineStack,
  o: RollbackOptions = {},
): Promise<ReleaseEntry> {
  const config = await StackConfig.of(stack);
  return rollBackStack(
    withEvidenceDir(resolveStack(projectDir, stackName), config.evidenceDir(projectDir)),
    stack,
    o,
    config,
  );
}

/** `rollout rollback`: opens the stack (resolved once) and rolls it back ({@link rollBack}). */
export async function rollbackStackNamed(
  projectDir: string,
  stackName: string,
  o: RollbackOptions = {},
): Promise<ReleaseEntry> {
  const {
    resolved,
    stack,
    value: config,
  } = await resolveWhileReading(projectDir, stackName, (s) => StackConfig.of(s));
  return rollBackStack(withEvidenceDir(resolved, config.evidenceDir(projectDir)), stack, o, config);
}

/**
 * {@link rollBack} of a stack resolved by the caller (its class, and the evidence directory its engine config names),
 * as the release action's automatic rollback runs it. `config`: the stack's config when the caller has just read it.
 */
export async function rollBackStack(
  resolved: ResolvedStack,
  stack: EngineStack,
  o: RollbackOptions = {},
  stackConfig?: StackConfig,
): Promise<ReleaseEntry> {
  // The gate step of the rollback summary's step budget runs from here to the start of the engine update.
  const actionStartedAt = Date.now();
  const { projectDir, stack: stackName, production, evidenceDir } = resolved;
  // History, config and the verification commands in the state are engine runs independent of each other.
  const [history, config, verificationCommands] = await Promise.all([
    fullHistory(stack),
    stackConfig ?? StackConfig.of(stack),
    verificationUrns(stack),
  ]);
  const current = {
    apiDigest: config.value("apiImageDigest"),
    workerDigest: config.value("workerImageDigest"),
  };
  const replacedTag = config.value("imageTag");
  const target = rollbackTarget(
    history,
    current,
    o.to,
    production,
    rejectedDigests(projectDir, evidenceDir, stackName, production),
  );
  process.stderr.write(
    `Rolling ${stackName} back to update ${target.version} (release ${target.release}, api ${shortDigest(target.apiDigest)}, worker ${shortDigest(target.workerDigest)})\n`,
  );
  if (o.confirm !== undefined && !(await o.confirm(target))) {
    throw new UserError("Rollback cancelled; nothing changed.", EXIT.failed);
  }
  const notify = notifierFor(projectDir, config);
  if (target.admission !== undefined) {
    const sshKey = recordSigningKey(o.sshKey);
    if (production && sshKey === undefined) {
      throw new UserError(
        "A production rollback record must be signed by the person it names: pass --ssh-key <file> or set NOVA_SSH_KEY_FILE (their key in policy/trust/roster.json), and --by / NOVA_OPERATOR with their roster name.",
      );
    }
    if (production && target.admission.approvalSha256 === undefined) {
      throw new UserError(
        `Update ${target.version} (release ${target.release}) carries no approval in its admission: a production rollback restores only a release the gate admitted with a leadership approval. Pick another version (npm run rollout -- history --stack ${stackName}) or release it as a new one (preflight, freeze, approve, up).`,
      );
    }
    const now = new Date();
    // Signed before it reaches records/: a failed signature records nothing.
    let written: { file: string; signature?: string };
    try {
      written = writeSignedRecord(
        evidenceDir,
        {
          kind: "rollback",
          stack: stackName,
          release: target.release,
          imageDigests: { api: target.apiDigest, worker: target.workerDigest },
          bundleSha256: target.admission.bundleSha256,
          // What admitted the target then: the gate checks that this approval is still on file and still valid.
          ...(target.admission.approvalSha256 !== undefined
            ? { approvalSha256: target.admission.approvalSha256 }
            : {}),
          targetVersion: target.version,
          reason: o.reason ?? `rollback to update ${target.version}`,
          requestedBy: o.requestedBy ?? operatorName(),
          createdAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + ROLLBACK_RECORD_HOURS * 3_600_000).toISOString(),
        },
        now,
        sshKey,
      );
    } catch (e) {
      if (e instanceof RecordSigningError) throw new UserError(e.message);
      throw e;
    }
    process.stderr.write(
      `rollback record: ${path.relative(projectDir, written.file)}${written.signature !== undefined ? " (signed)" : ""}\n`,
    );
  }
  // Only what differs is re-applied (the verification settings stay as they are now, project defaults are not
  // written); what it replaces is remembered, so a failed rollback leaves the config as it was.
  const now: Record<string, { value: string; secret?: boolean } | undefined> = config.all;
  const changes = rollbackConfigChanges(target.config, now, projectConfigDefaults(projectDir));
  // The rollback marks its own update below; a mark recorded in the target's config is not the repository's.
  delete changes.set[ROLLBACK_OF_KEY];
  // What each changed key held, secret flag included, so a failed rollback restores it exactly.
  const previous = Object.fromEntries(
    [...Object.keys(changes.set), ...changes.remove].map((key) => [key, now[key]]),
  );
  previous[ROLLBACK_OF_KEY] = undefined;
  if (Object.keys(changes.set).length > 0) await stack.setAllConfigJson(configJson(changes.set));
  for (const key of changes.remove) await stack.removeConfig(key);
  // For this update only: the program does no database work (the database is forward-only; a rollback never migrates).
  await stack.setAllConfigJson(configJson({ [ROLLBACK_OF_KEY]: rollbackOf(target) }));
  // The rejection of the release being replaced (if it failed verification) goes into stack history with the rollback.
  const rejects =
    o.rejects ??
    [...readRejections(evidenceDir, stackName).rejections]
      .reverse()
      .find(
        (r) => r.imageDigests.api === current.apiDigest && r.imageDigests.worker === current.workerDigest,
      );
  const timed: TimedStepEvent[] = [];
  // One line (or JSON event) per playbook step and per verification check; a preview only previews.
  const steps =
    o.preview === true
      ? undefined
      : stepProgress({ kind: "rollback", startedAt: actionStartedAt, json: o.json === true });
  const what = `rollback to update ${target.version} (release ${target.release})${rejects !== undefined ? `; ${rejectionNote(rejects)}` : ""}`;
  const args = {
    ...policyArgs(projectDir, stackName, true, resolved.stackClass),
    message: target.admission === undefined ? what : admissionMessage(target.admission, what),
    refresh: true,
    // Every verification check runs against the restored release, the ones that failed before included.
    replace: verificationCommands,
    onOutput: progress(),
    // Each resource event with its arrival time (the engine's timestamps are whole seconds): the step budget.
    onEvent: (e: ProgressEventSource) => {
      const step = timedStepEvent(e, Date.now());
      if (step !== undefined) timed.push(step);
      steps?.onEvent(e);
    },
  };
  try {
    if (o.preview === true) {
      await stack.preview(args);
      await restoreConfig(stack, previous);
      return target;
    }
    const startedAt = new Date();
    const engineStartedAt = startedAt.getTime();
    steps?.engineStarted();
    // Its engine processes are recorded, so a rollback killed mid-flight leaves a lock `recover` can judge.
    const result = await recordingLockHolder(stackName, () => stack.up(args));
    const engineFinishedAt = Date.now();
    steps?.finish(true);
    await clearRollbackOf(stack);
    const summary: LaunchSummary = {
      ...summariseUpdate(stackName, "rollback", startedAt, result, target.version),
      rolledBackFrom: {
        release: replacedTag,
        digests: { api: current.apiDigest, worker: current.workerDigest },
        ...o.failedRelease,
      },
      ...(o.reason !== undefined ? { reason: o.reason } : {}),
      stepBudget: stepBudget({
        kind: "rollback",
        startedAt: actionStartedAt,
        engineStartedAt,
        finishedAt: engineFinishedAt,
        events: timed,
      }),
    };
    // The rollback is done: from here on nothing undoes it. A summary, notice or comms that cannot be written is a
    // warning (no config restore to the failed release, no exit 8).
    const file = afterRollback("the rollback summary", () => writeLaunchReport(evidenceDir, summary));
    const report = file !== undefined ? path.basename(file) : "not written";
    // Stakeholder notices and the postmortem skeleton, pre-filled with both releases and the timeline.
    afterRollback("the stakeholder notices and postmortem skeleton", () =>
      writeReleaseComms(evidenceDir, summary, { launchReport: report }),
    );
    await afterRollbackAsync("the rollback-done notification", () =>
      notify.send(
        "rollback-done",
        stackName,
        target.release,
        `to update ${target.version}; launch summary ${report}`,
        summary.digests,
      ),
    );
    if (file !== undefined) process.stderr.write(`rollback summary: ${path.relative(projectDir, file)}\n`);
    process.stderr.write(
      `${repositoryChange(stackName, target, changes, previous, path.relative(projectDir, evidenceDir)).join("\n")}\n`,
    );
    return target;
  } catch (err) {
    steps?.finish(false);
    await restoreConfig(stack, previous);
    if (o.preview === true) throw err;
    await notify.send(
      "rollback-failed",
      stackName,
      target.release,
      `to update ${target.version}; see the CLI output`,
      { api: target.apiDigest, worker: target.workerDigest },
    );
    throw new UserError(await rollbackFailedReport(projectDir, stackName, target, err), EXIT.rollbackFailed);
  }
}

/**
 * What the repository needs after a rollback: the stack file now names the restored release (on this machine only),
 * so the change and the git commands that put it, with the rollback's evidence, on a branch for a pull request. Until
 * it is merged the repository still names the replaced release.
 */
export function repositoryChange(
  stackName: string,
  target: ReleaseEntry,
  changes: { readonly set: Readonly<Record<string, string>>; readonly remove: readonly string[] },
  previous: Readonly<Record<string, { readonly value: string; readonly secret?: boolean } | undefined>>,
  evidenceDirRel: string,
): string[] {
  const file = `Pulumi.${stackName}.yaml`;
  const shown = (key: string) => {
    const p = previous[key];
    return p === undefined ? "(unset)" : p.secret === true ? "[secret]" : p.value;
  };
  const branch = `rollback/${stackName}-update-${target.version}`;
  return [
    `The rollback changed ${file} on this machine only; until the change below is merged the repository still names the replaced release and the next push deploys it again:`,
    ...Object.entries(changes.set).map(([key, value]) => `  ${key}: ${shown(key)} -> ${value}`),
    ...changes.remove.map((key) => `  ${key}: ${shown(key)} -> (removed: the project default)`),
    "Put it into the repository (a pull request):",
    `  git switch -c ${branch}`,
    `  git add ${file} ${evidenceDirRel}/${stackName}`,
    `  git commit -m "${stackName}: roll back to release ${target.release} (update ${target.version})"`,
    `  git push -u origin ${branch}    # then open a pull request from ${branch}`,
  ];
}

/**
 * What a person needs after a failed rollback (whatever failed: finding a target, signing the record, the update):
 * where the stack stands and the emergency steps.
 */
export async function rollbackFailedReport(
  projectDir: string,
  stackName: string,
  target: ReleaseEntry | undefined,
  err: unknown,
): Promise<string> {
  const why = describeFailure(err).message;
  const state = await clusterState(projectDir, stackName);
  return [
    `The rollback${target !== undefined ? ` to update ${target.version} (release ${target.release})` : ""} failed: ${why}`,
    `The stack config of ${stackName} is as it was before the rollback. The cluster now:`,
    ...state.lines,
    'Emergency steps (docs/runbook.md, "When verification fails"):',
    ...emergencySteps(state, stackName),
  ].join("\n");
}

/** Runs a step after a successful rollback; a failure is a warning naming what is missing, never a failed rollback. */
function afterRollback<T>(what: string, step: () => T): T | undefined {
  try {
    return step();
  } catch (err) {
    warnAfterRollback(what, err);
    return undefined;
  }
}

async function afterRollbackAsync<T>(what: string, step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (err) {
    warnAfterRollback(what, err);
    return undefined;
  }
}

function warnAfterRollback(what: string, err: unknown): void {
  process.stderr.write(
    `warning: the rollback succeeded, but ${what} could not be written: ${err instanceof Error ? err.message : String(err)}\n`,
  );
}

/** The `nova-rollout:rollbackOf` value of a rollback to `target` (see src/config/rollback-of.ts). */
function rollbackOf(target: ReleaseEntry): string {
  return formatRollbackOf({
    update: target.version,
    apiDigest: target.apiDigest,
    workerDigest: target.workerDigest,
  });
}

/**
 * Removes `nova-rollout:rollbackOf` after the rollback's update, so the next release dumps the database again. A
 * failure here does not undo the rollback: it says how to remove the key (until then the config is refused for any
 * other digests, never run without a dump).
 */
async function clearRollbackOf(stack: Pick<EngineStack, "removeConfig">): Promise<void> {
  try {
    await stack.removeConfig(ROLLBACK_OF_KEY);
  } catch (err) {
    process.stderr.write(
      `warning: could not remove ${ROLLBACK_OF_KEY} (${describeFailure(err).message}); remove it: pulumi config rm ${ROLLBACK_OF_KEY}\n`,
    );
  }
}
