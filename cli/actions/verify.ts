/** The verify action (`rollout verify`): the post-deploy checks run now, outside an update. */
import * as fs from "node:fs";
import type { StackSettings } from "../../src/config";
import { gkeContextName } from "../cluster-state";
import { decryptedSettings } from "../engine";
import { verificationAttempts } from "../../src/verify/checks";
import { grafanaPanelAttempts } from "../../src/verify/grafana-probe";
import { withRetries, type ProbeResult } from "../../src/verify/probe";

/**
 * Runs the post-deploy checks now, outside an update, with the stack's settings. The worker's port-forward goes
 * through the stack's own cluster and context (a GKE stack: the context `gcloud container clusters get-credentials`
 * writes), never the operator's current context.
 */
export async function runVerification(
  settings: StackSettings["verification"],
  cluster?: StackSettings["cluster"],
): Promise<ProbeResult[]> {
  const checks = verificationAttempts(
    { ...settings, ...(cluster !== undefined ? { kubeContext: clusterContext(cluster) } : {}) },
    {
      ...settings,
      ...(cluster?.mode === "kubeconfig"
        ? { kubeconfig: fs.readFileSync(cluster.kubeconfigPath, "utf8") }
        : {}),
    },
  );
  // The stack's dashboard panels, read through Grafana's query API with its decrypted authorization.
  checks.push(...grafanaPanelAttempts(settings));
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
  const settings = await decryptedSettings(projectDir, stackName);
  return runVerification(settings.verification, settings.cluster);
}

/** The kubeconfig context of the stack's own cluster. */
function clusterContext(cluster: StackSettings["cluster"]): string {
  return cluster.mode === "kubeconfig"
    ? cluster.context
    : gkeContextName(cluster.project, cluster.region, cluster.clusterName);
}
