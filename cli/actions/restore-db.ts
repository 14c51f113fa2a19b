/**
 * `rollout restore-db`: the fatal case of the playbook's rollback (§7: the database cannot go forward): restores the
 * newest pre-release dump of the stack (or the one named) into a database the operator names, then runs the stack's
 * migrations against it. The target is read from an environment variable (never a command-line argument), and a
 * target that reaches the live database is refused before anything is written: the same identity check as the
 * release's migration rehearsal (database name and cluster system identifier), with the same restore script.
 * Pointing the application at the restored database is a separate, deliberate step (see the runbook).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  COMMAND_ENV_ALLOWLIST,
  connectionEnv,
  rehearsalScript,
  SAME_DATABASE_EXIT_CODE,
  SCRIPT_INTERPRETER,
} from "../../components/database-scripts";
import type { StackSettings } from "../../src/config";
import { allowListedEnv, redactor } from "../../src/verify/probe";
import { decryptedSettings } from "../engine";
import { EXIT, UserError } from "../errors";

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
}

/** `…-20261203T150405Z.dump`: the UTC time the dump started, from its name. */
const DUMP_TIME = /-(\d{8}T\d{6}Z)\.dump$/;

/** The stack's dumps under `destination` (a directory or `gs://` prefix), newest first (by the time in the name). */
export function stackDumps(destination: string, stack: string): string[] {
  let names: string[];
  if (destination.startsWith("gs://")) {
    const listed = spawnSync("gcloud", ["storage", "ls", `${destination.replace(/\/+$/, "")}/`], {
      encoding: "utf8",
    });
    if (listed.status !== 0) {
      throw new UserError(
        `could not list the dumps under ${destination}: ${(listed.stderr || listed.error?.message || "").trim()}`,
      );
    }
    names = listed.stdout.split("\n").map((l) => l.trim());
  } else {
    names = fs.existsSync(destination)
      ? fs.readdirSync(destination).map((n) => path.join(destination, n))
      : [];
  }
  return names
    .filter((n) => path.basename(n).startsWith(`${stack}-`) && DUMP_TIME.test(n))
    .sort((a, b) => (DUMP_TIME.exec(b)?.[1] ?? "").localeCompare(DUMP_TIME.exec(a)?.[1] ?? ""));
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

/** Restores the dump into the target and migrates it; resolves to the dump restored. */
export async function restoreDb(o: RestoreDbOptions): Promise<{ dump: string; migrated: boolean }> {
  const target = requireVariable(o.targetEnv, "--target-env");
  const settings = await decryptedSettings(o.projectDir, o.stack);
  const live = liveConnection(settings, o.liveEnv);
  const dump = o.dump ?? stackDumps(settings.database.backupDestination, o.stack)[0];
  if (dump === undefined) {
    throw new UserError(
      `no dump of stack ${o.stack} under ${settings.database.backupDestination} (each release writes <stack>-<release>-<id>-<time>.dump there); name one with --dump`,
    );
  }
  const migration = o.skipMigrations === true ? "true" : settings.database.migrationCommand;
  process.stderr.write(
    `restoring ${dump} into the database of ${o.targetEnv}${o.skipMigrations === true ? "" : ", then migrating it"}\n`,
  );
  const script = rehearsalScript(dump, migration, {
    what: "the restore",
    target: `the database of ${o.targetEnv}`,
    fix: "Name a database of its own (restore-db never writes over the live one).",
    done: "restore-db: restored and migrated",
  });
  const env = {
    ...allowListedEnv([...COMMAND_ENV_ALLOWLIST, "NOVA_SANDBOX_GCS"], process.env),
    ...connectionEnv("LIVE", live),
    ...connectionEnv("REHEARSAL", target),
    MIGRATION_DATABASE_URL: target,
  };
  // Whatever a client or the migration prints, no connection string's password is shown.
  const redact = redactor([live, target]);
  const [shell = "/bin/bash", ...flags] = SCRIPT_INTERPRETER;
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(shell, [...flags, script], { env, stdio: ["ignore", "pipe", "pipe"] });
    const relay = (chunk: Buffer) => void process.stderr.write(redact(chunk.toString("utf8")));
    child.stdout.on("data", relay);
    child.stderr.on("data", relay);
    child.on("error", reject);
    child.on("close", (c) => resolve(c ?? 1));
  });
  if (code === SAME_DATABASE_EXIT_CODE) {
    throw new UserError(
      `refused: the database of ${o.targetEnv} is the live database of stack ${o.stack}; nothing was written`,
      EXIT.usage,
    );
  }
  if (code !== 0) throw new UserError(`restore-db failed (exit ${code}); see the output above`, EXIT.failed);
  return { dump, migrated: o.skipMigrations !== true };
}
