// Bootstrap order on the real engine, production-shaped: the platform stack (the committed platform/Pulumi.yaml, its
// kubeconfig variant, marker `production`) comes up first on the sandbox cluster, under its own pack
// (platform/policy) with the production config; the release stack names it
// (`nova-rollout:platformStack`), is recognised as production by the marker the platform wrote, reads the platform's
// namespace and service account through a StackReference and deploys there with the committed production
// enforcement; a release that names the platform with another namespace is stopped before any Kubernetes object;
// destroying the release leaves the platform's namespace, service account and marker in place.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_MARKER, RELEASE_ANNOTATIONS } from "../../src/contract";
import { classifyStackFile } from "../../src/evidence";
import { readMarker } from "../../src/evidence/cluster-marker-read";
import {
  createOrSelectProjectStack,
  kubectl,
  removeClusterMarker,
  REPO_ROOT,
  SANDBOX,
  sandboxImageDigests,
} from "./harness";
import { ProductionWorld } from "./production-world";
import { destroyStacks } from "./protect";
import { deployments as deploymentsOf, stateResources } from "./scenario";

const NS = "it-plat-prod";
const PLATFORM = "it-platform-prod";
const STACK = "it-plat-release";
const PLATFORM_REF = `organization/nova-platform/${PLATFORM}`;

let world: ProductionWorld;
let platform: Stack;
let release: Stack;

beforeAll(async () => {
  world = await ProductionWorld.create("nova-plat-release-it-", [NS, "it-plat-other"]);
  // The committed platform project in a directory of its own, `dist` beside it as in the repository.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "nova-plat-project-"));
  const workDir = path.join(root, "platform");
  fs.mkdirSync(workDir);
  fs.copyFileSync(path.join(REPO_ROOT, "platform", "Pulumi.yaml"), path.join(workDir, "Pulumi.yaml"));
  fs.symlinkSync(path.join(REPO_ROOT, "dist"), path.join(root, "dist"));
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(root, "node_modules"));
  const committed = parse(
    fs.readFileSync(path.join(REPO_ROOT, "platform", "Pulumi.platform-sandbox.yaml"), "utf8"),
  ) as { config: Record<string, unknown> };
  platform = await createOrSelectProjectStack({
    stackName: PLATFORM,
    backendUrl: world.backendUrl,
    workDir,
    config: {
      ...Object.fromEntries(Object.entries(committed.config).map(([k, v]) => [k, String(v)])),
      // A production-shaped cluster: the marker says production, and a production platform is protected.
      "nova-platform:environment": "production",
      "nova-platform:protect": "true",
      "nova-platform:kubeconfigPath": SANDBOX.kubeconfig,
      "nova-platform:namespace": NS,
    },
  });
}, 900_000);

afterAll(async () => {
  try {
    await world?.dispose();
    if (platform !== undefined) await destroyStacks([platform], path.dirname(platform.workspace.workDir));
  } finally {
    await removeClusterMarker();
    await kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=false");
  }
}, 900_000);

const namespaceAnnotation = (key: string) =>
  kubectl("get", "namespace", NS, "-o", `jsonpath={.metadata.annotations.${key.replace(/\./g, "\\.")}}`);

