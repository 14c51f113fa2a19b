/** `verify`: the post-deploy checks run now, outside an update. */
import { type Command } from "commander";
import { verifyStack } from "../actions/verify";
import { EXIT, UserError } from "../errors";
import { resolveProjectDir, stackCommand } from "../options";
import { JSON_OPTION } from "../output";

export function verifyCommand(): Command {
  return stackCommand("verify")
    .description(
      "Run the post-deploy checks against a stack now (health, metrics, readyz, alerts, E2E, drill)",
    )
    .option(...JSON_OPTION)
    .action(async (o: { stack: string; projectDir?: string; json?: boolean }) => {
      const results = await verifyStack(resolveProjectDir(o.projectDir), o.stack);
      if (o.json === true) process.stdout.write(`${JSON.stringify({ stack: o.stack, results })}\n`);
      else
        for (const r of results) {
          process.stdout.write(
            `${r.ok ? "pass" : "FAIL"}  ${r.check.padEnd(22)} ${r.attempts} attempt(s)  ${r.detail}\n`,
          );
        }
      if (results.some((r) => !r.ok)) {
        throw new UserError(
          "Post-deploy verification failed; see the runbook's rollback section.",
          EXIT.verificationFailed,
        );
      }
    });
}
