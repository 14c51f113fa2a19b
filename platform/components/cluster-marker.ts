import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CLUSTER_MARKER } from "../../src/contract";

/** Who may read the marker: every authenticated identity (the gate reads it with the deployer's own credentials). */
export const MARKER_READERS = { kind: "Group", name: "system:authenticated" } as const;

export interface ClusterMarkerArgs {
  /** What the cluster is: the marker's `environment` entry; `production` makes it a protected target. */
  readonly environment: "sandbox" | "staging" | "production";
  /** The platform stack that wrote it (informational). */
  readonly stack: string;
  /** The cluster's Kubernetes provider. */
  readonly provider: k8s.Provider;
  /** Pulumi `protect` on every child. Default true. */
  readonly protect?: boolean;
}

/**
 * The production marker the release gate reads to recognise the cluster (`CLUSTER_MARKER`): a ConfigMap in
 * `kube-public`, and a Role + RoleBinding that let every authenticated user `get` that one ConfigMap (nothing else).
 */
export class ClusterMarker extends pulumi.ComponentResource {
  public readonly marker: { readonly namespace: string; readonly name: string; readonly environment: string };

  constructor(name: string, args: ClusterMarkerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:platform:ClusterMarker", name, {}, opts);
    const child = { parent: this, provider: args.provider, protect: args.protect ?? true };
    const labels = { "app.kubernetes.io/managed-by": "nova-platform" };
    new k8s.core.v1.ConfigMap(
      `${name}-marker`,
      {
        metadata: { namespace: CLUSTER_MARKER.namespace, name: CLUSTER_MARKER.name, labels },
        data: { [CLUSTER_MARKER.environmentKey]: args.environment, stack: args.stack },
        immutable: false,
      },
      child,
    );
    const role = new k8s.rbac.v1.Role(
      `${name}-marker-reader`,
      {
        metadata: { namespace: CLUSTER_MARKER.namespace, name: `${CLUSTER_MARKER.name}-reader`, labels },
        rules: [
          {
            apiGroups: [""],
            resources: ["configmaps"],
            resourceNames: [CLUSTER_MARKER.name],
            verbs: ["get"],
          },
        ],
      },
      child,
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-marker-readers`,
      {
        metadata: { namespace: CLUSTER_MARKER.namespace, name: `${CLUSTER_MARKER.name}-reader`, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", ...MARKER_READERS }],
      },
      child,
    );
    this.marker = {
      namespace: CLUSTER_MARKER.namespace,
      name: CLUSTER_MARKER.name,
      environment: args.environment,
    };
    this.registerOutputs({ marker: this.marker });
  }
}
