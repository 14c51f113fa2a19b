/**
 * `restore-db`: restore the stack's newest pre-release dump into a database the operator names, then migrate it;
 * `authorize-restore`: the incident commander's signed decision that lets `restore-db --over-live` write over the
 * live database, once, with one dump.
 */
import { type Command } from "commander";
import { authorizeRestore, type AuthorizeRestoreOptions } from "../actions/restore-decision";
import { restoreDb, type RestoreDbOptions } from "../actions/restore-db";
import { resolveProjectDir, SSH_KEY_OPTION, stackCommand } from "../options";
import { JSON_OPTION, withJsonResult } from "../output";
import { RESTORE_DECISION_MAX_HOURS } from "../../src/evidence/restore-decisions";

export function restoreDbCommand(): Command {
  return stackCommand("restore-db", { evidenceDir: true })
    .description(
      "Restore the stack's newest pre-release dump (or --dump) into the database named by --target-env, then run the migrations; refuses the live database unless --over-live and an incident commander's decision (authorize-restore) name this dump",
    )
    .requiredOption("--target-env <variable>", "environment variable holding the target's connection string")
    .option("--dump <location>", "the dump to restore (path or gs:// object); default the stack's newest")
    .option(
      "--live-env <variable>",
      "environment variable holding the live database's connection string (when secrets come from Secret Manager)",
    )
    .option("--skip-migrations", "restore only; do not run the migrations")
    .option(
      "--over-live",
      "restore over the live database (the target must be it), on the incident commander's signed decision for this dump",
    )
    .option(...JSON_OPTION)
    .action((o: Omit<RestoreDbOptions, "projectDir"> & { projectDir?: string; json?: boolean }) =>
      withJsonResult(o.json, async () => {
        const result = await restoreDb({ ...o, projectDir: resolveProjectDir(o.projectDir) });
        // With --json this line goes to stderr; the result is the JSON on stdout.
        console.log(
          `restored ${result.dump} into the ${o.overLive === true ? "live database" : "database"} of ${o.targetEnv}${result.migrated ? " and migrated it" : ""}`,
        );
        return result;
      }),
    );
}

export function authorizeRestoreCommand(): Command {
  return stackCommand("authorize-restore", { evidenceDir: true })
    .description(
      "Record the incident commander's signed decision to restore one dump over the stack's live database (used once by restore-db --over-live)",
    )
    .requiredOption(
      "--incident-commander <name>",
      "incident commander (a roster name with the incident-commander role), who signs",
    )
    .requiredOption("--reason <text>", "incident and why the database cannot go forward")
    .option("--dump <location>", "the dump to restore (path or gs:// object); default the stack's newest")
    .option(
      "--expires-in-minutes <minutes>",
      `how long the decision stands (at most ${RESTORE_DECISION_MAX_HOURS * 60})`,
      "60",
    )
    .option(...SSH_KEY_OPTION)
    .option(...JSON_OPTION)
    .action((o: Omit<AuthorizeRestoreOptions, "projectDir"> & { projectDir?: string; json?: boolean }) =>
      withJsonResult(o.json, () => authorizeRestore({ ...o, projectDir: resolveProjectDir(o.projectDir) })),
    );
}
