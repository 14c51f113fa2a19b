/** `recover`: flags of crash recovery; the work is the recover action (cli/actions/recover.ts). */
import { type Command } from "commander";
import { recover } from "../actions/recover";
import { FORCE_UNLOCK_OPTION, LOCK_AGE_OPTION, resolveProjectDir, stackCommand } from "../options";
import { JSON_OPTION } from "../output";

export function recoverCommand(): Command {
  return stackCommand("recover")
    .description(
      "Recover a stack an interrupted update left locked: cancel an abandoned lock, reconcile pending operations",
    )
    .option(...LOCK_AGE_OPTION)
    .option(...FORCE_UNLOCK_OPTION)
    .option("-y, --yes", "cancel a provably abandoned lock without asking (never a lock judged by its age)")
    .option(...JSON_OPTION)
    .action(
      async (o: {
        stack: string;
        projectDir?: string;
        lockStaleAfter: number;
        forceUnlock: string[];
        yes?: boolean;
        json?: boolean;
      }) => {
        const result = await recover(resolveProjectDir(o.projectDir), o.stack, {
          yes: o.yes === true,
          staleAfterMs: o.lockStaleAfter,
          forceUnlock: o.forceUnlock,
          quiet: o.json === true,
        });
        if (o.json === true) process.stdout.write(`${JSON.stringify({ stack: o.stack, ...result })}\n`);
      },
    );
}
