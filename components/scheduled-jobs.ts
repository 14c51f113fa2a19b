import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { forwardDependsOn, shellQuote } from "./naming";

export interface ScheduledJobsArgs {
  /** Namespace of the CronJobs. */
  readonly namespace: string;
  /** CronJob names to suspend for the rollout, e.g. `nova-billing-drill`. */
  readonly cronJobs: readonly string[];
  /** Kubeconfig contents (a Pulumi secret); written to a private temporary file only while kubectl runs. */
  readonly kubeconfig: pulumi.Input<string>;
  /** Context inside the kubeconfig; the current context when omitted. */
  readonly context?: string;
  /** Values that identify the release; the pause and resume run again when any changes. */
  readonly releaseKey: readonly string[];
}

/** The kubectl script that suspends (`true`) or resumes (`false`) one CronJob; a missing CronJob is reported, not an error. */
export function suspendScript(
  namespace: string,
  cronJob: string,
  suspend: boolean,
  context?: string,
): string {
  const ctx = context !== undefined ? ` --context ${shellQuote(context)}` : "";
  const job = shellQuote(cronJob);
  const patch = shellQuote(JSON.stringify({ spec: { suspend } }));
  const verb = suspend ? "paused" : "resumed";
  return [
    "set -eu",
    'kc="$(mktemp)"',
    "trap 'rm -f \"$kc\"' EXIT",
    'printf "%s" "$NOVA_KUBECONFIG" > "$kc"',
    `k() { kubectl --kubeconfig "$kc"${ctx} --namespace ${shellQuote(namespace)} "$@"; }`,
    // --ignore-not-found: a CronJob that does not exist yet (first install) has nothing to pause; any other error
    // (unreachable cluster, no permission) fails the step.
    `if [ -n "$(k get cronjob ${job} --ignore-not-found -o name)" ]; then`,
    `  k patch cronjob ${job} --type=merge -p ${patch} >/dev/null`,
    `  echo "cronjob/${cronJob.replace(/"/g, "")} ${verb}"`,
    "else",
    `  echo "cronjob/${cronJob.replace(/"/g, "")} not found in ${namespace.replace(/"/g, "")}: nothing to do"`,
    "fi",
  ].join("\n");
}

/**
 * Scheduled jobs that could touch production are suspended before the chart changes and resumed only after
 * post-deploy verification passed (see {@link ScheduledJobs.resumeAfter}). If verification fails, they stay
 * suspended: a person decides.
 */
export class ScheduledJobs extends pulumi.ComponentResource {
  /** The pause commands; the chart depends on them. */
  public readonly pauses: command.local.Command[];
  /** The resume commands, once {@link resumeAfter} was called. */
  public readonly resumes: command.local.Command[] = [];
  private readonly resourceName: string;
  private readonly args: ScheduledJobsArgs;

  constructor(name: string, args: ScheduledJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:jobs:ScheduledJobs", name, {}, opts);
    this.resourceName = name;
    this.args = args;
    const seen = new Set<string>();
    const dupes = args.cronJobs.filter((j) => (seen.has(j) ? true : (seen.add(j), false)));
    if (dupes.length > 0) {
      throw new pulumi.InputPropertiesError({
        message: "ScheduledJobs: duplicate CronJob names",
        errors: dupes.map((j) => ({ propertyPath: "cronJobs", reason: `"${j}" is listed twice` })),
      });
    }
    this.pauses = args.cronJobs.map(
      (job) =>
        new command.local.Command(
          `${name}-pause-${job}`,
          {
            create: suspendScript(args.namespace, job, true, args.context),
            environment: { NOVA_KUBECONFIG: pulumi.secret(args.kubeconfig) },
            triggers: [...args.releaseKey],
          },
          { parent: this, ...forwardDependsOn(opts) },
        ),
    );
    this.registerOutputs({ paused: args.cronJobs });
  }

  /** Resumes every paused CronJob after `verification` (and everything it depends on) succeeded. */
  public resumeAfter(verification: pulumi.Resource | pulumi.Resource[]): command.local.Command[] {
    if (this.resumes.length > 0) throw new Error("ScheduledJobs.resumeAfter may be called once");
    const { args } = this;
    for (const [i, job] of args.cronJobs.entries()) {
      const pause = this.pauses[i] as command.local.Command;
      this.resumes.push(
        new command.local.Command(
          `${this.resourceName}-resume-${job}`,
          {
            create: suspendScript(args.namespace, job, false, args.context),
            environment: { NOVA_KUBECONFIG: pulumi.secret(args.kubeconfig) },
            triggers: [...args.releaseKey],
          },
          { parent: this, dependsOn: [pause, ...([] as pulumi.Resource[]).concat(verification)] },
        ),
      );
    }
    return this.resumes;
  }
}
