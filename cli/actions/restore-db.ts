/**
 * `rollout restore-db`: the fatal case of the playbook's rollback (§7: the database cannot go forward): restores the
 * newest pre-release dump of the stack (or the one named) into a database the operator names, then runs the stack's
 * migrations against it. The target is read from an environment variable (never a command-line argument), and a
 * target that reaches the live database is refused before anything is written: the same identity check as the
 * release's migration rehearsal (database name and cluster system identifier), with the same restore script.
 * Pointing the application at the restored database is a separate, deliberate step (see the runbook).
 *
 * `--over-live` is the one way to write over the live database: it restores only the dump an incident commander's
 * signed decision names (`rollout authorize-restore`), once, and only when the target is the live database.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import {
  COMMAND_ENV_ALLOWLIST,
  connectionEnv,
  NOT_LIVE_EXIT_CODE,
  rehearsalScript,
  SAME_DATABASE_EXIT_CODE,
  SCRIPT_INTERPRETER,
} from "../../components/database-scripts";
import type { StackSettings } from "../../src/config";
import { findRestoreDecision } from "../../src/evidence/restore-decisions";
import { allowListedEnv, redactor } from "../../src/verify/probe";
import { decryptedSettings } from "../engine";
import { EXIT, UserError } from "../errors";
import { localDump, newestDump } from "./dumps";
import { decisionRoster, takeDecision } from "./restore-decision";
import { stackFileView } from "./stack";

export interface RestoreDbOptions {
  readonly stack: string;
  readonly projectDir: string;
  /** The variable holding the target database's connection string. */
  readonly targetEnv: string;
  /** The dump to restore (a path or `gs://` object); default the stack's newest under its backup destination. */
  readonly dump?: string;
  /** The variable holding the live database's connection string, when the stack's config does not (Secret Manager). */
  readonly liveEnv?: string;
  /** Restore only; the migrations are not run. */
  readonly skipMigrations?: boolean;
  /** Restore over the live database, on the incident commander's signed decision for this dump. */
  readonly overLive?: boolean;
  /** `--evidence-dir`: where the stack's records (and the decision) are; default the stack's. */
  readonly evidenceDir?: string;
}

function requireVariable(name: string, flag: string): string {
  // Never echoed: a connection string given by mistake may hold a password.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new UserError(
      `${flag} takes the name of an environment variable holding the connection string, not the string`,
    );
  }
  const value = process.env[name];
  if (value === undefined || value.trim() === "") {
    throw new UserError(`${flag} ${name}: the variable is not set (export it with the connection string)`);
  }
  return value;
}

/**
 * The live database's connection string the target is checked against: the stack's own when its config holds it (a
 * `--live-env` then is refused: it would let any address stand in for the live one), else the variable `--live-env`
 * names (secrets from Secret Manager).
 */
export function liveConnection(
  settings: Pick<StackSettings, "secrets">,
  liveEnv: string | undefined,
): string {
  if (settings.secrets.source === "config") {
    if (liveEnv !== undefined) {
      throw new UserError(
        "--live-env is for stacks whose secrets come from Secret Manager; this stack's config names its live database, and the target is checked against that",
      );
    }
    const live = settings.secrets.values.databaseUrl;
    if (live !== undefined && live !== "") return live;
  } else if (liveEnv !== undefined) {
    return requireVariable(liveEnv, "--live-env");
  }
  throw new UserError(
    "the stack's config does not name its live database (secrets come from Secret Manager): pass --live-env <variable> holding its connection string, so the target can be checked against it",
  );
}

/** What a restore reads: the dump's file, and for `--over-live` the decision it took. */
interface RestoreSource {
  readonly file: string;
  readonly decision?: string;
  /** Marks the decision unused again (a restore that wrote nothing). */
  readonly giveBack: () => void;
  /** Removes the private copy of the dump, if one was made. */
  readonly dispose: () => void;
}

const NOTHING_TAKEN = { giveBack: () => undefined, dispose: () => undefined } as const;

/**
 * `--over-live`: the dump read once into a private copy and hashed, the incident commander's decision for exactly
 * those bytes found and taken (marked used). Refuses, with every decision on file and why it does not count, when
 * none allows it; nothing is kept then.
 */
