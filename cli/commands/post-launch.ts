/**
 * `post-launch --stack <stack> --by <name>`: after a launch, lifts the change freeze (a signed freeze-lift record that
 * ends the active window now), schedules the follow-up drills (billing, backups, failover) due within
 * `--follow-up-days` (7), and writes `<evidenceDir>/<stack>/<ts>-post-launch-announcement.md` from the newest launch
 * summary. `post-launch --stack <stack> --done <drill> --by <name>` records a follow-up drill as done.
 */
import { type Command } from "commander";
import { DEFAULT_FOLLOW_UP_DAYS, FOLLOW_UP_DRILLS } from "../../src/evidence/post-launch-records";
import { postLaunch, type PostLaunchOptions } from "../actions/post-launch";
import { SSH_KEY_OPTION, stackCommand } from "../options";
import { JSON_OPTION, withJsonResult } from "../output";

/** The commander command (`cli/index.ts` adds it to the program). */
export function postLaunchCommand(): Command {
  return stackCommand("post-launch", { evidenceDir: true })
    .description(
      "After a launch: lift the change freeze (signed record), write the announcement and schedule the follow-up drills; --done <drill> records one as done",
    )
    .requiredOption("--by <name>", "who lifts the freeze / did the drill (your roster name)")
    .option(
      "--follow-up-days <days>",
      `days until the follow-up drills are due (default ${DEFAULT_FOLLOW_UP_DAYS})`,
    )
    .option("--freeze <record>", "the freeze record to lift (file name); default: every window active now")
    .option("--reason <text>", "why the freeze is lifted (default: the launched release)")
    .option("--done <drill>", `record a follow-up drill as done (${FOLLOW_UP_DRILLS.join(", ")})`)
    .option("--note <text>", "with --done: where the drill's evidence is")
    .option(...SSH_KEY_OPTION)
    .option("--no-announce", "do not send the freeze-lifted event to the stack's notification channels")
    .option("--no-app-docs", "do not write the launch into the app checkout's STATUS.md and TODO.md")
    .option(...JSON_OPTION)
    .action((o: PostLaunchOptions & { announce: boolean; json?: boolean }) =>
      withJsonResult(o.json, () => postLaunch(o)),
    );
}
