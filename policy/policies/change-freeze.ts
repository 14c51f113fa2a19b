/**
 * nova-change-freeze: a production rollout (any stack aimed at a protected target, or an environment listed in the
 * config) needs an active freeze window on record covering now.
 */
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import { freezeFindings } from "../../src/evidence";
import { environmentsSchemaProperty, fix, gateInputOf, locationSchemaProperties, reportOnce } from "./common";
import { type GatedConfig, gatedContext, gatedTypesSchemaProperty } from "./gate-support";

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

export const changeFreeze: ResourceValidationPolicy = {
  name: "nova-change-freeze",
  description:
    "Requires a production rollout to run inside an active change-freeze window declared on record for the stack.",
  enforcementLevel: "mandatory",
  configSchema,
  validateResource: (args, reportViolation) => {
    const gated = gatedContext<ChangeFreezeConfig>(args, configSchema, reportViolation, "the freeze check");
    if (gated === undefined) {
      return;
    }
    const { cfg, ctx } = gated;
    const gate = gateInputOf(ctx);
    const lines =
      gate.input === undefined
        ? [
            `${gate.enforcementError}; the freeze check fails closed.${fix("restore policy/config/production.json")}`,
          ]
        : freezeFindings(gate.input, cfg.environments).map((f) => `${f.message}${fix(f.remedy)}`);
    reportOnce("nova-change-freeze", ctx.stack, args.urn, lines, reportViolation);
  },
};
