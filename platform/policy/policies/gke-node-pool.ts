/**
 * nova-platform-gke-node-pool: the node pools run pods behind the Workload Identity metadata server (`GKE_METADATA`:
 * a pod never sees the node's credentials), on shielded instances (secure boot, integrity monitoring), with the legacy
 * metadata endpoints off, as their own service account (never the Compute default) and with auto-repair and
 * auto-upgrade on.
 */
import { type ResourceValidationArgs } from "@pulumi/policy";
import { platformPolicy, read, show } from "./common";

export const GKE_NODE_POOL_TYPE = "gcp:container/nodePool:NodePool";

/** Every problem with a node pool's props; empty when it keeps the baseline. */
export function nodePoolProblems(args: ResourceValidationArgs): string[] {
  const node = read(args.props, "nodeConfig");
  const out: string[] = [];
  const mode = read(node, "workloadMetadataConfig", "mode");
  if (mode !== "GKE_METADATA") {
    out.push(`nodeConfig.workloadMetadataConfig.mode is ${show(mode)}; set it to "GKE_METADATA"`);
  }
  for (const key of ["enableSecureBoot", "enableIntegrityMonitoring"]) {
    if (read(node, "shieldedInstanceConfig", key) !== true) {
      out.push(`nodeConfig.shieldedInstanceConfig.${key} is not true; set it to true`);
    }
  }
  const legacy = read(node, "metadata", "disable-legacy-endpoints");
  if (legacy !== "true" && legacy !== true) {
    out.push(`nodeConfig.metadata["disable-legacy-endpoints"] is ${show(legacy)}; set it to "true"`);
  }
  const account = read(node, "serviceAccount");
  if (account === undefined || account === "" || account === "default") {
    out.push("nodeConfig.serviceAccount is unset; give the nodes their own least-privileged service account");
  } else if (typeof account === "string" && account.endsWith("-compute@developer.gserviceaccount.com")) {
    out.push(
      `nodeConfig.serviceAccount is the Compute default account (${show(account)}); use the nodes' own`,
    );
  }
  for (const key of ["autoRepair", "autoUpgrade"]) {
    if (read(args.props, "management", key) !== true) {
      out.push(`management.${key} is not true; set it to true`);
    }
  }
  return out;
}

export const gkeNodePool = platformPolicy({
  name: "nova-platform-gke-node-pool",
  description:
    "Requires GKE node pools to use the Workload Identity metadata server, shielded instances, no legacy metadata endpoints, their own service account, and auto-repair and auto-upgrade.",
  types: [GKE_NODE_POOL_TYPE],
  label: (args) => `GKE node pool ${args.name}`,
  problems: nodePoolProblems,
  fix: "restore the setting in platform/components/gke-cluster.ts (the NodePool) and re-run pulumi preview in platform/.",
});
