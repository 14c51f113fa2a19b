/**
 * The policies of the pack (`policy/`) by name: the names the committed policy config (`policy/config/<stack>.json`)
 * is keyed by, that the gate reads its thresholds under and that violation reports carry.
 */
export const POLICY_NAMES = {
  productionTarget: "nova-production-target",
  readinessGate: "nova-readiness-gate",
  changeFreeze: "nova-change-freeze",
  leadershipApproval: "nova-leadership-approval",
  breakGlassOverride: "nova-break-glass-override",
  imagesPinnedByDigest: "nova-images-pinned-by-digest",
  secretsFromSecretValues: "nova-secrets-from-secret-values",
  workloadSafety: "nova-workload-safety",
  namespacePodSecurity: "nova-namespace-pod-security",
  workloadAvailability: "nova-workload-availability",
  rolloutOrdering: "nova-rollout-ordering",
  verificationMetricChecks: "nova-verification-metric-checks",
  apiRoute: "nova-api-route",
} as const;
export type PolicyName = (typeof POLICY_NAMES)[keyof typeof POLICY_NAMES];
