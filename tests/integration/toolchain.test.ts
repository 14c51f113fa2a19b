// Smoke test of the offline toolchain and the sandbox: real engine, real plugins, real (kwok-backed) cluster.
import * as k8s from "@pulumi/kubernetes";
import * as command from "@pulumi/command";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  SANDBOX,
  createOrSelectInlineStack,
  ensureSandbox,
  kubectl,
  pulumiSync,
  REPO_ROOT,
  requireToolchainOrThrow,
  sandboxImageDigests,
  tempBackend,
} from "./harness";
import { readVersions } from "../../tools/toolchain";

describe("offline toolchain and sandbox", () => {
  const versions = readVersions(REPO_ROOT);

  beforeAll(async () => {
    requireToolchainOrThrow();
    await ensureSandbox();
  });

  it("runs the pinned Pulumi CLI", () => {
    expect(pulumiSync(["version"]).trim()).toBe(`v${versions.PULUMI_VERSION}`);
  });

  it("has the pinned plugins installed", () => {
    const plugins = JSON.parse(pulumiSync(["plugin", "ls", "--json"])) as {
      name: string;
      kind: string;
      version: string;
    }[];
    const have = plugins.map((p) => `${p.kind}/${p.name}@${p.version}`);
    expect(have).toContain(`resource/kubernetes@${versions.K8S_PROVIDER_VERSION}`);
    expect(have).toContain(`resource/command@${versions.COMMAND_PROVIDER_VERSION}`);
  });

  it("talks to a v1.34.4 API server with Ready nodes", async () => {
    const version = JSON.parse(await kubectl("get", "--raw", "/version")) as { gitVersion: string };
    expect(version.gitVersion).toBe(`v${versions.KUBERNETES_VERSION}`);
    const nodes = JSON.parse(await kubectl("get", "nodes", "-o", "json")) as {
      items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[];
    };
    const ready = nodes.items
      .filter((n) => n.status.conditions.some((c) => c.type === "Ready" && c.status === "True"))
      .map((n) => n.metadata.name);
    expect(ready).toEqual(expect.arrayContaining([...SANDBOX.nodes]));
  });

  describe("a Deployment created with kubectl", () => {
    const ns = `smoke-${process.pid}`;
    afterAll(async () => {
      await kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found");
    });

    it("becomes available", async () => {
      await kubectl("create", "namespace", ns);
      await kubectl(
        "-n",
        ns,
        "create",
        "deployment",
        "smoke",
        "--image",
        "127.0.0.1:35000/nova/nova-rms-api:sandbox",
        "--replicas",
        "2",
      );
      await kubectl("-n", ns, "rollout", "status", "deployment/smoke", "--timeout=120s");
      const dep = JSON.parse(await kubectl("-n", ns, "get", "deployment", "smoke", "-o", "json")) as {
        status: { availableReplicas?: number };
      };
      expect(dep.status.availableReplicas).toBe(2);
    });
  });

  it("serves the sandbox images from the registry with the expected digests", async () => {
    const digests = sandboxImageDigests();
    for (const [repo, digest] of [
      ["nova-rms-api", digests.api],
      ["nova-rms-worker", digests.worker],
    ] as const) {
      const res = await fetch(`http://${SANDBOX.registry}/v2/nova/${repo}/manifests/sandbox`, {
        method: "HEAD",
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("docker-content-digest")).toBe(digest);
    }
  });

  it("runs an inline program with a local Command and a ConfigMap through an explicit provider", async () => {
    const backend = tempBackend();
    const ns = `smoke-inline-${process.pid}`;
    try {
      const stack = await createOrSelectInlineStack(
        "nova-toolchain-smoke",
        () => {
          const provider = new k8s.Provider("sandbox", {
            kubeconfig: SANDBOX.kubeconfig,
            context: SANDBOX.context,
          });
          const namespace = new k8s.core.v1.Namespace("ns", { metadata: { name: ns } }, { provider });
          const hello = new command.local.Command("hello", {
            create: "printf 'hello %s' \"$WHO\"",
            environment: { WHO: "sandbox" },
          });
          const cm = new k8s.core.v1.ConfigMap(
            "smoke",
            { metadata: { namespace: namespace.metadata.name }, data: { greeting: hello.stdout } },
            { provider },
          );
          return Promise.resolve({ greeting: hello.stdout, configMap: cm.metadata.name });
        },
        { stackName: "smoke", backendUrl: backend.url },
      );
      const up = await stack.up();
      expect(up.summary.result).toBe("succeeded");
      expect(up.outputs.greeting?.value).toBe("hello sandbox");
      const data = JSON.parse(
        await kubectl("-n", ns, "get", "configmap", String(up.outputs.configMap?.value), "-o", "json"),
      ) as { data: Record<string, string> };
      expect(data.data.greeting).toBe("hello sandbox");
      const destroy = await stack.destroy();
      expect(destroy.summary.result).toBe("succeeded");
      await stack.workspace.removeStack("smoke");
    } finally {
      backend.cleanup();
    }
  });
});
