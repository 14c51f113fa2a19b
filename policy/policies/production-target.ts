/**
 * nova-production-target: production follows the target. A stack aimed at a protected cluster, project or namespace
 * (listed in the committed `policy/config/production.json`) is production whatever its name or `environment` value,
 * and keeps the production baseline: allowed registries, required secrets, paused CronJobs and the evidence
 * directory. This policy's config entry in production.json is that list; the program guard reads the same entry.
 */
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import { baselineFindings } from "../../src/evidence";
import { fix, gateInputOf, locationSchemaProperties, reportOnce } from "./common";
import { type GatedConfig, gatedContext, gatedTypesSchemaProperty } from "./gate-support";
import { POLICY_NAMES } from "../../src/contract";

interface ProductionTargetConfig extends GatedConfig {
  readonly enforcement?: string;
}

const list = (description: string) => ({
  type: "array" as const,
  items: { type: "string" as const },
  description,
});

const configSchema: PolicyConfigSchema = {
  properties: {
    protectedTargets: {
      type: "object",
      description:
        "Targets that make a stack production: gcpProjects, gkeClusters, kubeServers, kubeContexts, namespaces.",
      properties: {
        gcpProjects: list("GCP projects whose GKE clusters are production."),
        gkeClusters: list("GKE cluster names that are production."),
        kubeServers: list("Kubernetes API server URLs that are production."),
        kubeContexts: list("Kubeconfig context names that are production."),
        namespaces: list("Namespaces only production releases may use."),
      },
      additionalProperties: false,
    },
    enforcement: {
      type: "string",
      enum: ["production", "staging", "local"],
      description: "Which committed enforcement this config file is; a production stack needs production.",
    },
    allowedRegistries: list("Registries production images may come from."),
    requiredSecrets: list("Application secrets a production stack must require."),
    pausedCronJobs: list("CronJobs a production stack must pause during the apply."),
    evidenceDir: {
      type: "string",
      description: "Evidence directory of production stacks, relative to the project.",
    },
    gatedTypes: gatedTypesSchemaProperty,
    projectDir: locationSchemaProperties.projectDir,
  },
};

export const productionTarget: ResourceValidationPolicy = {
  name: POLICY_NAMES.productionTarget,
  description:
    "Treats any stack aimed at a protected production target as production, and requires production stacks to keep the committed baseline: allowed registries, required secrets, paused CronJobs and the evidence directory.",
  enforcementLevel: "mandatory",
  configSchema,
  validateResource: (args, reportViolation) => {
    const gated = gatedContext<ProductionTargetConfig>(
      args,
      configSchema,
      reportViolation,
      "the production target check",
    );
    if (gated === undefined) {
      return;
    }
    const { cfg, ctx } = gated;
    const gate = gateInputOf(ctx);
    let lines: string[];
    if (gate.input === undefined) {
      lines = [
        `${gate.enforcementError}; the production target check fails closed.${fix("restore policy/config/production.json")}`,
      ];
    } else if (!ctx.settings.ok) {
      lines = [];
    } else {
      const { stackClass } = gate.input;
      lines = [];
      if (stackClass.production && cfg.enforcement !== "production") {
        const why =
          stackClass.protectedTargets.length > 0
            ? `targets ${stackClass.protectedTargets.join(", ")}`
            : "declares environment production";
        lines.push(
          `Stack ${ctx.stack} is production (it ${why}) but the policy pack runs with the ${cfg.enforcement ?? "unnamed"} enforcement; production is judged only with the committed production enforcement.${fix(`npm run rollout -- preview --stack ${ctx.stack} (or --policy-pack-config policy/config/production.json)`)}`,
        );
      }
      lines.push(
        ...baselineFindings(
          ctx.settings.settings,
          gate.input.enforcement.baseline,
          gate.input.stackClass,
        ).map((f) => `Production baseline [${f.checkId}]: ${f.message}${fix(f.remedy)}`),
      );
    }
    reportOnce(POLICY_NAMES.productionTarget, ctx.stack, args.urn, lines, reportViolation);
  },
};
