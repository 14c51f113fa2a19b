/**
 * `rollback`: re-applies the config of a good earlier release from stack history, gated (admitted by what admitted
 * that release) and verified like any release.
 */
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { type Stack } from "@pulumi/pulumi/automation";
import { writeReleaseComms } from "../../src/comms/templates";
import { SERVICE_DEPLOYMENTS } from "../../src/contract";
import {
  admissionMessage,
  classifyStackFile,
  recordSigningKey,
  signRecord,
  writeRecord,
} from "../../src/evidence";
import { notifierFor } from "../announce";
import { clusterState } from "../cluster-state";
import {
  configJson,
  describeFailure,
  EXIT,
  fullHistory,
  openStack,
  policyArgs,
  progress,
  projectRoot,
  rollbackTarget,
  JSON_OPTION,
  STACK_OPTION,
  UserError,
  type ReleaseEntry,
  StackConfig,
  verificationUrns,
} from "../engine";
import { summariseUpdate, writeLaunchReport, type LaunchSummary } from "../launch-report";
import { askYesNo } from "../recover";
import { positiveInt, shortDigest } from "./history";

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
  const config = await StackConfig.of(stack);
  const current = {
    apiDigest: config.value("apiImageDigest"),
    workerDigest: config.value("workerImageDigest"),
  };
  const replacedTag = config.value("imageTag");
  const target = rollbackTarget(history, current, o.to, production);
  process.stderr.write(
    `Rolling ${stackName} back to update ${target.version} (release ${target.release}, api ${shortDigest(target.apiDigest)}, worker ${shortDigest(target.workerDigest)})\n`,
  );
  if (o.confirm !== undefined && !(await o.confirm(target))) {
    throw new UserError("Rollback cancelled; nothing changed.", EXIT.failed);
  }
  const evidenceDir = config.evidenceDir(projectDir);
  const notify = notifierFor(projectDir, config);
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
  const now: Record<string, { value: string; secret?: boolean } | undefined> = config.all;
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
    // Every verification check runs against the restored release, the ones that failed before included.
    replace: await verificationUrns(stack),
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
      ...summariseUpdate(stackName, "rollback", startedAt, result, target.version),
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
    process.stderr.write(`rollback summary: ${path.relative(projectDir, file)}\n`);
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
    `  1. ${k} -n ${namespace} rollout undo ${Object.values(SERVICE_DEPLOYMENTS)
      .map((d) => `deployment/${d}`)
      .join(" ")}`,
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
    .requiredOption(...STACK_OPTION)
    .option("--to <version>", "update version to roll back to", positiveInt)
    .option("--preview", "only preview the rollback")
    .option("--reason <text>", "why (recorded in the rollback record)")
    .option("--by <name>", "who asks for it: your roster name (default: NOVA_OPERATOR, else your user name)")
    .option("--ssh-key <file>", "your SSH key that signs the rollback record (default: NOVA_SSH_KEY_FILE)")
    .option("-y, --yes", "do not ask for confirmation")
    .option(...JSON_OPTION)
    .action(
      async (o: {
        stack: string;
        to?: number;
        preview?: boolean;
        reason?: string;
        by?: string;
        sshKey?: string;
        yes?: boolean;
        json?: boolean;
      }) => {
        const projectDir = projectRoot();
        const stack = await openStack({ projectDir, stack: o.stack });
        const target = await rollBack(projectDir, o.stack, stack, {
          ...(o.yes === true || o.preview === true ? {} : { confirm: askToConfirm }),
          ...(o.to !== undefined ? { to: o.to } : {}),
          ...(o.preview === true ? { preview: true } : {}),
          ...(o.reason !== undefined ? { reason: o.reason } : {}),
          ...(o.by !== undefined ? { requestedBy: o.by } : {}),
          ...(o.sshKey !== undefined ? { sshKey: o.sshKey } : {}),
        });
        process.stdout.write(
          o.json === true
            ? `${JSON.stringify({ stack: o.stack, target })}\n`
            : `${o.preview === true ? "previewed" : "rolled back to"} update ${target.version} (release ${target.release})\n`,
        );
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
