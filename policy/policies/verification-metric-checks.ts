/**
 * nova-verification-metric-checks (resource policy on the gated types, before anything changes): a production stack
 * declares the metric checks of its post-deploy verification (`nova-rollout:metricChecks`: error ratio, latency,
 * billing), so a release is judged on what users see and not only on health endpoints. Production follows the
 * target (`workloadScope`); other environments are judged where `environments` lists them.
 */
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import { POLICY_NAMES } from "../../src/contract";
import { environmentsSchemaProperty, fix, locationSchemaProperties, reportOnce } from "./common";
import { type GatedConfig, gatedContext, gatedTypesSchemaProperty } from "./gate-support";
import { workloadScope } from "./workload-safety";

export interface VerificationMetricChecksConfig extends GatedConfig {
  readonly environments: readonly string[];
  /** Names of the metric checks a judged stack must declare; empty: at least one, whatever its name. */
  readonly requiredChecks: readonly string[];
}

const configSchema: PolicyConfigSchema = {
  properties: {
    environments: environmentsSchemaProperty(
      "Stack environments (nova-rollout:environment) that must declare metric checks; stacks aimed at a protected target always count as production.",
    ),
    requiredChecks: {
      type: "array",
      items: { type: "string" },
      default: [],
      description:
        "Names of the metric checks (nova-rollout:metricChecks entries) a judged stack must declare; empty: at least one.",
    },
    gatedTypes: gatedTypesSchemaProperty,
    ...locationSchemaProperties,
  },
};

const HOW = `add them to the stack's nova-rollout:metricChecks (PromQL with a condition; see docs/runbook.md, "Verification and operations") and nova-rollout:prometheusUrl`;

export const verificationMetricChecks: ResourceValidationPolicy = {
  name: POLICY_NAMES.verificationMetricChecks,
  description:
    "Requires a production stack to declare the metric checks of its post-deploy verification (error ratio, latency and billing), so a release is judged on its metrics before it is kept.",
  enforcementLevel: "mandatory",
  configSchema,
  validateResource: (args, reportViolation) => {
    const gated = gatedContext<VerificationMetricChecksConfig>(
      args,
      configSchema,
      reportViolation,
      "the metric checks policy",
    );
    if (gated === undefined) return;
    const { cfg, ctx } = gated;
    const settings = ctx.settings.ok ? ctx.settings.settings : undefined;
    const scope = workloadScope(ctx, cfg.environments, settings?.namespace);
    if (!scope.applies) return;
    const lines: string[] = [];
    if (settings === undefined) {
      lines.push(
        `Cannot read the metric checks of stack ${ctx.stack} (${scope.label}); the metric checks policy fails closed.${fix("make the stack config readable (rollout preflight names its problems)")}`,
      );
    } else {
      const declared = settings.metricChecks ?? [];
      if (declared.length === 0) {
        lines.push(
          `Stack ${ctx.stack} (${scope.label}) declares no post-deploy metric checks; threshold: ${cfg.requiredChecks.length > 0 ? cfg.requiredChecks.join(", ") : "at least one"}.${fix(HOW)}`,
        );
      } else {
        const missing = cfg.requiredChecks.filter((name) => !declared.includes(name));
        if (missing.length > 0) {
          lines.push(
            `Stack ${ctx.stack} (${scope.label}) declares the metric checks [${declared.join(", ")}] but not ${missing.join(", ")}; threshold: ${cfg.requiredChecks.join(", ")}.${fix(HOW)}`,
          );
        }
      }
    }
    reportOnce(POLICY_NAMES.verificationMetricChecks, ctx.stack, args.urn, lines, reportViolation);
  },
};
