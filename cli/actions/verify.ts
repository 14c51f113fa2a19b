/** The verify action (`rollout verify`): the post-deploy checks run now, outside an update. */
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

/** The post-deploy checks of a stack by name, with the settings of its stack file. */
export function verifyStack(projectDir: string, stackName: string): Promise<ProbeResult[]> {
  return runVerification(loadStackSettingsFromFile(projectDir, stackName).verification);
}
