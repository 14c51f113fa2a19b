import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { PLATFORM_OUTPUTS } from "../../../src/contract";
import { installMocks, isSecret, promiseOf, settle, type MockState } from "../support/mocks";
import { recordProtect, stackFileConfig } from "./support";

// The whole platform program on the committed production stack file, under mocks.
let mocks: MockState;
let wire: Map<string, boolean>;
let program: Record<string, unknown>;

beforeAll(async () => {
  pulumi.runtime.setAllConfig(stackFileConfig("platform-production"), []);
  mocks = installMocks({
    project: "nova-platform",
    stack: "platform-production",
    outputs: {
      "gcp:serviceaccount/account:Account": (i) => ({
        email: `${String(i.accountId)}@${String(i.project)}.iam.gserviceaccount.com`,
        name: `projects/${String(i.project)}/serviceAccounts/${String(i.accountId)}`,
      }),
      "gcp:compute/globalAddress:GlobalAddress": (i) => ({ address: "203.0.113.10", name: i.name }),
      "gcp:compute/managedSslCertificate:ManagedSslCertificate": (i) => ({ name: i.name }),
      "gcp:storage/bucket:Bucket": (i) => ({ name: i.name }),
    },
  });
  wire = recordProtect();
  program = await import("../../../platform/index");
  await promiseOf(program.kubeconfig as pulumi.Output<string>);
  await settle();
});

const types = [
  "gcp:container/cluster:Cluster",
  "gcp:container/nodePool:NodePool",
  "gcp:artifactregistry/repository:Repository",
  "gcp:secretmanager/secret:Secret",
  "gcp:secretmanager/secretIamMember:SecretIamMember",
  "gcp:storage/bucket:Bucket",
  "gcp:storage/bucketIAMMember:BucketIAMMember",
  "gcp:serviceaccount/account:Account",
  "gcp:serviceaccount/iAMMember:IAMMember",
  "gcp:compute/globalAddress:GlobalAddress",
  "gcp:compute/managedSslCertificate:ManagedSslCertificate",
  "kubernetes:core/v1:ConfigMap",
  "kubernetes:core/v1:Namespace",
  "kubernetes:core/v1:ServiceAccount",
];

describe("the platform program on platform-production", () => {
  it.each(types)("registers %s", (type) => {
    expect(mocks.byType(type).length).toBeGreaterThan(0);
  });

  it("protects every resource it creates (the Kubernetes provider aside)", () => {
    const custom = mocks.resources.filter(
      (r) => !r.type.startsWith("nova:") && !r.type.startsWith("pulumi:providers:"),
    );
    const unprotected = custom.filter((r) => wire.get(r.name) !== true).map((r) => r.name);
    expect(unprotected).toEqual([]);
  });

  it("writes a production marker and one Secret Manager secret per application secret", () => {
    const marker = mocks.byType("kubernetes:core/v1:ConfigMap")[0];
    expect(marker?.inputs.data).toEqual({ environment: "production", stack: "platform-production" });
    expect(mocks.byType("gcp:secretmanager/secret:Secret").map((r) => r.inputs.secretId)).toEqual([
      "nova-prod-database-url",
      "nova-prod-jwt-signing-key",
      "nova-prod-billing-api-key",
    ]);
  });

  it("exports every output the release reads, the kubeconfig as a secret", async () => {
    for (const name of Object.values(PLATFORM_OUTPUTS)) {
      if (name === "kubeconfigContext") continue; // GKE kubeconfigs have one context
      expect([name, program[name] !== undefined]).toEqual([name, true]);
    }
    expect(await isSecret(program.kubeconfig as pulumi.Output<string>)).toBe(true);
    expect(await promiseOf(program.imageRegistry as pulumi.Output<string>)).toBe(
      "us-docker.pkg.dev/nova-prod/nova",
    );
    expect(program.registryHost).toBe("us-docker.pkg.dev");
    expect(await promiseOf(program.backupDestination as pulumi.Output<string>)).toBe(
      "gs://nova-prod-db-backups/pre-release",
    );
    expect(await promiseOf(program.apiAddressName as pulumi.Output<string>)).toBe("nova-prod-api-ip");
    expect(await promiseOf(program.apiCertificateName as pulumi.Output<string>)).toBe("nova-prod-api-cert");
    expect(program.marker).toEqual({
      namespace: "kube-public",
      name: "nova-platform",
      environment: "production",
    });
    expect(program.secretPrefix).toBe("nova-prod-");
    expect(await promiseOf(program.workloadGoogleAccountEmail as pulumi.Output<string>)).toBe(
      "nova-rms-workload@nova-prod.iam.gserviceaccount.com",
    );
  });

  it("builds the Kubernetes provider from the new cluster's kubeconfig (gke-gcloud-auth-plugin)", async () => {
    const kubeconfig = JSON.parse(await promiseOf(program.kubeconfig as pulumi.Output<string>)) as {
      users: { user: { exec: { command: string } } }[];
    };
    expect(kubeconfig.users[0]?.user.exec.command).toBe("gke-gcloud-auth-plugin");
  });
});
