// The platform program's kubeconfig variant on the real engine against the sandbox cluster: the committed
// platform/Pulumi.yaml (main ../dist/platform/index.js) comes up first, writes the cluster marker the gate's reader
// recognises, a second project reads its outputs through a StackReference, and destroying it removes the marker.
// Its up runs with the platform pack (platform/policy): advisory with the sandbox's config; the production config
// refuses the same stack (not protected) before the protected kinds exist.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_MARKER, PLATFORM_OUTPUTS } from "../../src/contract";
import { readMarker } from "../../src/evidence/cluster-marker-read";
import {
  createOrSelectInlineStack,
  createOrSelectProjectStack,
  ensureSandbox,
  kubectl,
  removeClusterMarker,
  REPO_ROOT,
  SANDBOX,
  tempBackend,
} from "./harness";

const STACK = "it-platform";
/** The platform pack as `npm run build` leaves it, and its committed per-stack configs. */
const PACK = path.join(REPO_ROOT, "platform", "policy");
const packConfig = (name: string) => path.join(PACK, "config", `${name}.json`);
const NAMESPACE = "it-platform-ns";
let backend: ReturnType<typeof tempBackend>;
let workDir: string;
let platform: Stack;

/** The committed platform-sandbox config, aimed at the sandbox kubeconfig and a namespace of the test's own. */
function sandboxPlatformConfig(): Record<string, string> {
  const doc = parse(
    fs.readFileSync(path.join(REPO_ROOT, "platform", "Pulumi.platform-sandbox.yaml"), "utf8"),
  ) as {
    config: Record<string, unknown>;
  };
  return {
    ...Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, String(v)])),
    "nova-platform:kubeconfigPath": SANDBOX.kubeconfig,
    "nova-platform:namespace": NAMESPACE,
  };
}

beforeAll(async () => {
  await ensureSandbox();
  expect(
    fs.existsSync(path.join(REPO_ROOT, "dist", "platform", "index.js")),
    "run `npm run build` first",
  ).toBe(true);
  backend = tempBackend("nova-platform-it-");
  // The committed project file in a directory of its own (stack files land there, not in the working tree), with
  // `dist` beside it exactly as in the repository, so `main: ../dist/platform/index.js` resolves as it does there.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "nova-platform-project-"));
  workDir = path.join(root, "platform");
  fs.mkdirSync(workDir);
  fs.copyFileSync(path.join(REPO_ROOT, "platform", "Pulumi.yaml"), path.join(workDir, "Pulumi.yaml"));
  fs.symlinkSync(path.join(REPO_ROOT, "dist"), path.join(root, "dist"));
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(root, "node_modules"));
  platform = await createOrSelectProjectStack({
    stackName: STACK,
    backendUrl: backend.url,
    workDir,
    config: sandboxPlatformConfig(),
  });
}, 900_000);

afterAll(async () => {
  try {
    await platform?.destroy();
  } finally {
    await removeClusterMarker();
    await kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false");
    backend?.cleanup();
  }
}, 900_000);

