/**
 * What the cluster runs now, read with kubectl (read-only): the CronJobs a release pauses and the two Deployments.
 * Printed when an operation stops between releases (a failed rollback, a recovered interrupted update), so a person
 * sees where the stack stands before acting.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { BILLING_DRILL_CRONJOB, SERVICE_DEPLOYMENTS } from "../src/contract";
import { loadStackSettingsFromFile } from "../src/config";

const execFileAsync = promisify(execFile);

export interface ClusterState {
  readonly namespace: string;
  readonly cronJobs: readonly string[];
  /** The kubectl command with the stack's kubeconfig and context, for the steps a person may run. */
  readonly kubectl: string;
  /** One line per CronJob (`SUSPENDED` or `running`) and per Deployment (image and ready replicas). */
  readonly lines: readonly string[];
  /** CronJobs found suspended. */
  readonly suspended: readonly string[];
}

export async function clusterState(projectDir: string, stackName: string): Promise<ClusterState> {
  let namespace = "<namespace>";
  let cronJobs: readonly string[] = [BILLING_DRILL_CRONJOB];
  let kube: string[] = [];
  try {
    const settings = loadStackSettingsFromFile(projectDir, stackName);
    namespace = settings.namespace;
    cronJobs = settings.pausedCronJobs;
    if (settings.cluster.mode === "kubeconfig") {
      kube = ["--kubeconfig", settings.cluster.kubeconfigPath, "--context", settings.cluster.context];
    }
  } catch {
    // the state is still reported, with placeholders for what the stack file does not say
  }
  const lines: string[] = [];
  const suspended: string[] = [];
  for (const job of cronJobs) {
    const state = await kubectlQuery(
      [...kube, "-n", namespace, "get", "cronjob", job, "-o", "jsonpath={.spec.suspend}"],
      (v) => (v === "true" ? "SUSPENDED" : "running"),
    );
    if (state === "SUSPENDED") suspended.push(job);
    lines.push(`  CronJob ${job}: ${state}`);
  }
  for (const d of Object.values(SERVICE_DEPLOYMENTS)) {
    lines.push(
      `  Deployment ${d}: ${await kubectlQuery(
        [
          ...kube,
          "-n",
          namespace,
          "get",
          "deployment",
          d,
          "-o",
          "jsonpath={.spec.template.spec.containers[0].image} ready={.status.readyReplicas}/{.spec.replicas}",
        ],
        (v) => v,
      )}`,
    );
  }
  return {
    namespace,
    cronJobs,
    kubectl: kube.length > 0 ? `kubectl ${kube.join(" ")}` : "kubectl",
    lines,
    suspended,
  };
}

/** Runs kubectl read-only; the formatted answer, or why it could not be read. */
async function kubectlQuery(args: readonly string[], format: (v: string) => string): Promise<string> {
  try {
    const { stdout } = await execFileAsync("kubectl", [...args], { timeout: 15_000 });
    return format(stdout.trim());
  } catch (e) {
    return `unknown (${((e as Error).message.split("\n")[0] ?? "kubectl failed").slice(0, 120)})`;
  }
}
