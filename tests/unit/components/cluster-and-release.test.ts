import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { podSecurityLabelProblems } from "../../../policy/policies/namespace-pod-security";
import { installMocks, isSecret, Marker, promiseOf, settle, type MockState } from "../support/mocks";

type Labels = Record<string, string>;

let mocks: MockState;
let cluster: typeof import("../../../components/cluster-connection");
let release: typeof import("../../../components");

beforeAll(async () => {
  mocks = installMocks();
  cluster = await import("../../../components/cluster-connection");
  release = await import("../../../components");
});

describe("ClusterConnection", () => {
  it("builds an explicit provider from a kubeconfig and context, kubeconfig kept secret", async () => {
    const c = new cluster.ClusterConnection("kc", {
      mode: "kubeconfig",
      kubeconfig: "apiVersion: v1",
      context: "sandbox",
    });
    expect(await isSecret(c.kubeconfig)).toBe(true);
    await settle();
    const p = mocks.named("kc-k8s");
    expect(p.type).toBe("pulumi:providers:kubernetes");
    expect(p.inputs).toMatchObject({ context: "sandbox" });
    expect(mocks.byType("gcp:container/cluster:Cluster")).toEqual([]);
  });

  it("creates a protected GKE cluster and node pool in gke mode", async () => {
    const c = new cluster.ClusterConnection("g", {
      mode: "gke",
      project: "nova-prod",
      region: "us-central1",
      clusterName: "nova-prod",
      nodeCount: 3,
      machineType: "e2-standard-4",
    });
    const kubeconfig = JSON.parse(await promiseOf(c.kubeconfig)) as {
      clusters: { cluster: { server: string } }[];
    };
    expect(kubeconfig.clusters[0]?.cluster.server).toBe("https://10.0.0.1");
    await settle();
    expect(mocks.named("g-gke").inputs).toMatchObject({
      project: "nova-prod",
      location: "us-central1",
      removeDefaultNodePool: true,
      // The chart's NetworkPolicies are enforced: Dataplane V2, no Calico add-on.
      datapathProvider: "ADVANCED_DATAPATH",
    });
    expect(mocks.named("g-gke").inputs).not.toHaveProperty("networkPolicy");
    expect(mocks.named("g-gke-nodes").inputs).toMatchObject({ nodeCount: 3 });
  });
});

describe("NovaRelease and ReleaseNamespace", () => {
  const args = {
    chartPath: "/repo/charts/nova-stack",
    valuesFiles: ["/repo/charts/nova-stack/values-production.yaml"],
    namespace: "nova-prod",
    environment: "production" as const,
    imageRegistry: "us-docker.pkg.dev/nova-prod/nova",
    release: "2026.11.3",
    images: {
      api: { repository: "nova-rms-api", digest: pulumi.output("sha256:a") },
      worker: { repository: "nova-rms-worker", digest: "sha256:b" },
    },
    scaling: {
      autoscalingEnabled: true,
      targetCpuPercent: 65,
      api: { replicas: 3, maxReplicas: 10 },
      worker: { replicas: 2, maxReplicas: 6 },
    },
    secretName: "nova-app-secrets",
    secretChecksum: "abc",
  };

  it("renders the chart with the digests, scaling and secrets checksum, after its dependencies", async () => {
    const before = new Marker("dump");
    new release.NovaRelease("rel", args, { dependsOn: [before] });
    await settle();
    const chart = mocks.named("rel-release");
    expect(chart.type).toBe("kubernetes:helm.sh/v4:Chart");
    expect(chart.inputs).toMatchObject({
      chart: "/repo/charts/nova-stack",
      namespace: "nova-prod",
      skipAwait: false,
    });
    expect(chart.inputs.values).toEqual({
      environment: "production",
      imageRegistry: "us-docker.pkg.dev/nova-prod/nova",
      release: "2026.11.3",
      api: {
        image: { repository: "nova-rms-api", digest: "sha256:a" },
        replicas: 3,
        autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 10, targetCPUUtilizationPercentage: 65 },
      },
      worker: {
        image: { repository: "nova-rms-worker", digest: "sha256:b" },
        replicas: 2,
        autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 65 },
      },
      secrets: { existingSecret: "nova-app-secrets", checksum: "abc" },
      // Every object is applied with patchForce: a field changed by hand never fails the next release.
      commonAnnotations: { "pulumi.com/patchForce": "true" },
    });
  });

  it("runs the workloads as the platform's service account, creating none, when the platform owns it", () => {
    expect(release.releaseValues(args)).not.toHaveProperty("serviceAccount");
    expect(release.releaseValues({ ...args, serviceAccount: "nova-rms" })["serviceAccount"]).toEqual({
      create: false,
      name: "nova-rms",
    });
  });

  it("leaves the keys it passes out of values-production.yaml (the stack config is the one source of truth)", () => {
    const chartDir = path.resolve(__dirname, "../../../charts/nova-stack");
    const prod = parse(fs.readFileSync(release.valuesFileFor(chartDir, "production"), "utf8")) as Record<
      string,
      unknown
    >;
    const passed = release.releaseValues(args);
    for (const component of ["api", "worker"] as const) {
      const inFile = (prod[component] ?? {}) as Record<string, unknown>;
      const fromProgram = Object.keys(passed[component] as Record<string, unknown>).filter(
        (k) => k !== "image",
      );
      expect(fromProgram).toEqual(expect.arrayContaining(["replicas", "autoscaling"]));
      for (const key of fromProgram) {
        expect(
          inFile,
          `values-production.yaml ${component}.${key} is overridden by the program`,
        ).not.toHaveProperty(key);
      }
    }
  });

  it.each([
    ["production", "/c/values-production.yaml"],
    ["staging", "/c/values-staging.yaml"],
    ["sandbox", "/c/values-staging.yaml"],
  ] as const)("uses the %s values file", (environment, file) => {
    expect(release.valuesFileFor("/c/", environment)).toBe(file);
  });

  it("never skips the rollout await in production", () => {
    expect(() => new release.NovaRelease("skip", { ...args, skipAwait: true })).toThrow(/always awaited/);
  });

  it("records the release on the namespace annotations", async () => {
    const ns = new release.ReleaseNamespace("rec", {
      name: "nova-prod",
      environment: "production",
      release: "2026.11.3",
      digests: { api: "sha256:a", worker: "sha256:b" },
    });
    expect(await promiseOf(ns.name)).toBe("nova-prod");
    await settle();
    const n = mocks.named("rec-namespace");
    expect(n.type).toBe("kubernetes:core/v1:Namespace");
    expect((n.inputs.metadata as { annotations: Record<string, string> }).annotations).toEqual({
      "rollout.nova.dev/release": "2026.11.3",
      "rollout.nova.dev/api-digest": "sha256:a",
      "rollout.nova.dev/worker-digest": "sha256:b",
      "rollout.nova.dev/environment": "production",
    });
  });

  it.each(["production", "staging", "sandbox"] as const)(
    "labels the %s namespace to enforce the restricted Pod Security Standard at latest",
    async (environment) => {
      const ns = new release.ReleaseNamespace(`psa-${environment}`, {
        name: `nova-${environment}`,
        environment,
        release: "2026.11.3",
        digests: { api: "sha256:a", worker: "sha256:b" },
      });
      await promiseOf(ns.name);
      await settle();
      const labels = (mocks.named(`psa-${environment}-namespace`).inputs.metadata as { labels: Labels })
        .labels;
      expect(labels).toMatchObject({
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
      });
      // The policy that guards the namespace in production accepts what the component writes.
      expect(podSecurityLabelProblems(labels)).toEqual([]);
    },
  );
});
