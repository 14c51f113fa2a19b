/** `freeze --stack <stack> --end <time>`: records a change-freeze window under `<evidenceDir>/<stack>/records/`. */
import { JSON_OPTION, STACK_OPTION, UserError, withJsonResult } from "../engine";
import * as path from "node:path";
import { Command } from "commander";
import { DEFAULT_EVIDENCE_DIR } from "../../src/contract";
import { announce } from "../announce";
import { freezeNoticeDetail } from "../../src/comms/templates";
import {
  findProjectDir,
  type FreezeRecord,
  parseTime,
  recordSigningKey,
  resolveStackSettings,
  signRecord,
  writeRecord,
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

/** Signs a record written by a command with the caller's SSH key (or warns that it counts only outside production). */
export function signWritten(file: string, sshKey: string | undefined): string | undefined {
  const key = recordSigningKey(sshKey);
  if (key === undefined) {
    console.error(
      "warning: the record is unsigned (no --ssh-key or NOVA_SSH_KEY_FILE); production counts only records signed by the roster person they name",
    );
    return undefined;
  }
  const signature = signRecord(file, key);
  console.log(`signed ${signature}`);
  return signature;
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
        const evidenceDir = evidenceDirFor(o.stack, o.projectDir, o.evidenceDir);
        // A lift ends every record of the window it names: the same window declared again would already be over.
        const lifted = readPostLaunchRecords(evidenceDir, o.stack).lifts.find((l) => liftNames(l, record));
        if (lifted !== undefined) {
          throw new UserError(
            `the window ${record.start} – ${record.end} was lifted at ${lifted.liftedAt} by ${lifted.liftedBy}; declare one with another start or end`,
          );
        }
        const file = writeRecord(evidenceDir, record, now);
        console.log(`wrote ${file}`);
        const signature = signWritten(file, o.sshKey);
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
