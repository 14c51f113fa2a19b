/**
 * What the cluster runs now, read with kubectl (read-only): the CronJobs a release pauses and the two Deployments.
 * Printed when an operation stops between releases (a failed rollback, a recovered interrupted update), so a person
 * sees where the stack stands before acting.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { BILLING_DRILL_CRONJOB, SERVICE_DEPLOYMENTS, SUSPEND_FIELD_MANAGER } from "../src/contract";
import { loadStackSettingsFromFile, type StackSettings } from "../src/config";
import { shellQuote } from "../src/util/shell";

const execFileAsync = promisify(execFile);

export interface ClusterState {
  readonly namespace: string;
  readonly cronJobs: readonly string[];
  /**
   * The kubectl command aimed at the stack's own cluster and context (never the operator's current context), for
   * the steps a person may run.
   */
  readonly kubectl: string;
  /** What to run before `kubectl` works (a GKE stack: fetch the cluster's credentials); may be empty. */
  readonly setup: readonly string[];
  /** One line per CronJob (`SUSPENDED` or `running`) and per Deployment (image and ready replicas). */
  readonly lines: readonly string[];
  /** CronJobs found suspended. */
  readonly suspended: readonly string[];
}

/** How kubectl reaches a stack's cluster: its arguments (undefined when unknown) and the steps before it. */
export interface StackKubectl {
  /** `--kubeconfig`/`--context` of the stack; undefined when the stack file does not say (nothing is queried). */
  readonly args: readonly string[] | undefined;
  readonly setup: readonly string[];
}

/** The context `gcloud container clusters get-credentials` creates for a GKE cluster. */
export function gkeContextName(project: string, region: string, clusterName: string): string {
  return `gke_${project}_${region}_${clusterName}`;
}

/**
 * kubectl aimed at the stack's own cluster: its kubeconfig and context, or for a GKE stack the context of its cluster
 * (after fetching its credentials). Pure.
 */
export function stackKubectl(cluster: StackSettings["cluster"] | undefined): StackKubectl {
  if (cluster === undefined) return { args: undefined, setup: [] };
  if (cluster.mode === "kubeconfig") {
    return { args: ["--kubeconfig", cluster.kubeconfigPath, "--context", cluster.context], setup: [] };
  }
  return {
    args: ["--context", gkeContextName(cluster.project, cluster.region, cluster.clusterName)],
    setup: [
      `gcloud container clusters get-credentials ${shellQuote(cluster.clusterName)} --region ${shellQuote(cluster.region)} --project ${shellQuote(cluster.project)}`,
    ],
  };
}

export async function clusterState(projectDir: string, stackName: string): Promise<ClusterState> {
  let namespace = "<namespace>";
  let cronJobs: readonly string[] = [BILLING_DRILL_CRONJOB];
  let cluster: StackSettings["cluster"] | undefined;
  let unreadable = "";
  try {
    const settings = loadStackSettingsFromFile(projectDir, stackName);
    namespace = settings.namespace;
    cronJobs = settings.pausedCronJobs;
    cluster = settings.cluster;
  } catch (e) {
    // the state is still reported, with placeholders for what the stack file does not say
    unreadable = ((e as Error).message.split("\n")[0] ?? "").slice(0, 120);
  }
  const { args: kube, setup } = stackKubectl(cluster);
  // Without the stack's cluster and context nothing is read: the current context may be another cluster.
  const query =
    kube === undefined
      ? () =>
          Promise.resolve(
            `unknown (Pulumi.${stackName}.yaml could not be read${unreadable !== "" ? `: ${unreadable}` : ""}; not read from your current kubectl context)`,
          )
      : (args: readonly string[], format: (v: string) => string) => kubectlQuery([...kube, ...args], format);
  const lines: string[] = [];
  const suspended: string[] = [];
  for (const job of cronJobs) {
    const state = await query(
      ["-n", namespace, "get", "cronjob", job, "-o", "jsonpath={.spec.suspend}"],
      (v) => (v === "true" ? "SUSPENDED" : "running"),
    );
    if (state === "SUSPENDED") suspended.push(job);
    lines.push(`  CronJob ${job}: ${state}`);
  }
  for (const d of Object.values(SERVICE_DEPLOYMENTS)) {
    lines.push(
      `  Deployment ${d}: ${await query(
        [
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
    kubectl:
      kube === undefined
        ? `kubectl --kubeconfig <the kubeconfig of ${stackName}> --context <its context>`
        : ["kubectl", ...kube.map(shellQuote)].join(" "),
    setup,
    lines,
    suspended,
  };
}

/**
 * The emergency steps after a failed rollback (docs/runbook.md, "When verification fails"), numbered, every kubectl
 * aimed at the stack's own cluster and context.
 */
export function emergencySteps(state: ClusterState, stackName: string): string[] {
  const { namespace, cronJobs, kubectl: k } = state;
  const steps = [
    ...state.setup,
    `${k} -n ${namespace} rollout undo ${Object.values(SERVICE_DEPLOYMENTS)
      .map((d) => `deployment/${d}`)
      .join(" ")}`,
    ...cronJobs.map(
      (j) =>
        `${k} -n ${namespace} patch cronjob ${j} --field-manager=${SUSPEND_FIELD_MANAGER} -p '{"spec":{"suspend":false}}'`,
    ),
    `npm run rollout -- history --stack ${stackName}, then rollback --to <version> once the cause is fixed`,
  ];
  return steps.map((step, i) => `  ${i + 1}. ${step}`);
}

/** Runs kubectl read-only, bounded; the formatted answer, or why it could not be read. */
async function kubectlQuery(args: readonly string[], format: (v: string) => string): Promise<string> {
  try {
    const { stdout } = await execFileAsync("kubectl", ["--request-timeout=15s", ...args], {
      timeout: 20_000,
      killSignal: "SIGKILL",
    });
    return format(stdout.trim());
  } catch (e) {
    return `unknown (${((e as Error).message.split("\n")[0] ?? "kubectl failed").slice(0, 120)})`;
  }
}
