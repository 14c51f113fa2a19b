/**
 * Release commands of the rollout CLI: preview, up, history, rollback and verify. Each runs the real engine through
 * the Automation API with the policy pack of the stack's environment attached, so the readiness gate and the safety
 * policies apply to every path, a rollback included.
 */
import * as os from "node:os";
import * as path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { ConcurrentUpdateError, type OutputMap, type Stack, type UpResult } from "@pulumi/pulumi/automation";
import { joinUrl } from "../../components/probe-command";
import { loadStackSettingsFromFile } from "../../src/config";
import {
  admissionMessage,
  admissionOf,
  classifyStackFile,
  recordSigningKey,
  signRecord,
  gateInputFor,
  readStackConfigFile,
  writeRecord,
  type Admission,
} from "../../src/evidence";
import {
  alertsAttempt,
  execAttempt,
  httpAttempt,
  withRetries,
  type Attempt,
  type ProbeResult,
} from "../../src/verify/probe";
import {
  configJson,
  configValue,
  evidenceDirOf,
  describeFailure,
  EXIT,
  openStack,
  policyArgs,
  progress,
  projectRoot,
  failedInVerification,
  failedUrns,
  fullHistory,
  rollbackTarget,
  UserError,
  type EngineEventLike,
  type ReleaseEntry,
} from "../engine";
import { notifierFor } from "../announce";
import { writeLaunchReport, type LaunchSummary } from "../launch-report";
import { writeReleaseComms } from "../../src/comms/templates";
import { formatOverdueFollowUps, overdueFollowUps } from "../../src/evidence/follow-ups";
import { clusterState } from "../cluster-state";
import {
  askYesNo,
  DEFAULT_STALE_LOCK_AGE,
  parseDuration,
  describePending,
  pendingOperations,
  recoverLockedStack,
  withLockRecovery,
  type RecoveryOptions,
} from "../recover";

const stackOption = ["-s, --stack <name>", "stack to act on (e.g. production)"] as const;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number ≥ 1");
  return n;
}

function outputValue<T>(outputs: OutputMap, key: string, fallback: T): T {
  const o = outputs[key];
  return o === undefined || o.secret ? fallback : (o.value as T);
}

function summarise(
  stackName: string,
  kind: LaunchSummary["kind"],
  startedAt: Date,
  result: UpResult,
  rolledBackTo?: number,
): LaunchSummary {
  const o = result.outputs;
  const digests = outputValue(o, "imageDigests", { api: "", worker: "" });
  const dump = outputValue<string | undefined>(o, "databaseDump", undefined);
  return {
    stack: stackName,
    kind,
    release: outputValue(o, "releaseTag", ""),
    digests,
    startedAt,
    finishedAt: new Date(),
    changes: Object.fromEntries(
      Object.entries(result.summary.resourceChanges ?? {}).map(([op, n]) => [op, Number(n)]),
    ),
    verification: outputValue(o, "verificationResults", []),
    ...(rolledBackTo !== undefined ? { rolledBackTo } : {}),
    ...(dump !== undefined ? { databaseDump: dump } : {}),
  };
}

export function previewCommand(): Command {
  return new Command("preview")
    .description("Preview the rollout of a stack with the readiness gate and safety policies attached")
    .requiredOption(...stackOption)
    .option("--no-policy", "skip the policy pack (sandbox stacks only)")
    .action(async (o: { stack: string; policy: boolean }) => {
      const projectDir = projectRoot();
      const stack = await openStack({ projectDir, stack: o.stack });
      const result = await stack.preview({
        ...policyArgs(projectDir, o.stack, o.policy),
        onOutput: progress(),
      });
      process.stdout.write(`${JSON.stringify(result.changeSummary)}\n`);
    });
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
  o: { policy: boolean; autoRollback: boolean; recovery?: RecoveryOptions },
): Promise<string> {
  const stack = await openStack({ projectDir, stack: stackName });
  const gate = policyArgs(projectDir, stackName, o.policy);
  const startedAt = new Date();
  const tag = await configValue(stack, "imageTag");
  const notify = await notifierFor(projectDir, stack);
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
  const evidenceDir = await evidenceDirOf(projectDir, stack);
  const summary = summarise(stackName, "release", startedAt, result);
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
    .requiredOption(...stackOption)
    .option("--no-policy", "skip the policy pack (sandbox stacks only)")
    .option("--no-auto-rollback", "leave a release whose verification failed in place")
    .option(...LOCK_AGE_OPTION)
    .option(
      "-y, --yes",
      "cancel a lock left by an interrupted update without asking (when provably abandoned)",
    )
    .action(
      async (o: {
        stack: string;
        policy: boolean;
        autoRollback: boolean;
        lockStaleAfter: number;
        yes?: boolean;
      }) => {
        const projectDir = projectRoot();
        const file = await release(projectDir, o.stack, {
          ...o,
          recovery: { yes: o.yes === true, staleAfterMs: o.lockStaleAfter },
        });
        process.stdout.write(`launch summary: ${path.relative(projectDir, file)}\n`);
      },
    );
}

