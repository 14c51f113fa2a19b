/** `freeze --stack <stack> --end <time>`: records a change-freeze window under `<evidenceDir>/<stack>/records/`. */
import { JSON_OPTION, STACK_OPTION, UserError, withJsonResult } from "../engine";
import * as path from "node:path";
import { Command } from "commander";
import { DEFAULT_EVIDENCE_DIR } from "../../src/contract";
import { announce } from "../announce";
import { freezeNoticeDetail } from "../../src/comms/templates";
import {
  type AnyRecord,
  classifyStackFile,
  findProjectDir,
  type FreezeRecord,
  freezeProblem,
  loadProductionEnforcement,
  parseTime,
  recordSigningKey,
  RecordSigningError,
  resolveStackSettings,
  writeSignedRecord,
} from "../../src/evidence";
import { liftNames, readPostLaunchRecords } from "../../src/evidence/post-launch-records";

interface FreezeOptions {
  stack: string;
  start?: string;
  end: string;
  reason: string;
  declaredBy: string;
  projectDir?: string;
  evidenceDir?: string;
  sshKey?: string;
}

/** The SSH key a command signs its records with (`--ssh-key`, else NOVA_SSH_KEY_FILE); warns when there is none. */
export function signingKeyOrWarn(sshKey: string | undefined): string | undefined {
  const key = recordSigningKey(sshKey);
  if (key === undefined) {
    console.error(
      "warning: the record is unsigned (no --ssh-key or NOVA_SSH_KEY_FILE); production counts only records signed by the roster person they name",
    );
  }
  return key;
}

/**
 * Writes a record signed with the caller's SSH key (or unsigned, with a warning that it counts only outside
 * production). It is signed before it reaches `records/`: a failed signature records nothing.
 */
export function writeRecordSigned(
  evidenceDir: string,
  record: AnyRecord,
  now: Date,
  sshKey: string | undefined,
): { file: string; signature?: string } {
  const key = signingKeyOrWarn(sshKey);
  let written: { file: string; signature?: string };
  try {
    written = writeSignedRecord(evidenceDir, record, now, key);
  } catch (e) {
    if (e instanceof RecordSigningError) throw new UserError(e.message);
    throw e;
  }
  console.log(`wrote ${written.file}`);
  if (written.signature !== undefined) console.log(`signed ${written.signature}`);
  return written;
}

/** The option every record command has. */
export const SSH_KEY_OPTION = [
  "--ssh-key <file>",
  "SSH key (private key file, or public key file with the private key in ssh-agent) to sign the record with; default NOVA_SSH_KEY_FILE",
] as const;

/** Resolves the absolute evidence directory of a stack (flag, stack config, default). */
export function evidenceDirFor(stack: string, projectDir?: string, evidenceDir?: string): string {
  const dir = path.resolve(projectDir ?? findProjectDir([process.cwd()]) ?? process.cwd());
  const s = resolveStackSettings({ stack, projectDir: dir, env: {} });
  return path.resolve(dir, evidenceDir ?? (s.ok ? s.settings.evidenceDir : DEFAULT_EVIDENCE_DIR));
}

/**
 * A production freeze counts only when declared by a roster person holding a freeze role, for at most the committed
 * number of days (policy/config/production.json `nova-change-freeze`): refuse to record one that would not.
 */
function refuseUncountedFreeze(record: FreezeRecord, projectDirOption?: string): void {
  const projectDir = path.resolve(projectDirOption ?? findProjectDir([process.cwd()]) ?? process.cwd());
  if (!classifyStackFile(projectDir, record.stack).production) return;
  let problem: string | undefined;
  try {
    const enforcement = loadProductionEnforcement(projectDir);
    problem =
      "error" in enforcement.roster
        ? enforcement.roster.error
        : freezeProblem(record, enforcement.roster, enforcement.freezeRoles, enforcement.freezeMaxDays);
  } catch (e) {
    problem = (e as Error).message;
  }
  if (problem !== undefined) {
    throw new UserError(`freeze: production would not count this window: ${problem}; nothing was recorded.`);
  }
}

export function freezeCommand(): Command {
  return new Command("freeze")
    .description("Record a change-freeze window for a stack (production rollouts need one covering now).")
    .requiredOption(...STACK_OPTION)
    .option("--start <time>", "window start (ISO or +<n>h; default now)")
    .requiredOption("--end <time>", "window end (ISO or +<n>h)")
    .requiredOption("--reason <text>", "why the freeze is declared")
    .requiredOption("--declared-by <name>", "who declares it")
    .option("--project-dir <dir>", "project directory")
    .option("--evidence-dir <dir>", "evidence directory relative to the project")
    .option(...SSH_KEY_OPTION)
    .option("--no-announce", "do not send the freeze-declared event to the stack's notification channels")
    .option(...JSON_OPTION)
    .action((o: FreezeOptions & { announce: boolean; json?: boolean }) =>
      withJsonResult(o.json, async () => {
        const now = new Date();
        const time = (flag: string, text: string) => {
          try {
            return parseTime(text, now).toISOString();
          } catch (e) {
            throw new UserError(`--${flag}: ${(e as Error).message}`);
          }
        };
        const record: FreezeRecord = {
          kind: "freeze",
          stack: o.stack,
          start: o.start === undefined ? now.toISOString() : time("start", o.start),
          end: time("end", o.end),
          reason: o.reason,
          declaredBy: o.declaredBy,
        };
        if (Date.parse(record.end) <= Date.parse(record.start)) {
          throw new UserError(`--end ${record.end} must be after the start ${record.start}`);
        }
        refuseUncountedFreeze(record, o.projectDir);
        const evidenceDir = evidenceDirFor(o.stack, o.projectDir, o.evidenceDir);
        // A lift ends every record of the window it names: the same window declared again would already be over.
        const lifted = readPostLaunchRecords(evidenceDir, o.stack).lifts.find((l) => liftNames(l, record));
        if (lifted !== undefined) {
          throw new UserError(
            `the window ${record.start} – ${record.end} was lifted at ${lifted.liftedAt} by ${lifted.liftedBy}; declare one with another start or end`,
          );
        }
        const { file, signature } = writeRecordSigned(evidenceDir, record, now, o.sshKey);
        if (o.announce) {
          await announce(
            path.resolve(o.projectDir ?? findProjectDir([process.cwd()]) ?? process.cwd()),
            o.stack,
            "freeze-declared",
            "",
            freezeNoticeDetail({
              event: "declared",
              stack: o.stack,
              start: record.start,
              end: record.end,
              by: record.declaredBy,
              reason: record.reason,
            }),
          );
        }
        return { stack: o.stack, record: file, signature: signature ?? null };
      }),
    );
}
