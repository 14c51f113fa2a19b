/**
 * nova-rollout-ordering (stack policy, after the fact): the database dump exists and every chart Deployment depends on
 * it (directly, transitively, or through a parent); a pause command exists for each configured CronJob; the
 * post-deploy verification commands exist.
 */
import { type PolicyConfigSchema, type PolicyResource, type StackValidationPolicy } from "@pulumi/policy";
import { CHILD_SUFFIXES, PAUSE_INFIX, POLICY_NAMES } from "../../src/contract";
import { REQUIRED_VERIFICATION_SUFFIXES } from "../../src/verify/checks";
import { fix, type LocationConfig, locationSchemaProperties, readConfig, stackContext } from "./common";

export interface RolloutOrderingConfig extends LocationConfig {
  /** CronJobs that must be paused; empty means the stack's `pausedCronJobs`. */
  readonly pausedCronJobs: readonly string[];
  /** Name suffixes of the required verification commands. */
  readonly verificationSuffixes: readonly string[];
}

const configSchema: PolicyConfigSchema = {
  properties: {
    pausedCronJobs: {
      type: "array",
      items: { type: "string" },
      default: [],
      description:
        "CronJobs that must have a pause command; empty means the stack's nova-rollout:pausedCronJobs.",
    },
    verificationSuffixes: {
      type: "array",
      items: { type: "string" },
      default: [...REQUIRED_VERIFICATION_SUFFIXES],
      description: "Name suffixes of the verification commands that must exist.",
    },
    ...locationSchemaProperties,
  },
};

const COMMAND = "command:local:Command";

/** Whether `r` depends on `target` through dependencies, property dependencies or parents (transitively). */
export function dependsOn(r: PolicyResource, targetUrn: string): boolean {
  const seen = new Set<string>();
  const stack: PolicyResource[] = [r];
  while (stack.length > 0) {
    const cur = stack.pop();
    if (cur === undefined || seen.has(cur.urn)) {
      continue;
    }
    seen.add(cur.urn);
    const next = [...cur.dependencies, ...Object.values(cur.propertyDependencies).flat()];
    if (cur.parent !== undefined) {
      next.push(cur.parent);
    }
    for (const n of next) {
      if (n.urn === targetUrn) {
        return true;
      }
      stack.push(n);
    }
  }
  return false;
}

export const rolloutOrdering: StackValidationPolicy = {
  name: POLICY_NAMES.rolloutOrdering,
  description:
    "Checks after the update that the database dump ran before the chart's Deployments, that every configured CronJob has a pause command and that the post-deploy verification commands exist.",
  enforcementLevel: "mandatory",
  configSchema,
  validateStack: (args, reportViolation) => {
    const cfg = readConfig<RolloutOrderingConfig>(args, configSchema);
    const first = args.resources[0];
    if (first === undefined) {
      return;
    }
    const ctx = stackContext(first.urn, cfg);
    const commands = args.resources.filter((r) => r.type === COMMAND);
    const names = commands.map((c) => c.name);
    const dump = commands.find((c) => c.name.endsWith(CHILD_SUFFIXES.dump));
    const deployments = args.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment");
    const codeFix = fix(
      "register it in index.ts (DatabaseSafeguards / ScheduledJobs / PostDeployVerification) and re-run pulumi up",
    );
    if (dump === undefined) {
      reportViolation(
        `No database dump command (${COMMAND} named *${CHILD_SUFFIXES.dump}) in the stack; found commands [${names.join(", ")}].${codeFix}`,
      );
    } else {
      for (const d of deployments) {
        if (!dependsOn(d, dump.urn)) {
          reportViolation(
            `Deployment ${d.name} does not depend on ${dump.name}, so it may roll out before the database dump; threshold: dependsOn the dump (directly or via its parent).${fix("pass dependsOn: [safeguards] to NovaRelease in index.ts")}`,
            d.urn,
          );
        }
      }
    }
    const jobs =
      cfg.pausedCronJobs.length > 0
        ? cfg.pausedCronJobs
        : ctx?.settings.ok
          ? ctx.settings.settings.pausedCronJobs
          : [];
    for (const job of jobs) {
      if (!names.some((n) => n.endsWith(`${PAUSE_INFIX}${job}`))) {
        reportViolation(
          `No pause command for CronJob ${job} (expected a ${COMMAND} named *${PAUSE_INFIX}${job}); found [${names.join(", ")}].${codeFix}`,
        );
      }
    }
    for (const suffix of cfg.verificationSuffixes) {
      if (!names.some((n) => n.endsWith(suffix))) {
        reportViolation(`No verification command *${suffix}; found [${names.join(", ")}].${codeFix}`);
      }
    }
  },
};
