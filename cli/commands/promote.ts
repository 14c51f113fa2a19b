/**
 * `promote --from staging --to production`: copies the release the staging stack deployed and verified into the
 * production registry by digest and pins it in `Pulumi.production.yaml` (`--dry-run`: show the copies and the change).
 */
import { Command } from "commander";
import { formatPromote, promoteRelease, type PromoteReport } from "../actions/promote";
import { JSON_OPTION, withJsonResult } from "../output";
import { positiveInt, PROJECT_DIR_OPTION, resolveProjectDir } from "../options";

export function promoteCommand(): Command {
  return new Command("promote")
    .description(
      "Copy the release a stack deployed and verified (its newest update) into another stack's registry by digest, and pin it there",
    )
    .requiredOption("--from <stack>", "the stack whose verified release is promoted (e.g. staging)")
    .requiredOption(
      "--to <stack>",
      "the stack that receives it: its registry and Pulumi.<stack>.yaml (e.g. production)",
    )
    .option(...PROJECT_DIR_OPTION)
    .option("--update <version>", "promote this update of --from instead of its newest", positiveInt)
    .option("--dry-run", "show what would be copied and the change to the stack file; copy and write nothing")
    .option(...JSON_OPTION)
    .action(
      async (o: {
        from: string;
        to: string;
        update?: number;
        projectDir?: string;
        dryRun?: boolean;
        json?: boolean;
      }) => {
        await withJsonResult<PromoteReport>(o.json, async () => {
          const report = await promoteRelease({
            projectDir: resolveProjectDir(o.projectDir),
            from: o.from,
            to: o.to,
            ...(o.update !== undefined ? { update: o.update } : {}),
            dryRun: o.dryRun === true,
            onProgress: (line) => console.error(line),
          });
          console.log(formatPromote(report));
          return report;
        });
      },
    );
}
