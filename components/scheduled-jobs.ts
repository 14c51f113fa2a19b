import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { pauseCommandName, resumeCommandName, SUSPEND_FIELD_MANAGER } from "../src/contract";
import { shellQuote } from "../src/util/shell";
import { boundedRunner, DEFAULT_KUBECTL_TIMEOUT_SECONDS, timeoutSeconds } from "../src/util/timeout";
import { forwardDependsOn } from "./depends-on";

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
  /**
   * Bound of each kubectl call, in seconds (`timeout` from coreutils and kubectl's `--request-timeout`): a cluster
   * that does not answer fails the step instead of holding the stack's lock. Default
   * {@link DEFAULT_KUBECTL_TIMEOUT_SECONDS}; a whole number ≥ 1.
   */
  readonly timeoutSeconds?: number;
}

/**
 * The kubectl script that suspends (`true`) or resumes (`false`) one CronJob, as field manager
 * {@link SUSPEND_FIELD_MANAGER} (so the chart's own apply never takes the pause back); a missing CronJob is reported, not an
 * error. Each kubectl call is bounded by `timeoutSecs` (default {@link DEFAULT_KUBECTL_TIMEOUT_SECONDS}).
 */
export function suspendScript(
  namespace: string,
  cronJob: string,
  suspend: boolean,
  context?: string,
  timeoutSecs: number = DEFAULT_KUBECTL_TIMEOUT_SECONDS,
): string {
  const ctx = context !== undefined ? ` --context ${shellQuote(context)}` : "";
  const bound = timeoutSeconds(timeoutSecs);
  const job = shellQuote(cronJob);
  const patch = shellQuote(JSON.stringify({ spec: { suspend } }));
  const verb = suspend ? "paused" : "resumed";
  return [
    "set -eu",
    'kc="$(mktemp)"',
    "trap 'rm -f \"$kc\"' EXIT",
    'printf "%s" "$NOVA_KUBECONFIG" > "$kc"',
    boundedRunner(),
    `k() { bounded ${bound} kubectl --request-timeout=${bound}s --kubeconfig "$kc"${ctx} --namespace ${shellQuote(namespace)} "$@"; }`,
    // --ignore-not-found: a CronJob that does not exist yet (first install) has nothing to pause; any other error
    // (unreachable cluster, no permission) fails the step.
    // A separate assignment, so a failing kubectl (unreachable cluster, denied) fails the step instead of reading
    // as "not found".
    `found="$(k get cronjob ${job} --ignore-not-found -o name)"`,
    'if [ -n "$found" ]; then',
    `  k patch cronjob ${job} --type=merge --field-manager=${SUSPEND_FIELD_MANAGER} -p ${patch} >/dev/null`,
    `  echo "cronjob/${cronJob.replace(/"/g, "")} ${verb}"`,
    "else",
    `  echo "cronjob/${cronJob.replace(/"/g, "")} not found in ${namespace.replace(/"/g, "")}: nothing to do"`,
    "fi",
  ].join("\n");
}

/**
 * Scheduled jobs that could touch production are suspended before the chart changes; {@link ResumeScheduledJobs}
 * resumes them only after post-deploy verification passed. If verification fails, they stay suspended until a
 * rollback's own update (which pauses and resumes again) or a person resumes them.
 */
export class ScheduledJobs extends pulumi.ComponentResource {
  /** The pause commands, one per CronJob in `cronJobs` order; the chart depends on them. */
  public readonly pauses: command.local.Command[];

