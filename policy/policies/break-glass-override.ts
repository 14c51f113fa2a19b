/**
 * nova-break-glass-override: reports every break-glass override on record so it shows in the preview output. The
 * waiving itself happens in the verifier (only named checks, only while valid); this policy is advisory.
 */
import { type PolicyConfigSchema } from "@pulumi/policy";
import { describeOverrides } from "../../src/evidence";
import { fix, type LocationConfig, locationSchemaProperties, policyRuntime } from "./common";
import { gatePolicy } from "./gate-support";
import { POLICY_NAMES, RELEASE_NAMESPACE_TYPES } from "../../src/contract";

export interface BreakGlassConfig extends LocationConfig {
  readonly reportOn: readonly string[];
}

const configSchema: PolicyConfigSchema = {
  properties: {
    reportOn: {
      type: "array",
      items: { type: "string" },
      default: [...RELEASE_NAMESPACE_TYPES],
      description: "Resource types on which overrides are reported (one report per rollout by default).",
    },
    maxLifetimeHours: {
      type: "number",
      description:
        "The longest a break-glass override may be valid (createdAt to expiresAt), in hours; production uses the committed value.",
    },
    ...locationSchemaProperties,
  },
};

export const breakGlassOverride = gatePolicy<BreakGlassConfig>({
  name: POLICY_NAMES.breakGlassOverride,
  description:
    "Reports every break-glass override on record for the stack, whether it waives checks now or has lapsed, so hotfix rollouts are visible in the preview.",
  enforcementLevel: "advisory",
  configSchema,
  report: {
    types: (cfg) => cfg.reportOn,
    lines: (ctx, records) => {
      if (records.overrides.length === 0) return [];
      const release = ctx.settings.ok ? ctx.settings.settings.release : "(unknown release)";
      return describeOverrides(records.overrides, { stack: ctx.stack, release }, policyRuntime().now()).map(
        (line) =>
          `${line}${fix(`remove the record under ${ctx.evidenceDir}/${ctx.stack}/records once the hotfix is out`)}`,
      );
    },
  },
});
