/** `verify`: the post-deploy checks run now, outside an update. */
import { EXIT, JSON_OPTION, projectRoot, STACK_OPTION, UserError } from "../engine";
import { Command } from "commander";
import { loadStackSettingsFromFile } from "../../src/config";
import { verificationAttempts } from "../../src/verify/checks";
import { withRetries, type ProbeResult } from "../../src/verify/probe";

/** Runs the post-deploy checks now, outside an update, with the stack's settings. */
export async function runVerification(
  settings: ReturnType<typeof loadStackSettingsFromFile>["verification"],
): Promise<ProbeResult[]> {
  const checks = verificationAttempts(settings);
  const budget = {
    attempts: settings.attempts,
    timeoutMs: settings.timeoutSeconds * 1000,
    backoffMs: 2000,
    log: (line: string) => process.stderr.write(`${line}\n`),
  };
  const results: ProbeResult[] = [];
  for (const [name, attempt] of checks) results.push(await withRetries(name, attempt, budget));
  return results;
}

export function verifyCommand(): Command {
  return new Command("verify")
    .description(
      "Run the post-deploy checks against a stack now (health, metrics, readyz, alerts, E2E, drill)",
    )
    .requiredOption(...STACK_OPTION)
    .option(...JSON_OPTION)
    .action(async (o: { stack: string; json?: boolean }) => {
      const settings = loadStackSettingsFromFile(projectRoot(), o.stack);
      const results = await runVerification(settings.verification);
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
