/**
 * Fixtures of the platform pack's tests: each resource's props as the platform components register them (production
 * values), the committed platform pack configs, and a runner that judges one resource with one policy.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type EnforcementLevel, type Policy, type ResourceValidationPolicy } from "@pulumi/policy";
import { CLUSTER_MARKER, POD_SECURITY_LABELS } from "../../src/contract";
import { runResourcePolicy, type Outcome } from "./harness";

export const PLATFORM_STACK = "platform-production";
export const PLATFORM_PROJECT = "nova-platform";
export type PlatformPackConfig = "platform-production" | "platform-sandbox";

/** `platform/policy/config/<file>.json`, as passed with `--policy-pack-config`. */
export function platformPackConfig(file: PlatformPackConfig): Record<string, Record<string, unknown>> {
  const p = path.resolve(__dirname, "../../platform/policy/config", `${file}.json`);
  return JSON.parse(fs.readFileSync(p, "utf8")) as Record<string, Record<string, unknown>>;
}

/** The enforcement level the runtime uses for a policy under a platform pack config. */
export function platformEnforcement(policy: Policy, file: PlatformPackConfig): EnforcementLevel {
  const entry = platformPackConfig(file)[policy.name];
  return (
    (entry?.["enforcementLevel"] as EnforcementLevel | undefined) ?? policy.enforcementLevel ?? "advisory"
  );
}

/** A policy's config entry from a platform pack config (without `enforcementLevel`, as `getConfig` returns it). */
export function platformPolicyConfig(policy: Policy, file: PlatformPackConfig): Record<string, unknown> {
  const { enforcementLevel: _level, ...rest } = platformPackConfig(file)[policy.name] ?? {};
  return rest;
}

const PROJECT = "nova-prod";
const ROLLOUT = "serviceAccount:ci-rollout@nova-prod.iam.gserviceaccount.com";

/** Props by type token, as the committed components register them on platform-production. */
export function platformProps(): Record<string, Record<string, unknown>> {
  return {
    "gcp:container/cluster:Cluster": {
      name: "nova-prod",
      project: PROJECT,
      location: "us-central1",
      removeDefaultNodePool: true,
      initialNodeCount: 1,
      networkingMode: "VPC_NATIVE",
      releaseChannel: { channel: "REGULAR" },
      maintenancePolicy: {
        recurringWindow: {
          startTime: "2026-01-03T03:00:00Z",
          endTime: "2026-01-03T07:00:00Z",
          recurrence: "FREQ=WEEKLY;BYDAY=SA,SU",
        },
      },
      workloadIdentityConfig: { workloadPool: "nova-prod.svc.id.goog" },
      datapathProvider: "ADVANCED_DATAPATH",
      privateClusterConfig: {
        enablePrivateNodes: true,
        enablePrivateEndpoint: false,
        masterIpv4CidrBlock: "172.16.0.0/28",
      },
      enableShieldedNodes: true,
      enableLegacyAbac: false,
      masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
      deletionProtection: true,
    },
    "gcp:container/nodePool:NodePool": {
      cluster: "nova-prod",
      project: PROJECT,
      nodeConfig: {
        machineType: "e2-standard-4",
        serviceAccount: "nova-prod-nodes@nova-prod.iam.gserviceaccount.com",
        workloadMetadataConfig: { mode: "GKE_METADATA" },
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        metadata: { "disable-legacy-endpoints": "true" },
      },
      management: { autoRepair: true, autoUpgrade: true },
    },
    "gcp:artifactregistry/repository:Repository": {
      project: PROJECT,
      location: "us",
      repositoryId: "nova",
      format: "DOCKER",
      dockerConfig: { immutableTags: true },
    },
    "gcp:storage/bucket:Bucket": {
      name: "nova-prod-db-backups",
      project: PROJECT,
      location: "US",
      uniformBucketLevelAccess: true,
      publicAccessPrevention: "enforced",
      versioning: { enabled: true },
      retentionPolicy: { retentionPeriod: String(30 * 86_400), isLocked: false },
      forceDestroy: false,
    },
    "gcp:secretmanager/secretIamMember:SecretIamMember": {
      project: PROJECT,
      secretId: "nova-prod-database-url",
      role: "roles/secretmanager.secretAccessor",
      member: ROLLOUT,
    },
    "gcp:storage/bucketIAMMember:BucketIAMMember": {
      bucket: "nova-prod-db-backups",
      role: "roles/storage.objectCreator",
      member: ROLLOUT,
    },
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": {
      project: PROJECT,
      location: "us",
      repository: "nova",
      role: "roles/artifactregistry.reader",
      member: "serviceAccount:nova-prod-nodes@nova-prod.iam.gserviceaccount.com",
    },
    "gcp:serviceaccount/iAMMember:IAMMember": {
      serviceAccountId: "projects/nova-prod/serviceAccounts/nova-rms-workload",
      role: "roles/iam.workloadIdentityUser",
      member: "serviceAccount:nova-prod.svc.id.goog[nova-prod/nova-rms]",
    },
    "gcp:projects/iAMMember:IAMMember": {
      project: PROJECT,
      role: "roles/container.defaultNodeServiceAccount",
      member: "serviceAccount:nova-prod-nodes@nova-prod.iam.gserviceaccount.com",
    },
    "kubernetes:core/v1:ConfigMap": {
      metadata: { namespace: CLUSTER_MARKER.namespace, name: CLUSTER_MARKER.name },
      data: { [CLUSTER_MARKER.environmentKey]: "production", stack: PLATFORM_STACK },
      immutable: false,
    },
    "kubernetes:rbac.authorization.k8s.io/v1:Role": {
      metadata: { namespace: CLUSTER_MARKER.namespace, name: `${CLUSTER_MARKER.name}-reader` },
      rules: [
        { apiGroups: [""], resources: ["configmaps"], resourceNames: [CLUSTER_MARKER.name], verbs: ["get"] },
      ],
    },
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": {
      metadata: { namespace: CLUSTER_MARKER.namespace, name: `${CLUSTER_MARKER.name}-reader` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${CLUSTER_MARKER.name}-reader` },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:authenticated" }],
    },
    "kubernetes:core/v1:Namespace": {
      metadata: {
        name: "nova-prod",
        labels: { "app.kubernetes.io/managed-by": "nova-platform", ...POD_SECURITY_LABELS },
      },
    },
    "kubernetes:core/v1:ServiceAccount": {
      metadata: { namespace: "nova-prod", name: "nova-rms", annotations: {} },
      automountServiceAccountToken: false,
    },
  };
}

/** Judges one resource of `type` (props from {@link platformProps}, changed by `mutate`) with `policy`. */
export function judge<P = Record<string, unknown>>(
  policy: ResourceValidationPolicy,
  type: string,
  mutate: (props: P) => void = () => undefined,
  opts: { protect?: boolean; config?: Record<string, unknown>; name?: string } = {},
): Promise<Outcome> {
  const props = structuredClone(platformProps()[type] ?? {});
  mutate(props as P);
  return runResourcePolicy(policy, {
    type,
    props,
    name: opts.name ?? "nova-platform-fixture",
    stack: PLATFORM_STACK,
    urn: `urn:pulumi:${PLATFORM_STACK}::${PLATFORM_PROJECT}::${type}::${opts.name ?? "nova-platform-fixture"}`,
    config: opts.config ?? {},
    opts: { protect: opts.protect ?? true },
  });
}
