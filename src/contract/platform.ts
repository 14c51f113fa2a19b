/**
 * What the platform stack (`platform/`, project `nova-platform`) and the release stack agree on: the platform's
 * config namespace and the names of the stack outputs the release reads through a `StackReference`.
 */
import { PROJECT_NAME } from "./names";

/** Config namespace of the platform project: `nova-platform:<key>`. */
export const PLATFORM_CONFIG_NAMESPACE = "nova-platform";

/** The platform stack's outputs, by what they hold. */
export const PLATFORM_OUTPUTS = {
  /** `sandbox` | `staging` | `production`: what the platform's cluster marker says. */
  environment: "environment",
  /** Kubeconfig contents for the platform's cluster (a secret). */
  kubeconfig: "kubeconfig",
  /** The context to use inside {@link PLATFORM_OUTPUTS.kubeconfig}. */
  kubeconfigContext: "kubeconfigContext",
  /** `https://<endpoint>` of the GKE control plane (gke mode). */
  clusterEndpoint: "clusterEndpoint",
  /** The GKE cluster's name (gke mode). */
  clusterName: "clusterName",
  /** `<location>-docker.pkg.dev` (gke mode). */
  registryHost: "registryHost",
  /** `<host>/<project>/<first repository>`: the release's `imageRegistry` (gke mode). */
  imageRegistry: "imageRegistry",
  /** Secret Manager secret ids by application secret key (gke mode). */
  secretIds: "secretIds",
  /** The release's `secretManagerPrefix` (gke mode). */
  secretPrefix: "secretPrefix",
  /** The dump bucket's name (gke mode). */
  dumpBucket: "dumpBucket",
  /** `gs://<bucket>/pre-release`: the release's `backupDestination` (gke mode). */
  backupDestination: "backupDestination",
  /** The API's global static IP address and its resource name (gke mode). */
  apiAddress: "apiAddress",
  apiAddressName: "apiAddressName",
  /** The managed certificate's resource name, for the Ingress annotation (gke mode). */
  apiCertificateName: "apiCertificateName",
  /** The release namespace the platform owns. */
  namespace: "namespace",
  /** The Kubernetes service account the workloads run as (Workload Identity bound in gke mode). */
  workloadServiceAccount: "workloadServiceAccount",
  /** The Google service account of the workloads (gke mode). */
  workloadGoogleAccountEmail: "workloadGoogleAccountEmail",
  /** `{ namespace, name, environment }` of the production marker ConfigMap. */
  marker: "marker",
} as const;

/** `<organization>/<project>/<stack>`: the platform stack a release names (`nova-rollout:platformStack`). */
export const PLATFORM_STACK_PATTERN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** The Kubernetes types that carry a release's record on its namespace: its own Namespace, or a patch of the platform's. */
export const RELEASE_NAMESPACE_TYPES = [
  "kubernetes:core/v1:Namespace",
  "kubernetes:core/v1:NamespacePatch",
] as const;

/**
 * The command that gives a release stack the API's public entry on the platform's static address and managed
 * certificate (`nova-rollout:apiIngress`), for `host` when known: the fix the program's validation and the
 * `nova-api-route` policy both name.
 */
export function apiIngressSetCommand(host: string | undefined): string {
  const value = JSON.stringify({
    host: host ?? "api…",
    staticIpName: `<platform output ${PLATFORM_OUTPUTS.apiAddressName}>`,
    certificateName: `<platform output ${PLATFORM_OUTPUTS.apiCertificateName}>`,
  });
  return `pulumi config set ${PROJECT_NAME}:apiIngress '${value}'`;
}
