/** Every policy of the nova-rollout pack, in the order the pack lists them. Importing this starts nothing. */
import { type Policies } from "@pulumi/policy";
import { apiRoute } from "./api-route";
import { breakGlassOverride } from "./break-glass-override";
import { changeFreeze } from "./change-freeze";
import { imagesPinnedByDigest } from "./images-pinned-by-digest";
import { leadershipApproval } from "./leadership-approval";
import { namespacePodSecurity } from "./namespace-pod-security";
import { productionTarget } from "./production-target";
import { readinessGate } from "./readiness-gate";
import { rolloutOrdering } from "./rollout-ordering";
import { secretsFromSecretValues } from "./secrets-from-secret-values";
import { verificationMetricChecks } from "./verification-metric-checks";
import { workloadAvailability } from "./workload-availability";
import { workloadSafety } from "./workload-safety";

export {
  apiRoute,
  breakGlassOverride,
  changeFreeze,
  imagesPinnedByDigest,
  leadershipApproval,
  namespacePodSecurity,
  productionTarget,
  readinessGate,
  rolloutOrdering,
  secretsFromSecretValues,
  verificationMetricChecks,
  workloadAvailability,
  workloadSafety,
};
export { setPolicyRuntime, stackFromUrn, type PolicyRuntime } from "./common";

export const policies: Policies = [
  productionTarget,
  readinessGate,
  changeFreeze,
  leadershipApproval,
  breakGlassOverride,
  imagesPinnedByDigest,
  secretsFromSecretValues,
  workloadSafety,
  namespacePodSecurity,
  workloadAvailability,
  rolloutOrdering,
  verificationMetricChecks,
  apiRoute,
];
