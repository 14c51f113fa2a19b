/**
 * nova-platform-protected: what outlives releases is `protect`ed, so no `pulumi destroy` or refactoring deletes it:
 * the cluster and node pools, the registries, the dump bucket, the secrets, the service accounts, the API address and
 * certificate, and on the cluster the marker, the release namespace and its service account. The resource option is
 * what the engine sends the pack (`args.opts.protect`); the platform sets it from `nova-platform:protect`.
 */
import { type PolicyConfigSchema } from "@pulumi/policy";
import { platformPolicy } from "./common";

/** The platform's stateful resource types: each must be protected. */
export const STATEFUL_TYPES: readonly string[] = [
  "gcp:container/cluster:Cluster",
  "gcp:container/nodePool:NodePool",
  "gcp:artifactregistry/repository:Repository",
  "gcp:storage/bucket:Bucket",
  "gcp:secretmanager/secret:Secret",
  "gcp:serviceaccount/account:Account",
  "gcp:compute/globalAddress:GlobalAddress",
  "gcp:compute/managedSslCertificate:ManagedSslCertificate",
  "kubernetes:core/v1:ConfigMap",
  "kubernetes:core/v1:Namespace",
  "kubernetes:core/v1:ServiceAccount",
];

export interface ProtectedConfig {
  readonly statefulTypes: readonly string[];
}

const configSchema: PolicyConfigSchema = {
  properties: {
    statefulTypes: {
      type: "array",
      items: { type: "string" },
      default: [...STATEFUL_TYPES],
      description: "Resource types that must carry the protect option.",
    },
  },
};

export const platformProtected = platformPolicy<ProtectedConfig>({
  name: "nova-platform-protected",
  description:
    "Requires every stateful platform resource (cluster, node pools, registries, bucket, secrets, service accounts, API address and certificate, cluster marker, release namespace and its service account) to be protected.",
  configSchema,
  // Every type is looked at; the configured list decides (the schema default lists STATEFUL_TYPES).
  types: () => true,
  label: (args) => `${args.type} ${args.name}`,
  problems: (args, cfg) =>
    cfg.statefulTypes.includes(args.type) && args.opts.protect !== true
      ? ["is not protected; a platform resource must survive a destroy of the stack"]
      : [],
  fix: "set nova-platform:protect to true (pulumi config set nova-platform:protect true in platform/; production always is) and re-run pulumi up.",
});