describe.sequential("the platform stack on the sandbox (clusterMode kubeconfig)", () => {
  it("is refused by the platform pack's production config: the sandbox platform is not protected", async () => {
    expect(
      fs.existsSync(path.join(REPO_ROOT, "dist", "platform-policy", "pack.js")),
      "run `npm run build`",
    ).toBe(true);
    let failure = "";
    try {
      await platform.up({ policyPacks: [PACK], policyPackConfigs: [packConfig("platform-production")] });
    } catch (err) {
      failure = String((err as Error).message);
    }
    expect(failure).toMatch(/mandatory/);
    expect(failure).toContain("nova-platform-protected");
    // The engine stops at the first stateful resource it would create unprotected (which one comes first varies).
    expect(failure).toMatch(
      /kubernetes:core\/v1:(ConfigMap|Namespace|ServiceAccount) nova-platform-\S+: is not protected/,
    );
    const state = (await platform.exportStack()).deployment as { resources?: { type: string }[] };
    const kinds = (state.resources ?? []).map((r) => r.type);
    for (const blocked of [
      "kubernetes:core/v1:ConfigMap",
      "kubernetes:core/v1:Namespace",
      "kubernetes:core/v1:ServiceAccount",
    ]) {
      expect(kinds).not.toContain(blocked);
    }
  });

  it("comes up with only Kubernetes resources and the outputs the release reads", async () => {
    // The sandbox's config: the same findings, advisory (the sandbox is thrown away, so it is not protected).
    const result = await platform.up({
      policyPacks: [PACK],
      policyPackConfigs: [packConfig("platform-sandbox")],
    });
    expect(result.summary.result).toBe("succeeded");
    expect(result.stdout).toMatch(/nova-platform-protected/);
    expect(result.stdout).toMatch(/advisory/);
    const outputs = result.outputs;
    expect(outputs[PLATFORM_OUTPUTS.environment]?.value).toBe("sandbox");
    expect(outputs[PLATFORM_OUTPUTS.namespace]?.value).toBe(NAMESPACE);
    expect(outputs[PLATFORM_OUTPUTS.kubeconfig]?.secret).toBe(true);
    expect(outputs[PLATFORM_OUTPUTS.marker]?.value).toEqual({
      namespace: CLUSTER_MARKER.namespace,
      name: CLUSTER_MARKER.name,
      environment: "sandbox",
    });
    const state = (await platform.exportStack()).deployment as { resources: { type: string }[] };
    const types = state.resources.map((r) => r.type);
    expect(types.filter((t) => /^(gcp|docker):|^pulumi:providers:(gcp|docker)$/.test(t))).toEqual([]);
    expect(types).toEqual(
      expect.arrayContaining([
        "kubernetes:core/v1:ConfigMap",
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:rbac.authorization.k8s.io/v1:Role",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
      ]),
    );
  });

  it("wrote the marker the gate's reader recognises, and the namespace and service account", async () => {
    expect(await readMarker({ kubeconfig: SANDBOX.kubeconfig, context: SANDBOX.context })).toEqual({
      status: "marked",
      environment: "sandbox",
    });
    expect(
      await kubectl(
        "get",
        "namespace",
        NAMESPACE,
        "-o",
        "jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}",
      ),
    ).toBe("restricted");
    expect(
      await kubectl(
        "-n",
        NAMESPACE,
        "get",
        "serviceaccount",
        "nova-rms",
        "-o",
        "jsonpath={.automountServiceAccountToken}",
      ),
    ).toBe("false");
  });

  it("is read by another project through a StackReference", async () => {
    const reader = await createOrSelectInlineStack(
      "nova-platform-reader",
      () => {
        const ref = new pulumi.StackReference(`organization/nova-platform/${STACK}`);
        return Promise.resolve({
          namespace: ref.getOutput(PLATFORM_OUTPUTS.namespace),
          marker: ref.getOutput(PLATFORM_OUTPUTS.marker),
          hasKubeconfig: ref
            .getOutput(PLATFORM_OUTPUTS.kubeconfig)
            .apply((k) => typeof k === "string" && k.length > 0),
        });
      },
      { stackName: "it-platform-reader", backendUrl: backend.url },
    );
    try {
      const result = await reader.up();
      expect(result.outputs.namespace?.value).toBe(NAMESPACE);
      expect((result.outputs.marker?.value as { environment: string }).environment).toBe("sandbox");
      expect(result.outputs.hasKubeconfig?.value).toBe(true);
    } finally {
      await reader.destroy();
    }
  });

  it("takes the marker away when destroyed", async () => {
    const result = await platform.destroy();
    expect(result.summary.result).toBe("succeeded");
    expect(await readMarker({ kubeconfig: SANDBOX.kubeconfig, context: SANDBOX.context })).toEqual({
      status: "unmarked",
    });
  });
});
