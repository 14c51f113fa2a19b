/**
 * `pin --stack <s> --tag <tag>`: resolves the release tag of both images in the stack's registry and writes the tag and
 * digests into `Pulumi.<stack>.yaml` for review (`--dry-run`: print the change only).
 */
import { type Command } from "commander";
import { formatPin, pinRelease, type PinReport } from "../actions/pin";
import { JSON_OPTION, withJsonResult } from "../output";
import { resolveProjectDir, stackCommand } from "../options";

export function pinCommand(): Command {
  return stackCommand("pin")
    .description(
      "Resolve a release tag of both images to digests in the stack's registry and pin them in Pulumi.<stack>.yaml",
    )
    .requiredOption("--tag <tag>", "the release tag both images were pushed with (e.g. v1.4.2)")
    .option("--dry-run", "print the change to the stack file; write nothing")
    .option(...JSON_OPTION)
    .action(
      async (o: { stack: string; projectDir?: string; tag: string; dryRun?: boolean; json?: boolean }) => {
        await withJsonResult<PinReport>(o.json, async () => {
          const report = await pinRelease({
            projectDir: resolveProjectDir(o.projectDir),
            stack: o.stack,
            tag: o.tag,
            dryRun: o.dryRun === true,
          });
          console.log(formatPin(report));
          return report;
        });
      },
    );
}
