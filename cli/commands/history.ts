/** `history`: the stack's updates as releases, numbered the way `rollback --to` takes them. */
import { type Command } from "commander";
import { releaseHistory } from "../actions/history";
import { formatHistory } from "../history";
import { positiveInt, resolveProjectDir, stackCommand } from "../options";

export function historyCommand(): Command {
  return stackCommand("history")
    .description("List the stack's updates with the release and digests each ran with (secrets never shown)")
    .option("-n, --limit <count>", "how many updates", positiveInt, 20)
    .option("--json", "print JSON")
    .action(async (o: { stack: string; projectDir?: string; limit: number; json?: boolean }) => {
      const report = await releaseHistory(resolveProjectDir(o.projectDir), o.stack);
      const entries = report.entries.slice(0, o.limit);
      process.stdout.write(
        `${o.json === true ? JSON.stringify(entries, null, 2) : formatHistory(entries)}\n`,
      );
      process.stderr.write(`${report.qualifying}\n`);
      for (const line of report.overdue) process.stderr.write(`${line}\n`);
    });
}
