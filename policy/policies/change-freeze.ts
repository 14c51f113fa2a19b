/**
 * nova-change-freeze: a production rollout (any stack aimed at a protected target, or an environment listed in the
 * config) needs an active freeze window on record covering now.
 */
import { type PolicyConfigSchema } from "@pulumi/policy";
import { freezeFindings } from "../../src/evidence";
import { environmentsSchemaProperty, locationSchemaProperties } from "./common";
import { type GatedConfig, gatePolicy, gatedTypesSchemaProperty } from "./gate-support";
import { POLICY_NAMES } from "../../src/contract";

export interface ChangeFreezeConfig extends GatedConfig {
  readonly environments: readonly string[];
}

const configSchema: PolicyConfigSchema = {
  properties: {
    environments: environmentsSchemaProperty(
      "Stack environments (nova-rollout:environment) that need a freeze window.",
    ),
    declarerRoles: {
      type: "array",
      items: { type: "string" },
      description:
        "Roster roles that may declare a production change freeze; a freeze declared by anyone else does not count (read from the committed production config).",
    },
    maxWindowDays: {
      type: "number",
      description:
        "The longest change-freeze window in days; a longer production window does not count (read from the committed production config).",
    },
    gatedTypes: gatedTypesSchemaProperty,
    ...locationSchemaProperties,
  },
};

export const changeFreeze = gatePolicy<ChangeFreezeConfig>({
  name: POLICY_NAMES.changeFreeze,
  description:
    "Requires a production rollout to run inside an active change-freeze window declared on record for the stack.",
  enforcementLevel: "mandatory",
  configSchema,
  section: {
    check: "the freeze check",
    restore: "restore policy/config/production.json",
    findings: (input, cfg) => freezeFindings(input, cfg.environments),
  },
});
