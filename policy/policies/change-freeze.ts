/** nova-change-freeze: a production rollout needs an active freeze window on record covering now. */
import * as path from "node:path";
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import { activeFreezes, readRecords, recordsDir } from "../../src/evidence";
import {
  environmentOf,
  environmentsSchemaProperty,
  fix,
  locationSchemaProperties,
  policyRuntime,
} from "./common";
import { type GatedConfig, gatedContext, gatedTypesSchemaProperty } from "./gate-support";

export interface ChangeFreezeConfig extends GatedConfig {
  readonly environments: readonly string[];
}

const configSchema: PolicyConfigSchema = {
  properties: {
    environments: environmentsSchemaProperty(
      "Stack environments (nova-rollout:environment) that need a freeze window.",
    ),
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
    const records = readRecords(ctx.evidenceDir, ctx.stack);
    const env = environmentOf(ctx.settings);
    if (!cfg.environments.includes(env)) {
      return;
    }
    const dir = path.relative(ctx.projectDir ?? process.cwd(), recordsDir(ctx.evidenceDir, ctx.stack));
    for (const bad of records.invalid) {
      reportViolation(
        `Record ${bad.path} is unreadable or invalid (${bad.error}); records fail closed.${fix(`fix or delete it, then re-record with npm run rollout -- freeze --stack ${ctx.stack}`)}`,
      );
    }
    const now = policyRuntime().now();
    if (activeFreezes(records.freezes, ctx.stack, now).length === 0) {
      const latest = [...records.freezes].sort((a, b) => Date.parse(b.end) - Date.parse(a.end))[0];
      const seen =
        latest === undefined ? "no freeze record" : `latest window ${latest.start} – ${latest.end}`;
      reportViolation(
        `No active change-freeze window for ${env} stack ${ctx.stack} at ${now.toISOString()} (found: ${seen} in ${dir}); threshold: a window with start <= now < end.${fix(`npm run rollout -- freeze --stack ${ctx.stack} --start <ISO> --end <ISO> --reason "<why>" --declared-by <you>`)}`,
      );
    }
  },
};
