/** nova-change-freeze: a production rollout needs an active freeze window on record covering now. */
import * as path from "node:path";
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import { activeFreezes, recordsDir } from "../../src/evidence";
import {
  environmentOf,
  fix,
  gatedTypesSchemaProperty,
  type LocationConfig,
  locationSchemaProperties,
  policyRuntime,
  readConfig,
} from "./common";
import { recordsFor } from "./records-policy";

export interface ChangeFreezeConfig extends LocationConfig {
  readonly environments: readonly string[];
  readonly gatedTypes: readonly string[];
}

const configSchema: PolicyConfigSchema = {
  properties: {
    environments: {
      type: "array",
      items: { type: "string" },
      default: ["production"],
      description: "Stack environments (nova-rollout:environment) that need a freeze window.",
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
    const cfg = readConfig<ChangeFreezeConfig>(args, configSchema);
    if (!cfg.gatedTypes.includes(args.type)) {
      return;
    }
    const found = recordsFor(args.urn, cfg);
    if (found === undefined) {
      reportViolation(`Cannot read the stack name from URN ${args.urn}; the freeze check fails closed.`);
      return;
    }
    const { ctx, records } = found;
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
