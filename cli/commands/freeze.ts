/** `freeze --stack <stack> --end <time>`: records a change-freeze window under `<evidenceDir>/<stack>/records/`. */
import { type Command } from "commander";
import { type FreezeOptions, recordFreeze } from "../actions/records";
import { resolveProjectDir, SSH_KEY_OPTION, stackCommand } from "../options";
import { JSON_OPTION, withJsonResult } from "../output";

export function freezeCommand(): Command {
  return stackCommand("freeze", { evidenceDir: true })
    .description("Record a change-freeze window for a stack (production rollouts need one covering now).")
    .option("--start <time>", "window start (ISO or +<n>h; default now)")
    .requiredOption("--end <time>", "window end (ISO or +<n>h)")
    .requiredOption("--reason <text>", "why the freeze is declared")
    .requiredOption("--declared-by <name>", "who declares it")
    .option(...SSH_KEY_OPTION)
    .option("--no-announce", "do not send the freeze-declared event to the stack's notification channels")
    .option(...JSON_OPTION)
    .action((o: Omit<FreezeOptions, "projectDir"> & { projectDir?: string; json?: boolean }) =>
      withJsonResult(o.json, () => recordFreeze({ ...o, projectDir: resolveProjectDir(o.projectDir) })),
    );
}