  constructor(name: string, args: ScheduledJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:jobs:ScheduledJobs", name, {}, opts);
    const errors = listedTwice("cronJobs", args.cronJobs);
    const dupes = errors.length > 0;
    if (
      args.timeoutSeconds !== undefined &&
      (!Number.isInteger(args.timeoutSeconds) || args.timeoutSeconds < 1)
    ) {
      errors.push({
        propertyPath: "timeoutSeconds",
        reason: `expected a whole number of seconds ≥ 1 (got ${args.timeoutSeconds})`,
      });
    }
    if (errors.length > 0) {
      throw new pulumi.InputPropertiesError({
        message: dupes ? "ScheduledJobs: duplicate CronJob names" : "ScheduledJobs: invalid arguments",
        errors,
      });
    }
    this.pauses = args.cronJobs.map(
      (job) =>
        new command.local.Command(
          pauseCommandName(name, job),
          {
            create: suspendScript(args.namespace, job, true, args.context, args.timeoutSeconds),
            environment: { NOVA_KUBECONFIG: pulumi.secret(args.kubeconfig) },
            triggers: [...args.releaseKey],
          },
          { parent: this, ...forwardDependsOn(opts) },
        ),
    );
    this.registerOutputs({ paused: args.cronJobs });
  }
}

export interface ResumeScheduledJobsArgs extends ScheduledJobsArgs {
  /**
   * The pause commands of the same CronJobs ({@link ScheduledJobs.pauses}); each resume runs after its pause, and
   * again whenever its pause ran again (a new pause has a new id): whatever paused a CronJob — this release, or an
   * interrupted or abandoned one — the next verified update resumes it.
   */
  readonly pauses: readonly pulumi.CustomResource[];
}

/**
 * Resumes the CronJobs {@link ScheduledJobs} paused. Create it with `dependsOn` on the post-deploy verification, so a
 * failed verification leaves them suspended. Children are named `${name}-resume-<job>`.
 */
export class ResumeScheduledJobs extends pulumi.ComponentResource {
  /** The resume commands, one per CronJob. */
  public readonly resumes: command.local.Command[];

  constructor(name: string, args: ResumeScheduledJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:jobs:ResumeScheduledJobs", name, {}, opts);
    if (args.pauses.length !== args.cronJobs.length) {
      throw new pulumi.InputPropertiesError({
        message: "ResumeScheduledJobs: one pause per CronJob",
        errors: [
          {
            propertyPath: "pauses",
            reason: `${args.pauses.length} pauses for ${args.cronJobs.length} CronJobs`,
          },
        ],
      });
    }
    this.resumes = resumeCommands(this, opts, args.releaseKey, args.pauses, (i) => {
      const job = args.cronJobs[i] as string;
      return {
        name: resumeCommandName(name, job),
        create: suspendScript(args.namespace, job, false, args.context, args.timeoutSeconds),
        environment: { NOVA_KUBECONFIG: pulumi.secret(args.kubeconfig) },
      };
    });
    this.registerOutputs({ resumed: args.cronJobs });
  }
}

/**
 * One resume command per pause, a child of `parent`: each runs after its own pause and after what `opts` names (the
 * post-deploy verification), and again whenever its pause ran again (a new pause has a new id), so whatever paused —
 * this release, or an interrupted or abandoned one — the next verified update resumes.
 */
export function resumeCommands(
  parent: pulumi.Resource,
  opts: pulumi.ComponentResourceOptions | undefined,
  releaseKey: readonly string[],
  pauses: readonly pulumi.CustomResource[],
  command_: (i: number) => {
    name: string;
    create: string;
    environment?: Record<string, pulumi.Input<string>>;
  },
): command.local.Command[] {
  return pauses.map((pause, i) => {
    const { name, ...inputs } = command_(i);
    return new command.local.Command(
      name,
      { ...inputs, triggers: [...releaseKey, pause.id] },
      { parent, ...forwardDependsOn(opts, pause) },
    );
  });
}

/** An input error for each entry of `list` that appears again after its first place. Pure. */
export function listedTwice(
  propertyPath: string,
  list: readonly string[],
): { propertyPath: string; reason: string }[] {
  const seen = new Set<string>();
  return list
    .filter((v) => (seen.has(v) ? true : (seen.add(v), false)))
    .map((v) => ({ propertyPath, reason: `"${v}" is listed twice` }));
}
