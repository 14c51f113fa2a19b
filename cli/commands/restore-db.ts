/** `restore-db`: restore the stack's newest pre-release dump into a database the operator names, then migrate it. */
import { type Command } from "commander";
import { restoreDb } from "../actions/restore-db";
import { resolveProjectDir, stackCommand } from "../options";
import { JSON_OPTION, withJsonResult } from "../output";

export function restoreDbCommand(): Command {
  return stackCommand("restore-db")
    .description(
      "Restore the stack's newest pre-release dump (or --dump) into the database named by --target-env, then run the migrations; refuses the live database",
    )
    .requiredOption("--target-env <variable>", "environment variable holding the target's connection string")
    .option("--dump <location>", "the dump to restore (path or gs:// object); default the stack's newest")
    .option(
      "--live-env <variable>",
      "environment variable holding the live database's connection string (when secrets come from Secret Manager)",
    )
    .option("--skip-migrations", "restore only; do not run the migrations")
    .option(...JSON_OPTION)
    .action(
      (o: {
        stack: string;
        projectDir?: string;
        targetEnv: string;
        dump?: string;
        liveEnv?: string;
        skipMigrations?: boolean;
        json?: boolean;
      }) =>
        withJsonResult(o.json, async () => {
          const result = await restoreDb({
            stack: o.stack,
            projectDir: resolveProjectDir(o.projectDir),
            targetEnv: o.targetEnv,
            ...(o.dump !== undefined ? { dump: o.dump } : {}),
            ...(o.liveEnv !== undefined ? { liveEnv: o.liveEnv } : {}),
            ...(o.skipMigrations === true ? { skipMigrations: true } : {}),
          });
          // With --json this line goes to stderr; the result is the JSON on stdout.
          console.log(
            `restored ${result.dump} into the database of ${o.targetEnv}${result.migrated ? " and migrated it" : ""}`,
          );
          return result;
        }),
    );
}
