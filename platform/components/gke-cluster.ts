import * as pulumi from "@pulumi/pulumi";
import { gkeKubeconfig } from "../../components/cluster-connection";
import { gcp } from "../../src/util/cloud-sdks";

/**
 * Roles of the nodes' own service account: the one GKE role for node agents (logs, metrics, metadata), nothing
 * else. Image pulls are granted per repository by `ArtifactRegistries` (readers).
 */
export const NODE_ACCOUNT_ROLES = ["roles/container.defaultNodeServiceAccount"] as const;

export interface GkeClusterArgs {
  /** GCP project id. */
  readonly project: string;
  /** Region of the (regional) cluster and its node pool. */
  readonly region: string;
  /** The cluster's name in GKE. */
  readonly clusterName: string;
  /** GKE release channel; upgrades follow it within the maintenance window. */
  readonly releaseChannel: "RAPID" | "REGULAR" | "STABLE";
  /** Recurring maintenance window: RFC 3339 UTC start/end (their times of day and length count) and an RRULE. */
  readonly maintenance: { readonly startTime: string; readonly endTime: string; readonly recurrence: string };
  /** /28 range of the private control plane. */
  readonly masterCidr: string;
  /** CIDR blocks allowed to reach the control plane's public endpoint; empty: none outside Google's network. */
  readonly authorizedNetworks: readonly string[];
  /** The node pool: machine type and autoscaling bounds per zone. */
  readonly nodes: { readonly machineType: string; readonly minCount: number; readonly maxCount: number };
  /** Pulumi `protect` on every child. Default true. */
  readonly protect?: boolean;
}

/**
 * The GKE cluster the releases run on: private nodes, shielded nodes, Dataplane V2 (which enforces the chart's
 * NetworkPolicies), Workload Identity, a release channel and a maintenance window; one autoscaled node pool whose
 * nodes run as their own least-privileged service account with the metadata server of Workload Identity.
 */
export class GkeCluster extends pulumi.ComponentResource {
  public readonly clusterName: pulumi.Output<string>;
  /** `https://<endpoint>`. */
  public readonly endpoint: pulumi.Output<string>;
  /** Kubeconfig using `gke-gcloud-auth-plugin` (a secret; it holds no credential, but names the endpoint). */
  public readonly kubeconfig: pulumi.Output<string>;
  /** The nodes' service account (an email), to grant image pulls. */
  public readonly nodeAccountEmail: pulumi.Output<string>;

  constructor(name: string, args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:platform:GkeCluster", name, {}, opts);
    const protect = args.protect ?? true;
    const sdk = gcp();

    const nodeAccount = new sdk.serviceaccount.Account(
      `${name}-nodes-sa`,
      {
        project: args.project,
        accountId: `${args.clusterName}-nodes`.slice(0, 30).replace(/-+$/, ""),
        displayName: `GKE nodes of ${args.clusterName}`,
      },
      { parent: this, protect },
    );
    NODE_ACCOUNT_ROLES.forEach((role, i) => {
      new sdk.projects.IAMMember(
        `${name}-nodes-role-${i}`,
        { project: args.project, role, member: pulumi.interpolate`serviceAccount:${nodeAccount.email}` },
        { parent: this, protect },
      );
    });

    const cluster = new sdk.container.Cluster(
      `${name}-gke`,
      {
        name: args.clusterName,
        project: args.project,
        location: args.region,
        removeDefaultNodePool: true,
        initialNodeCount: 1,
        networkingMode: "VPC_NATIVE",
        ipAllocationPolicy: {},
        releaseChannel: { channel: args.releaseChannel },
        maintenancePolicy: {
          recurringWindow: {
            startTime: args.maintenance.startTime,
            endTime: args.maintenance.endTime,
            recurrence: args.maintenance.recurrence,
          },
        },
        workloadIdentityConfig: { workloadPool: `${args.project}.svc.id.goog` },
        // Dataplane V2 (eBPF) enforces NetworkPolicies; it excludes the Calico add-on (`networkPolicy`).
        datapathProvider: "ADVANCED_DATAPATH",
        privateClusterConfig: {
          enablePrivateNodes: true,
          // The public endpoint stays for the deployer, limited to the authorized networks below.
          enablePrivateEndpoint: false,
          masterIpv4CidrBlock: args.masterCidr,
        },
        masterAuthorizedNetworksConfig: {
          cidrBlocks: args.authorizedNetworks.map((cidrBlock) => ({ cidrBlock, displayName: cidrBlock })),
        },
        enableShieldedNodes: true,
        enableLegacyAbac: false,
        // Client certificates and basic auth off: only IAM-backed identities reach the API server.
        masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
        deletionProtection: true,
      },
      { parent: this, protect },
    );

    const pool = new sdk.container.NodePool(
      `${name}-gke-nodes`,
      {
        cluster: cluster.name,
        project: args.project,
        location: args.region,
        autoscaling: { minNodeCount: args.nodes.minCount, maxNodeCount: args.nodes.maxCount },
        nodeConfig: {
          machineType: args.nodes.machineType,
          serviceAccount: nodeAccount.email,
          oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
          // Pods see the Workload Identity metadata server, never the node's credentials.
          workloadMetadataConfig: { mode: "GKE_METADATA" },
          shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
          metadata: { "disable-legacy-endpoints": "true" },
        },
        management: { autoRepair: true, autoUpgrade: true },
      },
      { parent: this, protect },
    );

    this.clusterName = cluster.name;
    this.endpoint = pulumi.interpolate`https://${cluster.endpoint}`;
    this.nodeAccountEmail = nodeAccount.email;
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.masterAuth.clusterCaCertificate, pool.id])
        .apply(([clusterName, endpoint, ca]) => gkeKubeconfig(clusterName, endpoint, ca ?? "")),
    );
    this.registerOutputs({
      clusterName: this.clusterName,
      endpoint: this.endpoint,
      kubeconfig: this.kubeconfig,
      nodeAccountEmail: this.nodeAccountEmail,
    });
  }
}