const LOCK_AGE_OPTION = [
  "--lock-stale-after <duration>",
  "a lock older than this counts as abandoned even when its holder ran on another host",
  parseDuration,
  parseDuration(DEFAULT_STALE_LOCK_AGE),
] as const;

/**
 * `recover`: after an update was killed mid-flight, cancels its lock when the holder is provably gone (same host and
 * its process not running, or older than `--lock-stale-after`), reconciles the pending operations with the cluster,
 * and says where the release stands. `rollout up` then finishes the interrupted release (and resumes the CronJobs
 * once verified).
 */
export async function recover(
  projectDir: string,
  stackName: string,
  o: RecoveryOptions,
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
    await stack.refresh({ clearPendingCreates: true, onOutput: progress("  ") });
  } catch (err) {
    if (!(err instanceof ConcurrentUpdateError)) throw err;
    locked = true;
    pending = (await recoverLockedStack(stack, stackName, err, o)).pending.length;
  }
  const left = await pendingOperations(stack);
  const state = await clusterState(projectDir, stackName);
  process.stdout.write(
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
    .requiredOption(...stackOption)
    .option(...LOCK_AGE_OPTION)
    .option("-y, --yes", "do not ask for confirmation")
    .action(async (o: { stack: string; lockStaleAfter: number; yes?: boolean }) => {
      await recover(projectRoot(), o.stack, { yes: o.yes === true, staleAfterMs: o.lockStaleAfter });
    });
}

function shortDigest(d: string): string {
  return d.startsWith("sha256:") ? `${d.slice(0, 19)}…` : d || "-";
}

export function formatHistory(entries: readonly ReleaseEntry[]): string {
  const rows = entries.map((e) =>
    [
      String(e.version).padStart(4),
      e.kind.padEnd(8),
      e.result.padEnd(10),
      e.startTime.toISOString().replace(/\.\d{3}Z$/, "Z"),
      (e.release || "-").padEnd(12),
      shortDigest(e.apiDigest).padEnd(21),
      shortDigest(e.workerDigest),
    ].join("  "),
  );
  const header = [
    "  v#",
    "kind    ",
    "result    ",
    "started             ",
    "release     ",
    "api                  ",
    "worker",
  ].join("  ");
  return [header, ...rows].join("\n");
}

export function historyCommand(): Command {
  return new Command("history")
    .description("List the stack's updates with the release and digests each ran with (secrets never shown)")
    .requiredOption(...stackOption)
    .option("-n, --limit <count>", "how many updates", positiveInt, 20)
    .option("--json", "print JSON")
    .action(async (o: { stack: string; limit: number; json?: boolean }) => {
      const projectDir = projectRoot();
      const stack = await openStack({ projectDir, stack: o.stack });
      const entries = (await fullHistory(stack)).slice(0, o.limit);
      process.stdout.write(
        `${o.json === true ? JSON.stringify(entries, null, 2) : formatHistory(entries)}\n`,
      );
      // Follow-up drills `post-launch` scheduled and nobody recorded as done in time.
      const overdue = overdueFollowUps(await evidenceDirOf(projectDir, stack), o.stack, new Date());
      for (const line of formatOverdueFollowUps(overdue, projectDir)) process.stderr.write(`${line}\n`);
    });
}

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
}

