/**
 * The Nova platform: what outlives releases, owned by its own stack. On GKE (`clusterMode: gke`): the cluster and
 * node pool, the Artifact Registry repositories, the Secret Manager secrets and who reads them, the dump bucket, the
 * workloads' Kubernetes and Google service accounts bound by Workload Identity, the API's static address and
 * managed certificate, and the production marker. On an existing cluster (`clusterMode: kubeconfig`, the sandbox):
 * only the Kubernetes parts (marker, release namespace, service account); no GCP resource is registered.
 *
 * This file is the only place that reads the platform's config. The release stack reads its outputs through a
 * `StackReference` (names in `src/contract/platform.ts`); bootstrap order: platform up → release preflight →
 * release up (docs/gcp.md).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  ApiEndpoint,
  ArtifactRegistries,
  ClusterMarker,
  DumpBucket,
  GkeCluster,
  PlatformSecrets,
  WorkloadIdentity,
} from "./components";
import { parsePlatformSettings, platformKeys, PlatformConfigError, type PlatformSettings } from "./config";

/** The platform project directory (`platform/`), whether this runs compiled (`dist/platform/`) or from source. */
const projectDir =
  path.basename(path.dirname(__dirname)) === "dist"
    ? path.resolve(__dirname, "..", "..", "platform")
    : __dirname;

function loadSettings(): PlatformSettings {
  try {
    return parsePlatformSettings(platformKeys(pulumi.runtime.allConfig()), {
      stack: pulumi.getStack(),
      projectDir,
    });
  } catch (err) {
    // A malformed config is a user mistake: one readable message, no stack trace.
    if (err instanceof PlatformConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

function readKubeconfig(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : String(err);
    throw new pulumi.RunError(
      `The kubeconfig ${file} (nova-platform:kubeconfigPath) ${reason}. Point the key at the cluster's kubeconfig.`,
    );
  }
}

const settings = loadSettings();
const protect = settings.protect;
const name = "nova-platform";

let kubeconfigOut: pulumi.Output<string>;
let contextOut: string | undefined;
let gke:
  | {
      cluster: GkeCluster;
      registries: ArtifactRegistries;
      secrets: PlatformSecrets;
      dump: DumpBucket;
      api: ApiEndpoint;
    }
  | undefined;
const cluster = settings.cluster;

if (cluster.mode === "gke") {
  const gkeCluster = new GkeCluster(name, { ...cluster, protect });
  const nodeReader = pulumi.interpolate`serviceAccount:${gkeCluster.nodeAccountEmail}`;
  gke = {
    cluster: gkeCluster,
    registries: new ArtifactRegistries(name, {
      project: cluster.project,
      location: cluster.registry.location,
      repositories: cluster.registry.repositories,
      readers: [nodeReader, ...cluster.registry.readers],
      writers: cluster.registry.writers,
      protect,
    }),
    secrets: new PlatformSecrets(name, {
      project: cluster.project,
      ids: cluster.secrets.ids,
      accessors: cluster.secrets.accessors,
      protect,
    }),
    dump: new DumpBucket(name, {
      project: cluster.project,
      bucket: cluster.dump.bucket,
      location: cluster.dump.location,
      retentionDays: cluster.dump.retentionDays,
      writers: cluster.dump.writers,
      protect,
    }),
    api: new ApiEndpoint(name, {
      project: cluster.project,
      resourcePrefix: cluster.clusterName,
      host: cluster.apiHost,
      protect,
    }),
  };
  kubeconfigOut = gkeCluster.kubeconfig;
  contextOut = undefined;
} else {
  kubeconfigOut = pulumi.secret(readKubeconfig(cluster.kubeconfigPath));
  contextOut = cluster.context;
}

const provider = new k8s.Provider(`${name}-k8s`, {
  kubeconfig: kubeconfigOut,
  ...(contextOut !== undefined ? { context: contextOut } : {}),
  enableServerSideApply: true,
});

const clusterMarker = new ClusterMarker(name, {
  environment: settings.environment,
  stack: settings.stack,
  provider,
  protect,
});
const workloads = new WorkloadIdentity(name, {
  namespace: settings.namespace,
  serviceAccountName: settings.workloadServiceAccount,
  ...(cluster.mode === "gke"
    ? { google: { project: cluster.project, accountId: cluster.workloadGoogleAccount } }
    : {}),
  provider,
  protect,
});

// Stack outputs: the names are PLATFORM_OUTPUTS (src/contract/platform.ts); gke-only outputs are absent otherwise.
export const environment = settings.environment;
export const kubeconfig = kubeconfigOut;
export const kubeconfigContext = contextOut;
export const clusterEndpoint = gke?.cluster.endpoint;
export const clusterName = gke?.cluster.clusterName;
export const registryHost = gke?.registries.host;
export const imageRegistry =
  cluster.mode === "gke" ? gke?.registries.addresses[cluster.registry.repositories[0] ?? ""] : undefined;
export const secretIds = gke?.secrets.ids;
export const secretPrefix = cluster.mode === "gke" ? cluster.secrets.prefix : undefined;
export const dumpBucket = gke?.dump.bucketName;
export const backupDestination = gke?.dump.backupDestination;
export const apiAddress = gke?.api.address;
export const apiAddressName = gke?.api.addressName;
export const apiCertificateName = gke?.api.certificateName;
export const namespace = workloads.namespace;
export const workloadServiceAccount = workloads.serviceAccountName;
export const workloadGoogleAccountEmail = workloads.googleAccountEmail;
export const marker = clusterMarker.marker;
