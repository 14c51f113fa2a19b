/** nova-leadership-approval: a rollout needs an unexpired leadership approval for this stack and release. */
import { type PolicyConfigSchema } from "@pulumi/policy";
import { approvalFindings, DEFAULT_APPROVER_ROLES } from "../../src/evidence";
import { environmentsSchemaProperty, locationSchemaProperties } from "./common";
import { type GatedConfig, gatePolicy, gatedTypesSchemaProperty } from "./gate-support";
import { POLICY_NAMES } from "../../src/contract";

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

export const leadershipApproval = gatePolicy<LeadershipApprovalConfig>({
  name: POLICY_NAMES.leadershipApproval,
  description:
    "Requires an unexpired leadership approval on record for this stack and release, given by one of the configured roles; in production signed (SSH) by a roster member whose roster role is a leadership role, who is neither the deployer nor the preflight's runner, bound to both digests and the signed bundle.",
  enforcementLevel: "mandatory",
  configSchema,
  section: {
    check: "the approval check",
    restore: "restore policy/config/production.json",
    knobs: (cfg) => ({ approverRoles: cfg.approverRoles }),
    findings: (input, cfg) => approvalFindings(input, cfg.environments),
  },
});
