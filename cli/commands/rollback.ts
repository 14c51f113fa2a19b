/** `rollback`: flags of the rollback; the work is the rollback action (cli/actions/rollback.ts). */
import { type Command } from "commander";
import type { ReleaseEntry } from "../history";
import { positiveInt, resolveProjectDir, stackCommand } from "../options";
import { JSON_OPTION } from "../output";
import { askYesNo } from "../actions/recover";
import { rollbackStackNamed } from "../actions/rollback";

export function rollbackCommand(): Command {
  return stackCommand("rollback")
    .description(
      "Re-apply the config of the last good release (or --to <version>), gated and verified; the database stays forward-only",
    )
    .option("--to <version>", "update version to roll back to", positiveInt)
    .option("--preview", "only preview the rollback")
    .option("--reason <text>", "why (recorded in the rollback record)")
    .option("--by <name>", "who asks for it: your roster name (default: NOVA_OPERATOR, else your user name)")
    .option("--ssh-key <file>", "your SSH key that signs the rollback record (default: NOVA_SSH_KEY_FILE)")
    .option("-y, --yes", "do not ask for confirmation")
    .option(...JSON_OPTION)
    .action(
      async (o: {
        stack: string;
        projectDir?: string;
        to?: number;
        preview?: boolean;
        reason?: string;
        by?: string;
        sshKey?: string;
        yes?: boolean;
        json?: boolean;
      }) => {
        const projectDir = resolveProjectDir(o.projectDir);
        const target = await rollbackStackNamed(projectDir, o.stack, {
          ...(o.yes === true || o.preview === true ? {} : { confirm: askToConfirm }),
          ...(o.to !== undefined ? { to: o.to } : {}),
          ...(o.preview === true ? { preview: true } : {}),
          ...(o.reason !== undefined ? { reason: o.reason } : {}),
          ...(o.by !== undefined ? { requestedBy: o.by } : {}),
          ...(o.sshKey !== undefined ? { sshKey: o.sshKey } : {}),
          ...(o.json === true ? { json: true } : {}),
        });
        process.stdout.write(
          o.json === true
            ? `${JSON.stringify({ stack: o.stack, target })}\n`
            : `${o.preview === true ? "previewed" : "rolled back to"} update ${target.version} (release ${target.release})\n`,
        );
      },
    );
}

/** Asks on the terminal whether to roll back to `target`; without a terminal, `--yes` is required. */
function askToConfirm(target: ReleaseEntry): Promise<boolean> {
  return askYesNo(
    `Roll back to update ${target.version}: release ${target.release}, api ${target.apiDigest}, worker ${target.workerDigest}?`,
  );
}
