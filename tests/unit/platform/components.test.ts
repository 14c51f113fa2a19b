import * as k8s from "@pulumi/kubernetes";
import { beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_MARKER, POD_SECURITY_LABELS } from "../../../src/contract";
import { installMocks, promiseOf, settle, type MockState } from "../support/mocks";
import { at, recordProtect } from "./support";

// Every platform component under mocks: the security-relevant inputs of each resource, one row per field, and
// `protect` as sent to the engine.
let mocks: MockState;
let wire: Map<string, boolean>;
let platform: typeof import("../../../platform/components");

const project = "nova-prod";
const rollout = "serviceAccount:ci-rollout@nova-prod.iam.gserviceaccount.com";

beforeAll(async () => {
  mocks = installMocks({
    outputs: {
      "gcp:container/cluster:Cluster": (i) => ({
        endpoint: "10.0.0.1",
        masterAuth: { clusterCaCertificate: "Q0E=" },
        name: i.name,
      }),
      "gcp:serviceaccount/account:Account": (i) => ({
        email: `${String(i.accountId)}@${String(i.project)}.iam.gserviceaccount.com`,
        name: `projects/${String(i.project)}/serviceAccounts/${String(i.accountId)}`,
      }),
      "gcp:compute/globalAddress:GlobalAddress": () => ({ address: "203.0.113.10" }),
    },
  });
  wire = recordProtect();
  platform = await import("../../../platform/components");
  const provider = new k8s.Provider("t-k8s", { kubeconfig: "{}" });
  const cluster = new platform.GkeCluster("t", {
    project,
    region: "us-central1",
    clusterName: "nova-prod",
    releaseChannel: "STABLE",
    maintenance: {
      startTime: "2026-01-03T03:00:00Z",
      endTime: "2026-01-03T07:00:00Z",
      recurrence: "FREQ=WEEKLY;BYDAY=SA,SU",
    },
    masterCidr: "172.16.0.0/28",
    authorizedNetworks: ["203.0.113.0/28"],
    nodes: { machineType: "e2-standard-4", minCount: 1, maxCount: 3 },
  });
  new platform.ArtifactRegistries("t", {
    project,
    location: "us",
    repositories: ["nova"],
    readers: [cluster.nodeAccountEmail.apply((e) => `serviceAccount:${e}`)],
    writers: ["serviceAccount:ci-build@nova-prod.iam.gserviceaccount.com"],
  });
  new platform.PlatformSecrets("t", {
    project,
    ids: { databaseUrl: "nova-prod-database-url", jwtSigningKey: "nova-prod-jwt-signing-key" },
    accessors: [rollout],
  });
  new platform.DumpBucket("t", {
    project,
    bucket: "nova-prod-db-backups",
    location: "US",
    retentionDays: 30,
    writers: [rollout],
  });
  new platform.ApiEndpoint("t", { project, resourcePrefix: "nova-prod", host: "api.nova-rms.example" });
  new platform.ClusterMarker("t", { environment: "production", stack: "platform-production", provider });
  new platform.WorkloadIdentity("t", {
    namespace: "nova-prod",
    serviceAccountName: "nova-rms",
    google: { project, accountId: "nova-rms-workload" },
    provider,
  });
  new platform.ClusterMarker("u", { environment: "sandbox", stack: "s", provider, protect: false });
  await promiseOf(cluster.kubeconfig);
  await settle();
});

