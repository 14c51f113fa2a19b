/** The verify action (`rollout verify`): the post-deploy checks run now, outside an update. */
import type { StackSettings } from "../../src/config";
import { decryptedSettings } from "../engine";
import { verificationAttempts } from "../../src/verify/checks";
import { withRetries, type ProbeResult } from "../../src/verify/probe";

/** Runs the post-deploy checks now, outside an update, with the stack's settings. */
export async function runVerification(settings: StackSettings["verification"]): Promise<ProbeResult[]> {
  const checks = verificationAttempts(settings, settings);
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

/**
 * The post-deploy checks of a stack by name, with its config as the engine decrypts it (the stack file is validated
 * first, so a malformed one is named without an engine run): Alertmanager's authorization and the commands' secret
 * variables included, never printed.
 */
export async function verifyStack(projectDir: string, stackName: string): Promise<ProbeResult[]> {
  return runVerification((await decryptedSettings(projectDir, stackName)).verification);
}