describe.sequential("platform up → release preflight → release up, on the platform's stack", () => {
  it("the platform comes up first, passing its own pack with the production config, and marks the cluster production", async () => {
    const pack = path.join(REPO_ROOT, "platform", "policy");
    const up = await platform.up({
      policyPacks: [pack],
      policyPackConfigs: [path.join(pack, "config", "platform-production.json")],
    });
    expect(up.summary.result).toBe("succeeded");
    // The pack ran (its name is in the policy summary) and found nothing on the committed platform.
    expect(up.stdout).toContain("nova-platform");
    expect(up.stdout).not.toMatch(/mandatory|advisory/);
    expect(await readMarker({ kubeconfig: SANDBOX.kubeconfig, context: SANDBOX.context })).toEqual({
      status: "marked",
      environment: "production",
    });
  });

  it("a release naming the platform with another namespace is stopped before any Kubernetes object", async () => {
    const other = await world.projectStack(
      "it-plat-other",
      world.prodConfig("it-plat-other", { platformStack: PLATFORM_REF }),
    );
    const preview = await world.run("pulumi", ["preview", "--stack", "it-plat-other", "--non-interactive"]);
    expect(preview.code, preview.out).not.toBe(0);
    expect(preview.out).toContain(
      `The platform stack ${PLATFORM_REF} is not this release's: ${PLATFORM_REF} output namespace is "${NS}", but nova-rollout:namespace is it-plat-other`,
    );
    expect((await stateResources(other)).filter((r) => r.type.startsWith("kubernetes:"))).toEqual([]);
  });

  it("the release reads the platform by StackReference and deploys into its namespace as its service account", async () => {
    release = await world.projectStack(STACK, world.prodConfig(NS, { platformStack: PLATFORM_REF }));
    // Unready, a plain `pulumi up` (no CLI, no pack) changes nothing on the platform's namespace either.
    const plain = await world.run("pulumi", ["up", "--stack", STACK, "--yes", "--non-interactive"]);
    expect(plain.code, plain.out).not.toBe(0);
    expect(plain.out).toMatch(/Stack it-plat-release is production .*not ready to roll out/);
    expect((await stateResources(release)).filter((r) => r.type.startsWith("kubernetes:"))).toEqual([]);
    expect(await namespaceAnnotation(RELEASE_ANNOTATIONS.release)).toBe("");

    const digests = sandboxImageDigests();
    await world.ready(world.evidence(STACK), "sandbox", digests);
    const up = await world.rollout(["up", "--stack", STACK], {
      NOVA_OPERATOR: world.sre.name,
      NOVA_SSH_KEY_FILE: world.sre.keyFile,
    });
    expect(up.code, up.out).toBe(0);
    // Judged as production by what the platform wrote on the cluster, not only by the stack's label.
    expect(classifyStackFile(world.checkout, STACK).protectedTargets).toContain(
      `a cluster its marker ${CLUSTER_MARKER.namespace}/${CLUSTER_MARKER.name} says is production`,
    );

    const types = (await stateResources(release)).map((r) => r.type);
    expect(types).toContain("pulumi:pulumi:StackReference");
    expect(types).toContain("kubernetes:core/v1:NamespacePatch");
    expect(types).not.toContain("kubernetes:core/v1:Namespace");
    expect(types).not.toContain("kubernetes:core/v1:ServiceAccount");
    expect(await namespaceAnnotation(RELEASE_ANNOTATIONS.apiDigest)).toBe(digests.api);
    const deployments = await deploymentsOf(NS);
    expect(Object.keys(deployments).sort()).toEqual(["nova-api", "nova-worker"]);
    expect(
      await kubectl(
        "-n",
        NS,
        "get",
        "deployment",
        "nova-api",
        "-o",
        "jsonpath={.spec.template.spec.serviceAccountName}",
      ),
    ).toBe("nova-rms");
  });

  it("destroying the release leaves the platform intact", async () => {
    await destroyStacks([release], world.checkout);
    expect((await kubectl("get", "namespace", NS, "-o", "name")).trim()).toBe(`namespace/${NS}`);
    expect((await kubectl("-n", NS, "get", "serviceaccount", "nova-rms", "-o", "name")).trim()).toBe(
      "serviceaccount/nova-rms",
    );
    expect(await namespaceAnnotation(RELEASE_ANNOTATIONS.release)).toBe("");
    expect(
      await kubectl(
        "get",
        "namespace",
        NS,
        "-o",
        "jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}",
      ),
    ).toBe("restricted");
    expect(Object.keys(await deploymentsOf(NS))).toEqual([]);
    expect(await readMarker({ kubeconfig: SANDBOX.kubeconfig, context: SANDBOX.context })).toEqual({
      status: "marked",
      environment: "production",
    });
    expect((await platform.preview()).changeSummary).toEqual({ same: expect.any(Number) as number });
  });
});
