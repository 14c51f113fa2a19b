/** nova-leadership-approval: a rollout needs an unexpired leadership approval for this stack and release. */
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import { readRecords, validApprovals } from "../../src/evidence";
import {
  environmentOf,
  environmentsSchemaProperty,
  fix,
  locationSchemaProperties,
  policyRuntime,
} from "./common";
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
      default: ["vp-engineering", "cto", "head-of-platform"],
      description: "Roles whose approval authorises a rollout.",
    },
    gatedTypes: gatedTypesSchemaProperty,
    ...locationSchemaProperties,
  },
};

export const leadershipApproval: ResourceValidationPolicy = {
  name: "nova-leadership-approval",
  description:
    "Requires an unexpired leadership approval on record for this stack and release, given by one of the configured roles.",
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
    const records = readRecords(ctx.evidenceDir, ctx.stack);
    if (!cfg.environments.includes(environmentOf(ctx.settings))) {
      return;
    }
    if (!ctx.settings.ok) {
      reportViolation(
        `Cannot determine the release of stack ${ctx.stack} (${ctx.settings.problems.join("; ")}); approvals are per release.${fix(`pulumi config set nova-rollout:imageTag <tag> --stack ${ctx.stack}`)}`,
      );
      return;
    }
    const release = ctx.settings.settings.release;
    const now = policyRuntime().now();
    if (validApprovals(records.approvals, ctx.stack, release, now, cfg.approverRoles).length === 0) {
      const forRelease = records.approvals.filter((a) => a.release === release);
      const seen =
        forRelease.length === 0
          ? `no approval for release ${release}`
          : forRelease.map((a) => `${a.approvedBy} (${a.role}) expires ${a.expiresAt}`).join(", ");
      reportViolation(
        `No valid leadership approval for stack ${ctx.stack} release ${release} at ${now.toISOString()} (found: ${seen}); threshold: unexpired, role in [${cfg.approverRoles.join(", ")}].${fix(`npm run rollout -- approve --stack ${ctx.stack} --release ${release} --approved-by <name> --role <role> --expires-in-hours 24`)}`,
      );
    }
  },
};
