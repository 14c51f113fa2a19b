/** nova-leadership-approval: a rollout needs an unexpired leadership approval for this stack and release. */
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import { approvalFindings, DEFAULT_APPROVER_ROLES } from "../../src/evidence";
import { environmentsSchemaProperty, fix, gateInputOf, locationSchemaProperties, reportOnce } from "./common";
import { type GatedConfig, gatedContext, gatedTypesSchemaProperty } from "./gate-support";

export interface LeadershipApprovalConfig extends GatedConfig {
  readonly environments: readonly string[];
  readonly approverRoles: readonly string[];
}

const configSchema: PolicyConfigSchema = {
  properties: {
    environments: environmentsSchemaProperty(
      "Stack environments (nova-rollout:environment) that need leadership approval.",
    ),
    approverRoles: {
      type: "array",
      items: { type: "string" },
      default: [...DEFAULT_APPROVER_ROLES],
      description:
        "Roles whose approval authorises a non-production rollout; production always uses the committed roles.",
    },
    gatedTypes: gatedTypesSchemaProperty,
    ...locationSchemaProperties,
  },
};

export const leadershipApproval: ResourceValidationPolicy = {
  name: "nova-leadership-approval",
  description:
    "Requires an unexpired leadership approval on record for this stack and release, given by one of the configured roles; in production signed (SSH) by a roster member whose roster role is a leadership role, who is neither the deployer nor the preflight's runner, bound to both digests and the signed bundle.",
  enforcementLevel: "mandatory",
  configSchema,
  validateResource: (args, reportViolation) => {
    const gated = gatedContext<LeadershipApprovalConfig>(
      args,
      configSchema,
      reportViolation,
      "the approval check",
    );
    if (gated === undefined) {
      return;
    }
    const { cfg, ctx } = gated;
    const gate = gateInputOf(ctx);
    const lines =
      gate.input === undefined
        ? [
            `${gate.enforcementError}; the approval check fails closed.${fix("restore policy/config/production.json")}`,
          ]
        : approvalFindings({ ...gate.input, approverRoles: cfg.approverRoles }, cfg.environments).map(
            (f) => `${f.message}${fix(f.remedy)}`,
          );
    reportOnce("nova-leadership-approval", ctx.stack, args.urn, lines, reportViolation);
  },
};
