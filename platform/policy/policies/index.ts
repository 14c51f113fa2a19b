/** Every policy of the nova-platform pack, in the order the pack lists them. Importing this starts nothing. */
import { type Policies } from "@pulumi/policy";
import { clusterMarker } from "./cluster-marker";
import { dumpBucket } from "./dump-bucket";
import { gkeCluster } from "./gke-cluster";
import { gkeNodePool } from "./gke-node-pool";
import { iamGrants } from "./iam-grants";
import { platformProductionTarget } from "./production-target";
import { platformProtected } from "./protected";
import { registryImmutableTags } from "./registry-immutable-tags";
import { workloadNamespace } from "./workload-namespace";

export {
  clusterMarker,
  dumpBucket,
  gkeCluster,
  gkeNodePool,
  iamGrants,
  platformProductionTarget,
  platformProtected,
  registryImmutableTags,
  workloadNamespace,
};

export const platformPolicies: Policies = [
  platformProductionTarget,
  platformProtected,
  gkeCluster,
  gkeNodePool,
  registryImmutableTags,
  dumpBucket,
  iamGrants,
  clusterMarker,
  workloadNamespace,
];