/** The person running the CLI, as the roster names them: `NOVA_OPERATOR`, else the login name. */
function operatorName(): string {
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
  stack: Stack,
  o: RollbackOptions = {},
): Promise<ReleaseEntry> {
  const production = classifyStackFile(projectDir, stackName).production;
  const history = await fullHistory(stack);
  const current = {
    apiDigest: await configValue(stack, "apiImageDigest"),
    workerDigest: await configValue(stack, "workerImageDigest"),
  };
  const replacedTag = await configValue(stack, "imageTag");
  const target = rollbackTarget(history, current, o.to, production);
  process.stderr.write(
    `Rolling ${stackName} back to update ${target.version} (release ${target.release}, api ${shortDigest(target.apiDigest)}, worker ${shortDigest(target.workerDigest)})\n`,
  );
  if (o.confirm !== undefined && !(await o.confirm(target))) {
    throw new UserError("Rollback cancelled; nothing changed.", EXIT.failed);
  }
  const evidenceDir = await evidenceDirOf(projectDir, stack);
  const notify = await notifierFor(projectDir, stack);
  if (target.admission !== undefined) {
    const sshKey = recordSigningKey(o.sshKey);
    if (production && sshKey === undefined) {
      throw new UserError(
        "A production rollback record must be signed by the person it names: pass --ssh-key <file> or set NOVA_SSH_KEY_FILE (their key in policy/trust/roster.json), and --by / NOVA_OPERATOR with their roster name.",
      );
    }
    const now = new Date();
    const file = writeRecord(
      evidenceDir,
      {
        kind: "rollback",
        stack: stackName,
        release: target.release,
        imageDigests: { api: target.apiDigest, worker: target.workerDigest },
        bundleSha256: target.admission.bundleSha256,
        targetVersion: target.version,
        reason: o.reason ?? `rollback to update ${target.version}`,
        requestedBy: o.requestedBy ?? operatorName(),
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + ROLLBACK_RECORD_HOURS * 3_600_000).toISOString(),
      },
      now,
    );
    if (sshKey !== undefined) signRecord(file, sshKey);
    process.stderr.write(
      `rollback record: ${path.relative(projectDir, file)}${sshKey !== undefined ? " (signed)" : ""}\n`,
    );
  }
  // Only what differs is re-applied; what it replaces is remembered, so a failed rollback leaves the config as it was.
  const now: Record<string, { value: string; secret?: boolean } | undefined> = await stack.getAllConfig();
  const changes = Object.fromEntries(
    Object.entries(target.config).filter(
      ([key, value]) => now[key]?.value !== value || now[key]?.secret === true,
    ),
  );
  // What each changed key held, secret flag included, so a failed rollback restores it exactly.
  const previous = Object.fromEntries(Object.keys(changes).map((key) => [key, now[key]]));
  await stack.setAllConfigJson(configJson(changes));
  const what = `rollback to update ${target.version} (release ${target.release})`;
  const args = {
    ...policyArgs(projectDir, stackName),
    message: target.admission === undefined ? what : admissionMessage(target.admission, what),
    refresh: true,
    onOutput: progress(),
  };
  try {
    if (o.preview === true) {
      await stack.preview(args);
      await restoreConfig(stack, previous);
      return target;
    }
    const startedAt = new Date();
    const result = await stack.up(args);
    const summary: LaunchSummary = {
      ...summarise(stackName, "rollback", startedAt, result, target.version),
      rolledBackFrom: {
        release: replacedTag,
        digests: { api: current.apiDigest, worker: current.workerDigest },
        ...o.failedRelease,
      },
      ...(o.reason !== undefined ? { reason: o.reason } : {}),
    };
    const file = writeLaunchReport(evidenceDir, summary);
    // Stakeholder notices and the postmortem skeleton, pre-filled with both releases and the timeline.
    writeReleaseComms(evidenceDir, summary, { launchReport: path.basename(file) });
    await notify.send(
      "rollback-done",
      stackName,
      target.release,
      `to update ${target.version}; launch summary ${path.basename(file)}`,
    );
    process.stdout.write(`rollback summary: ${path.relative(projectDir, file)}\n`);
    process.stderr.write(`Commit Pulumi.${stackName}.yaml: it now holds the rolled-back release.\n`);
    return target;
  } catch (err) {
    await restoreConfig(stack, previous);
    if (o.preview === true) throw err;
    await notify.send(
      "rollback-failed",
      stackName,
      target.release,
      `to update ${target.version}; see the CLI output`,
    );
    throw new UserError(await rollbackFailedReport(projectDir, stackName, target, err), EXIT.rollbackFailed);
  }
}

/** What a person needs after a failed rollback: where the stack stands and the emergency steps. */
async function rollbackFailedReport(
  projectDir: string,
  stackName: string,
  target: ReleaseEntry,
  err: unknown,
): Promise<string> {
  const why = describeFailure(err).message;
  const { namespace, cronJobs, kubectl: k, lines } = await clusterState(projectDir, stackName);
  return [
    `The rollback to update ${target.version} (release ${target.release}) failed: ${why}`,
    `The stack config of ${stackName} is as it was before the rollback. The cluster now:`,
    ...lines,
    'Emergency steps (docs/runbook.md, "When verification fails"):',
    `  1. ${k} -n ${namespace} rollout undo deployment/nova-api deployment/nova-worker`,
    ...cronJobs.map(
      (j, i) => `  ${i + 2}. ${k} -n ${namespace} patch cronjob ${j} -p '{"spec":{"suspend":false}}'`,
    ),
    `  ${cronJobs.length + 2}. npm run rollout -- history --stack ${stackName}, then rollback --to <version> once the cause is fixed`,
  ].join("\n");
}

