/**
 * nova-platform-production-target: a platform that marks its cluster production is judged only with the production
 * enforcement. The marker's `environment` comes from the platform's own config, so the pack's config cannot be
 * chosen to match a looser label: a production marker under any other pack config (the sandbox's advisory one, a
 * service-side group with no config, a typo) is a violation. Mandatory in every committed config.
 */
import { type PolicyConfigSchema } from "@pulumi/policy";
import { CLUSTER_MARKER } from "../../../src/contract";
import { platformPolicy, read, show, UNKNOWN_VALUE } from "./common";

export interface PlatformTargetConfig {
  /** Which committed enforcement this pack config is (platform-production.json says production). */
  readonly enforcement?: unknown;
}

const configSchema: PolicyConfigSchema = {
  properties: {
    enforcement: {
      type: "string",
      enum: ["production", "sandbox"],
      description: "Which committed enforcement this config file is; a production platform needs production.",
    },
  },
};

export const platformProductionTarget = platformPolicy<PlatformTargetConfig>({
  name: "nova-platform-production-target",
  description:
    "Requires a platform whose cluster marker says production to run with the committed production enforcement of the platform pack.",
  configSchema,
  types: ["kubernetes:core/v1:ConfigMap"],
  label: () => `Cluster marker ${CLUSTER_MARKER.namespace}/${CLUSTER_MARKER.name}`,
  problems: (args, cfg) => {
    if (
      read(args.props, "metadata", "namespace") !== CLUSTER_MARKER.namespace ||
      read(args.props, "metadata", "name") !== CLUSTER_MARKER.name
    ) {
      return [];
    }
    const env = read(args.props, "data", CLUSTER_MARKER.environmentKey);
    // An environment unknown during preview cannot be told apart from production: it counts as production.
    const production = env === "production" || env === UNKNOWN_VALUE;
    return production && cfg.enforcement !== "production"
      ? [
          `says ${env === UNKNOWN_VALUE ? "an environment unknown during preview" : "production"} but the platform pack runs with the ${show(cfg.enforcement)} enforcement; a production platform is judged only with platform/policy/config/platform-production.json`,
        ]
      : [];
  },
  fix: "run with --policy-pack platform/policy --policy-pack-config platform/policy/config/platform-production.json (or that file's content as the policy group's config).",
});