async function decidedSource(o: RestoreDbOptions, dump: string): Promise<RestoreSource> {
  const roster = decisionRoster(o.projectDir, o.stack);
  const copy = await localDump(dump);
  try {
    const evidenceDir = stackFileView(o.projectDir, o.stack, o.evidenceDir).evidenceDir;
    const found = findRestoreDecision(evidenceDir, roster, {
      stack: o.stack,
      dumpSha256: copy.sha256,
      now: new Date(),
    });
    if ("problems" in found) {
      const why = found.problems.length > 0 ? found.problems.join("; ") : "none is on file";
      throw new UserError(
        `refused: no incident commander's decision allows restoring ${dump} over the live database of stack ${o.stack} (${why}); nothing was written. The incident commander records one with: rollout authorize-restore --stack ${o.stack} --incident-commander <name> --reason <text> --dump ${dump} --ssh-key <their key>`,
        EXIT.usage,
      );
    }
    const giveBack = takeDecision(found.file, { dump, target: o.targetEnv });
    process.stderr.write(
      `restoring over the live database of stack ${o.stack} on ${path.basename(found.file)}; stop the workloads that write to it first (see the runbook)\n`,
    );
    return { file: copy.file, decision: found.file, giveBack, dispose: copy.dispose };
  } catch (e) {
    copy.dispose();
    throw e;
  }
}

/** Restores the dump into the target and migrates it; resolves to the dump restored. */
export async function restoreDb(
  o: RestoreDbOptions,
): Promise<{ dump: string; migrated: boolean; decision?: string }> {
  const target = requireVariable(o.targetEnv, "--target-env");
  const settings = await decryptedSettings(o.projectDir, o.stack);
  const live = liveConnection(settings, o.liveEnv);
  const dump = o.dump ?? newestDump(settings.database.backupDestination, o.stack);
  const over = o.overLive === true ? "live" : "other";
  const source = over === "live" ? await decidedSource(o, dump) : { file: dump, ...NOTHING_TAKEN };
  const migration = o.skipMigrations === true ? "true" : settings.database.migrationCommand;
  process.stderr.write(
    `restoring ${dump} into the database of ${o.targetEnv}${o.skipMigrations === true ? "" : ", then migrating it"}\n`,
  );
  const script = rehearsalScript(
    source.file,
    migration,
    over === "live"
      ? {
          what: "the restore over the live database",
          target: `the database of ${o.targetEnv}`,
          fix: "",
          done: "restore-db: restored over the live database and migrated",
        }
      : {
          what: "the restore",
          target: `the database of ${o.targetEnv}`,
          fix: "Name a database of its own (restore-db writes over the live one only with --over-live).",
          done: "restore-db: restored and migrated",
        },
    over,
  );
  const env = {
    ...allowListedEnv([...COMMAND_ENV_ALLOWLIST, "NOVA_SANDBOX_GCS"], process.env),
    ...connectionEnv("LIVE", live),
    ...connectionEnv("REHEARSAL", target),
    MIGRATION_DATABASE_URL: target,
  };
  // Whatever a client or the migration prints, no connection string's password is shown.
  const redact = redactor([live, target]);
  const [shell = "/bin/bash", ...flags] = SCRIPT_INTERPRETER;
  let code: number;
  try {
    code = await new Promise<number>((resolve, reject) => {
      const child = spawn(shell, [...flags, script], { env, stdio: ["ignore", "pipe", "pipe"] });
      const relay = (chunk: Buffer) => void process.stderr.write(redact(chunk.toString("utf8")));
      child.stdout.on("data", relay);
      child.stderr.on("data", relay);
      child.on("error", reject);
      child.on("close", (c) => resolve(c ?? 1));
    });
  } finally {
    source.dispose();
  }
  if (code === SAME_DATABASE_EXIT_CODE) {
    throw new UserError(
      `refused: the database of ${o.targetEnv} is the live database of stack ${o.stack}; nothing was written (an incident commander's decision and --over-live are the only way over it)`,
      EXIT.usage,
    );
  }
  if (code === NOT_LIVE_EXIT_CODE) {
    source.giveBack();
    throw new UserError(
      `refused: --over-live restores only over the live database of stack ${o.stack}, and the database of ${o.targetEnv} is another; nothing was written and the decision stands`,
      EXIT.usage,
    );
  }
  if (code !== 0) throw new UserError(`restore-db failed (exit ${code}); see the output above`, EXIT.failed);
  return {
    dump,
    migrated: o.skipMigrations !== true,
    ...(source.decision !== undefined ? { decision: source.decision } : {}),
  };
}