export function rollbackCommand(): Command {
  return new Command("rollback")
    .description(
      "Re-apply the config of the last good release (or --to <version>), gated and verified; the database stays forward-only",
    )
    .requiredOption(...stackOption)
    .option("--to <version>", "update version to roll back to", positiveInt)
    .option("--preview", "only preview the rollback")
    .option("--reason <text>", "why (recorded in the rollback record)")
    .option("--by <name>", "who asks for it: your roster name (default: NOVA_OPERATOR, else your user name)")
    .option("--ssh-key <file>", "your SSH key that signs the rollback record (default: NOVA_SSH_KEY_FILE)")
    .option("-y, --yes", "do not ask for confirmation")
    .action(
      async (o: {
        stack: string;
        to?: number;
        preview?: boolean;
        reason?: string;
        by?: string;
        sshKey?: string;
        yes?: boolean;
      }) => {
        const projectDir = projectRoot();
        const stack = await openStack({ projectDir, stack: o.stack });
        await rollBack(projectDir, o.stack, stack, {
          ...(o.yes === true || o.preview === true ? {} : { confirm: askToConfirm }),
          ...(o.to !== undefined ? { to: o.to } : {}),
          ...(o.preview === true ? { preview: true } : {}),
          ...(o.reason !== undefined ? { reason: o.reason } : {}),
          ...(o.by !== undefined ? { requestedBy: o.by } : {}),
          ...(o.sshKey !== undefined ? { sshKey: o.sshKey } : {}),
        });
      },
    );
}

/** Asks on the terminal whether to roll back to `target`; without a terminal, `--yes` is required. */
function askToConfirm(target: ReleaseEntry): Promise<boolean> {
  return askYesNo(
    `Roll back to update ${target.version}: release ${target.release}, api ${target.apiDigest}, worker ${target.workerDigest}?`,
  );
}

/** Puts back the config a rollback replaced: removed keys removed again, secrets stored as secrets. */
export async function restoreConfig(
  stack: Pick<Stack, "removeConfig" | "setAllConfigJson">,
  previous: Readonly<Record<string, { readonly value: string; readonly secret?: boolean } | undefined>>,
): Promise<void> {
  const kept: Record<string, { value: string; secret?: boolean }> = {};
  for (const [key, entry] of Object.entries(previous)) {
    if (entry === undefined) await stack.removeConfig(key);
    else kept[key] = entry;
  }
  if (Object.keys(kept).length > 0) await stack.setAllConfigJson(configJson(kept));
}

/** Runs the post-deploy checks now, outside an update, with the stack's settings. */
export async function runVerification(
  settings: ReturnType<typeof loadStackSettingsFromFile>["verification"],
): Promise<ProbeResult[]> {
  const checks: [string, Attempt][] = [
    ["api-health", httpAttempt(joinUrl(settings.apiBaseUrl, "/v1/health"), false)],
    ["api-metrics", httpAttempt(joinUrl(settings.apiBaseUrl, "/v1/metrics"), true)],
    ["worker-readyz", httpAttempt(joinUrl(settings.workerBaseUrl, "/readyz"), false)],
    ["alerts-quiet", alertsAttempt(settings.alertmanagerUrl)],
  ];
  if (settings.syntheticE2eCommand !== undefined) {
    checks.push(["synthetic-e2e", execAttempt(settings.syntheticE2eCommand)]);
  }
  if (settings.billingDrillDryRunCommand !== undefined) {
    checks.push(["billing-drill-dry-run", execAttempt(settings.billingDrillDryRunCommand)]);
  }
  const budget = {
    attempts: settings.attempts,
    timeoutMs: settings.timeoutSeconds * 1000,
    backoffMs: 2000,
    log: (line: string) => process.stderr.write(`${line}\n`),
  };
  const results: ProbeResult[] = [];
  for (const [name, attempt] of checks) results.push(await withRetries(name, attempt, budget));
  return results;
}

export function verifyCommand(): Command {
  return new Command("verify")
    .description(
      "Run the post-deploy checks against a stack now (health, metrics, readyz, alerts, E2E, drill)",
    )
    .requiredOption(...stackOption)
    .action(async (o: { stack: string }) => {
      const settings = loadStackSettingsFromFile(projectRoot(), o.stack);
      const results = await runVerification(settings.verification);
      for (const r of results) {
        process.stdout.write(
          `${r.ok ? "pass" : "FAIL"}  ${r.check.padEnd(22)} ${r.attempts} attempt(s)  ${r.detail}\n`,
        );
      }
      if (results.some((r) => !r.ok)) {
        throw new UserError(
          "Post-deploy verification failed; see the runbook's rollback section.",
          EXIT.verificationFailed,
        );
      }
    });
}
