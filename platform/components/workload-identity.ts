import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { POD_SECURITY_LABELS } from "../../src/contract";
import { gcp } from "../../src/util/cloud-sdks";

/** The annotation that binds a Kubernetes service account to a Google service account (GKE Workload Identity). */
export const WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account";

export interface WorkloadIdentityArgs {
  /** The release namespace the platform owns (Pod Security `restricted`). */
  readonly namespace: string;
  /** The Kubernetes service account the workloads run as. */
  readonly serviceAccountName: string;
  /**
   * The Google side (gke mode): a Google service account the Kubernetes one impersonates through Workload Identity.
   * Absent on a kubeconfig cluster: no GCP resource is registered.
   */
  readonly google?: { readonly project: string; readonly accountId: string };
  readonly provider: k8s.Provider;
  /** Pulumi `protect` on every child. Default true. */
  readonly protect?: boolean;
}

/**
 * The workloads' identity: the release namespace, its Kubernetes service account (no token mounted by default)
 * and, on GKE, the Google service account it acts as, with `roles/iam.workloadIdentityUser` granted to exactly
 * `<project>.svc.id.goog[<namespace>/<service account>]` on that one Google account.
 */
export class WorkloadIdentity extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  public readonly serviceAccountName: pulumi.Output<string>;
  /** The Google service account's email (gke mode). */
  public readonly googleAccountEmail: pulumi.Output<string> | undefined;

  constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:platform:WorkloadIdentity", name, {}, opts);
    const protect = args.protect ?? true;
    const labels = { "app.kubernetes.io/managed-by": "nova-platform" };

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: args.namespace, labels: { ...labels, ...POD_SECURITY_LABELS } } },
      { parent: this, provider: args.provider, protect },
    );

    let annotations: Record<string, pulumi.Input<string>> = {};
    if (args.google !== undefined) {
      const sdk = gcp();
      const account = new sdk.serviceaccount.Account(
        `${name}-gsa`,
        {
          project: args.google.project,
          accountId: args.google.accountId,
          displayName: `Nova RMS workloads (${args.namespace}/${args.serviceAccountName})`,
        },
        { parent: this, protect },
      );
      new sdk.serviceaccount.IAMMember(
        `${name}-wi-binding`,
        {
          serviceAccountId: account.name,
          role: "roles/iam.workloadIdentityUser",
          member: `serviceAccount:${args.google.project}.svc.id.goog[${args.namespace}/${args.serviceAccountName}]`,
        },
        { parent: this, protect },
      );
      annotations = { [WORKLOAD_IDENTITY_ANNOTATION]: account.email };
      this.googleAccountEmail = account.email;
    }

    const ksa = new k8s.core.v1.ServiceAccount(
      `${name}-ksa`,
      {
        metadata: { namespace: namespace.metadata.name, name: args.serviceAccountName, labels, annotations },
        automountServiceAccountToken: false,
      },
      { parent: this, provider: args.provider, protect },
    );
    this.namespace = namespace.metadata.name;
    this.serviceAccountName = ksa.metadata.name;
    this.registerOutputs({
      namespace: this.namespace,
      serviceAccountName: this.serviceAccountName,
      googleAccountEmail: this.googleAccountEmail,
    });
  }
}
