import { gcp } from "../src/util/cloud-sdks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHILD_SUFFIXES } from "../src/contract";

export type ClusterConnectionArgs =
  | {
      readonly mode: "kubeconfig";
      /** Kubeconfig contents (a Pulumi secret: it holds credentials). */
      readonly kubeconfig: pulumi.Input<string>;
      /** Context to use inside the kubeconfig; its current context when not set. */
      readonly context?: string;
      /**
       * Accepted so callers can pass one `protect` for every mode; it has no effect here: in kubeconfig mode the
       * cluster is not managed by this stack and the component creates only the Kubernetes provider. Default false.
       */
      readonly protect?: boolean;
    }
  | {
      readonly mode: "gke";
      readonly project: string;
      readonly region: string;
      readonly clusterName: string;
      /** Nodes per zone of the node pool. */
      readonly nodeCount: number;
      readonly machineType: string;
      /**
       * Set Pulumi's `protect` option on the GKE cluster and its node pool, so the engine refuses to delete or
       * replace them until they are unprotected with `pulumi state unprotect`. Default true: an unprotected cluster
       * must be asked for with `protect: false` (e.g. a throwaway staging cluster). Independent of GCP's own
       * `deletionProtection`, which stays on.
       */
      readonly protect?: boolean;
    };

/** Renders a kubeconfig for a GKE cluster that authenticates with `gke-gcloud-auth-plugin`. Pure. */
export function gkeKubeconfig(name: string, endpoint: string, caCertificate: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name, cluster: { server: `https://${endpoint}`, "certificate-authority-data": caCertificate } },
    ],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "gke-gcloud-auth-plugin",
            provideClusterInfo: true,
            installHint: "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
          },
        },
      },
    ],
  });
}

/**
 * The Kubernetes connection of the release: an explicit provider from an existing kubeconfig and context, or a GKE
 * cluster (with its node pool) created for it. Every Kubernetes resource of the program uses this provider.
 */
export class ClusterConnection extends pulumi.ComponentResource {
  public readonly provider: k8s.Provider;
  /** Kubeconfig contents, a secret. */
  public readonly kubeconfig: pulumi.Output<string>;
  /** The context kubectl should use, when the kubeconfig has several. */
  public readonly context: string | undefined;

  constructor(name: string, args: ClusterConnectionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:cluster:ClusterConnection", name, {}, opts);

    if (args.mode === "kubeconfig") {
      this.kubeconfig = pulumi.secret(args.kubeconfig);
      this.context = args.context;
    } else {
      const protect = args.protect ?? true;
      const cluster = new (gcp().container.Cluster)(
        `${name}-gke`,
        {
          name: args.clusterName,
          project: args.project,
          location: args.region,
          removeDefaultNodePool: true,
          initialNodeCount: 1,
          releaseChannel: { channel: "REGULAR" },
          workloadIdentityConfig: { workloadPool: `${args.project}.svc.id.goog` },
          // Dataplane V2 (eBPF) enforces the chart's NetworkPolicies (default deny + the playbook's paths). It needs
          // a VPC-native cluster, the default networking mode of new clusters. Do not also set `networkPolicy`
          // (the Calico add-on): the two are exclusive. The datapath is fixed at creation: on an existing
          // LEGACY_DATAPATH cluster this is a replacement, which `protect` and deletionProtection refuse.
          datapathProvider: "ADVANCED_DATAPATH",
          deletionProtection: true,
        },
        { parent: this, protect },
      );
      const pool = new (gcp().container.NodePool)(
        `${name}-gke-nodes`,
        {
          cluster: cluster.name,
          project: args.project,
          location: args.region,
          nodeCount: args.nodeCount,
          nodeConfig: {
            machineType: args.machineType,
            oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
            workloadMetadataConfig: { mode: "GKE_METADATA" },
          },
          management: { autoRepair: true, autoUpgrade: true },
        },
        { parent: this, protect },
      );
      this.context = undefined;
      this.kubeconfig = pulumi.secret(
        pulumi
          .all([cluster.name, cluster.endpoint, cluster.masterAuth.clusterCaCertificate, pool.id])
          .apply(([clusterName, endpoint, ca]) => gkeKubeconfig(clusterName, endpoint, ca ?? "")),
      );
    }

    this.provider = new k8s.Provider(
      `${name}${CHILD_SUFFIXES.provider}`,
      {
        kubeconfig: this.kubeconfig,
        ...(this.context !== undefined ? { context: this.context } : {}),
        enableServerSideApply: true,
      },
      { parent: this },
    );
    this.registerOutputs({ kubeconfig: this.kubeconfig });
  }
}
