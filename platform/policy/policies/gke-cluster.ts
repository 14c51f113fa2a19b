/**
 * nova-platform-gke-cluster: the GKE cluster keeps the settings the release's safety rests on. Workload Identity
 * (pods act as their own Google account, never the node's), Dataplane V2 (`ADVANCED_DATAPATH`, which enforces the
 * chart's NetworkPolicies), a release channel and a maintenance window, private nodes, shielded nodes, no legacy
 * ABAC, no basic auth or client certificate, and deletion protection. `GkeCluster` (platform/components) sets each.
 */
import { type ResourceValidationArgs } from "@pulumi/policy";
import { nameOf, platformPolicy, read, show, UNKNOWN_VALUE } from "./common";

export const GKE_CLUSTER_TYPE = "gcp:container/cluster:Cluster";
const CHANNELS = ["RAPID", "REGULAR", "STABLE"];

/** Every problem with a GKE cluster's props; empty when it keeps the baseline. */
export function gkeClusterProblems(args: ResourceValidationArgs): string[] {
  const p = args.props;
  const out: string[] = [];
  const pool = read(p, "workloadIdentityConfig", "workloadPool");
  if (pool !== UNKNOWN_VALUE && (typeof pool !== "string" || !pool.endsWith(".svc.id.goog"))) {
    out.push(`workloadIdentityConfig.workloadPool is ${show(pool)}; set it to "<project>.svc.id.goog"`);
  }
  const datapath = read(p, "datapathProvider");
  if (datapath !== "ADVANCED_DATAPATH") {
    out.push(`datapathProvider is ${show(datapath)}; set it to "ADVANCED_DATAPATH" (Dataplane V2)`);
  }
  const channel = read(p, "releaseChannel", "channel");
  if (typeof channel !== "string" || !CHANNELS.includes(channel)) {
    out.push(`releaseChannel.channel is ${show(channel)}; set it to RAPID, REGULAR or STABLE`);
  }
  if (read(p, "maintenancePolicy") === undefined) {
    out.push("maintenancePolicy is unset; set a recurring maintenance window");
  }
  if (read(p, "privateClusterConfig", "enablePrivateNodes") !== true) {
    out.push("privateClusterConfig.enablePrivateNodes is not true; nodes must have no public address");
  }
  if (read(p, "enableShieldedNodes") !== true) {
    out.push("enableShieldedNodes is not true; set it to true");
  }
  const abac = read(p, "enableLegacyAbac");
  if (abac !== undefined && abac !== false) {
    out.push(`enableLegacyAbac is ${show(abac)}; set it to false (RBAC only)`);
  }
  const user = read(p, "masterAuth", "username");
  const password = read(p, "masterAuth", "password");
  if ((user !== undefined && user !== "") || (password !== undefined && password !== "")) {
    out.push("masterAuth sets a username or password; remove basic auth");
  }
  if (read(p, "masterAuth", "clientCertificateConfig", "issueClientCertificate") === true) {
    out.push("masterAuth.clientCertificateConfig.issueClientCertificate is true; set it to false");
  }
  if (read(p, "deletionProtection") === false) {
    out.push("deletionProtection is false; leave it on (true)");
  }
  return out;
}

export const gkeCluster = platformPolicy({
  name: "nova-platform-gke-cluster",
  description:
    "Requires the GKE cluster to keep Workload Identity, Dataplane V2, a release channel, a maintenance window, private and shielded nodes, no legacy ABAC, no basic auth or client certificate, and deletion protection.",
  types: [GKE_CLUSTER_TYPE],
  label: (args) => `GKE cluster ${nameOf(args)}`,
  problems: gkeClusterProblems,
  fix: "restore the setting in platform/components/gke-cluster.ts and re-run pulumi preview in platform/.",
});