describe.each([
  // resource, field path, expected value
  ["t-gke", "datapathProvider", "ADVANCED_DATAPATH"],
  ["t-gke", "workloadIdentityConfig.workloadPool", "nova-prod.svc.id.goog"],
  ["t-gke", "releaseChannel.channel", "STABLE"],
  ["t-gke", "maintenancePolicy.recurringWindow.startTime", "2026-01-03T03:00:00Z"],
  ["t-gke", "maintenancePolicy.recurringWindow.endTime", "2026-01-03T07:00:00Z"],
  ["t-gke", "maintenancePolicy.recurringWindow.recurrence", "FREQ=WEEKLY;BYDAY=SA,SU"],
  ["t-gke", "privateClusterConfig.enablePrivateNodes", true],
  ["t-gke", "privateClusterConfig.masterIpv4CidrBlock", "172.16.0.0/28"],
  [
    "t-gke",
    "masterAuthorizedNetworksConfig.cidrBlocks",
    [{ cidrBlock: "203.0.113.0/28", displayName: "203.0.113.0/28" }],
  ],
  ["t-gke", "enableShieldedNodes", true],
  ["t-gke", "enableLegacyAbac", false],
  ["t-gke", "masterAuth.clientCertificateConfig.issueClientCertificate", false],
  ["t-gke", "deletionProtection", true],
  ["t-gke", "removeDefaultNodePool", true],
  ["t-gke", "networkingMode", "VPC_NATIVE"],
  ["t-gke-nodes", "nodeConfig.workloadMetadataConfig.mode", "GKE_METADATA"],
  ["t-gke-nodes", "nodeConfig.shieldedInstanceConfig.enableSecureBoot", true],
  ["t-gke-nodes", "nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring", true],
  ["t-gke-nodes", "nodeConfig.serviceAccount", "nova-prod-nodes@nova-prod.iam.gserviceaccount.com"],
  ["t-gke-nodes", "nodeConfig.metadata.disable-legacy-endpoints", "true"],
  ["t-gke-nodes", "management.autoUpgrade", true],
  ["t-gke-nodes", "management.autoRepair", true],
  ["t-gke-nodes", "autoscaling", { minNodeCount: 1, maxNodeCount: 3 }],
  ["t-nodes-role-0", "role", "roles/container.defaultNodeServiceAccount"],
  ["t-nova", "format", "DOCKER"],
  ["t-nova", "dockerConfig.immutableTags", true],
  ["t-nova-reader-0", "role", "roles/artifactregistry.reader"],
  ["t-nova-reader-0", "member", "serviceAccount:nova-prod-nodes@nova-prod.iam.gserviceaccount.com"],
  ["t-nova-writer-0", "role", "roles/artifactregistry.writer"],
  ["t-nova-prod-database-url", "secretId", "nova-prod-database-url"],
  ["t-nova-prod-database-url", "replication", { auto: {} }],
  ["t-nova-prod-database-url-accessor-0", "role", "roles/secretmanager.secretAccessor"],
  ["t-nova-prod-database-url-accessor-0", "member", rollout],
  ["t-nova-prod-jwt-signing-key-accessor-0", "secretId", "nova-prod-jwt-signing-key"],
  ["t-bucket", "uniformBucketLevelAccess", true],
  ["t-bucket", "publicAccessPrevention", "enforced"],
  ["t-bucket", "versioning.enabled", true],
  ["t-bucket", "retentionPolicy.retentionPeriod", String(30 * 86_400)],
  ["t-bucket", "forceDestroy", false],
  ["t-writer-0", "role", "roles/storage.objectCreator"],
  ["t-writer-0", "member", rollout],
  ["t-ip", "addressType", "EXTERNAL"],
  ["t-ip", "name", "nova-prod-api-ip"],
  ["t-cert", "managed.domains", ["api.nova-rms.example"]],
  ["t-marker", "metadata.namespace", CLUSTER_MARKER.namespace],
  ["t-marker", "metadata.name", CLUSTER_MARKER.name],
  [`t-marker`, `data.${CLUSTER_MARKER.environmentKey}`, "production"],
  ["u-marker", `data.${CLUSTER_MARKER.environmentKey}`, "sandbox"],
  [
    "t-marker-reader",
    "rules",
    [{ apiGroups: [""], resources: ["configmaps"], resourceNames: [CLUSTER_MARKER.name], verbs: ["get"] }],
  ],
  [
    "t-marker-readers",
    "subjects",
    [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:authenticated" }],
  ],
  ["t-marker-readers", "roleRef.kind", "Role"],
  ["t-namespace", "metadata.name", "nova-prod"],
  ["t-wi-binding", "role", "roles/iam.workloadIdentityUser"],
  ["t-wi-binding", "member", "serviceAccount:nova-prod.svc.id.goog[nova-prod/nova-rms]"],
  ["t-wi-binding", "serviceAccountId", "projects/nova-prod/serviceAccounts/nova-rms-workload"],
  [
    "t-ksa",
    "metadata.annotations",
    { "iam.gke.io/gcp-service-account": "nova-rms-workload@nova-prod.iam.gserviceaccount.com" },
  ],
  ["t-ksa", "metadata.name", "nova-rms"],
  ["t-ksa", "automountServiceAccountToken", false],
])("%s %s", (name, field, expected) => {
  it(`is ${JSON.stringify(expected)}`, () => {
    expect(at(mocks.named(name).inputs, field)).toEqual(expected);
  });
});

describe("platform components", () => {
  it("gives the release namespace Pod Security restricted (enforce, audit, warn)", () => {
    expect(at(mocks.named("t-namespace").inputs, "metadata.labels")).toMatchObject(POD_SECURITY_LABELS);
  });

  it("uses no Calico add-on beside Dataplane V2 and never exposes the private nodes", () => {
    const cluster = mocks.named("t-gke").inputs;
    expect(cluster).not.toHaveProperty("networkPolicy");
    expect(at(cluster, "privateClusterConfig.enablePrivateNodes")).toBe(true);
  });

  it("keeps the marker readable by authenticated users only: never anonymous, only get, only that ConfigMap", () => {
    const subjects = at(mocks.named("t-marker-readers").inputs, "subjects") as { name: string }[];
    expect(subjects.map((s) => s.name)).not.toContain("system:unauthenticated");
    expect(subjects.map((s) => s.name)).not.toContain("system:anonymous");
  });

  it("never creates a secret version: no secret value reaches the platform's state", () => {
    expect(mocks.resources.filter((r) => r.type === "gcp:secretmanager/secretVersion:SecretVersion")).toEqual(
      [],
    );
  });

  it("grants nothing project-wide except the nodes' agent role, and no owner/editor anywhere", () => {
    const project = mocks.resources.filter((r) => r.type === "gcp:projects/iAMMember:IAMMember");
    expect(project.map((r) => r.inputs.role)).toEqual(["roles/container.defaultNodeServiceAccount"]);
    const roles = mocks.resources.map((r) => r.inputs.role).filter((r) => r !== undefined);
    expect(roles).not.toContain("roles/owner");
    expect(roles).not.toContain("roles/editor");
    const members = mocks.resources.map((r) => r.inputs.member).filter((m) => typeof m === "string");
    expect(members.length).toBeGreaterThan(5);
    for (const m of members) expect(m).not.toMatch(/^all(Authenticated)?Users$/);
  });

  it("protects every resource by default, and none when protect is false", () => {
    const created = mocks.resources.filter(
      (r) =>
        !r.name.startsWith("u-") && !r.type.startsWith("nova:") && r.type !== "pulumi:providers:kubernetes",
    );
    expect(created.length).toBeGreaterThan(20);
    for (const r of created) expect([r.name, wire.get(r.name)]).toEqual([r.name, true]);
    for (const r of mocks.resources.filter((x) => x.name.startsWith("u-") && !x.type.startsWith("nova:"))) {
      expect([r.name, wire.get(r.name)]).toEqual([r.name, false]);
    }
  });

  it("refuses an empty repository list, naming the property", () => {
    expect(
      () =>
        new platform.ArtifactRegistries("empty", {
          project,
          location: "us",
          repositories: [],
          readers: [],
          writers: [],
        }),
    ).toThrow(/at least one repository/);
  });
});
