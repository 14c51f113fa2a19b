// The release on a platform stack (nova-rollout:platformStack), under mocks: the StackReference's outputs are checked
// against the release's own config before anything uses them (the refusal of another platform's stack is proven on
// the engine, tests/integration/platform-release.test.ts), and the release patches the platform's namespace instead
// of creating one.
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, isSecret, promiseOf, settle, type MockState } from "../support/mocks";

const GOOD = "organization/nova-platform/platform-production";
const PLATFORMS: Record<string, Record<string, unknown>> = {
  [GOOD]: {
    environment: "production",
    namespace: "nova-prod",
    clusterName: "nova-prod",
    workloadServiceAccount: "nova-rms",
    kubeconfig: "apiVersion: v1 # the platform's cluster",
  },
};

let mocks: MockState;
let components: typeof import("../../../components");

beforeAll(async () => {
  mocks = installMocks({
    outputs: {
      "pulumi:pulumi:StackReference": (inputs) => ({
        outputs: PLATFORMS[String(inputs["name"])] ?? {},
        secretOutputNames: ["kubeconfig"],
      }),
    },
  });
  components = await import("../../../components");
});

const expectation = { namespace: "nova-prod", environment: "production", clusterName: "nova-prod" };

describe("platformMismatches", () => {
  it.each<[string, Record<string, unknown>, RegExp | undefined]>([
    ["the same namespace, environment and cluster", PLATFORMS[GOOD] ?? {}, undefined],
    [
      "another namespace",
      { ...PLATFORMS[GOOD], namespace: "nova-other" },
      /output namespace is "nova-other", but nova-rollout:namespace is nova-prod/,
    ],
    [
      "another environment",
      { ...PLATFORMS[GOOD], environment: "sandbox" },
      /output environment is "sandbox", but nova-rollout:environment is production/,
    ],
    [
      "another cluster",
      { ...PLATFORMS[GOOD], clusterName: "nova-dev" },
      /output clusterName is "nova-dev", but nova-rollout:gkeClusterName is nova-prod/,
    ],
    ["a stack with no outputs", {}, /has no output namespace \(is it a nova-platform stack that is up\?\)/],
    [
      "no service account",
      { ...PLATFORMS[GOOD], workloadServiceAccount: "" },
      /has no output workloadServiceAccount/,
    ],
  ])("%s", (_what, facts, problem) => {
    const found = components.platformMismatches(GOOD, facts, expectation).join("\n");
    if (problem === undefined) expect(found).toBe("");
    else expect(found).toMatch(problem);
  });
});

describe("PlatformStack", () => {
  it("hands out the platform's kubeconfig (secret), namespace and service account once they match", async () => {
    const p = new components.PlatformStack("nova", { stack: GOOD, expect: expectation });
    expect(await promiseOf(p.namespace)).toBe("nova-prod");
    expect(await promiseOf(p.workloadServiceAccount)).toBe("nova-rms");
    expect(await promiseOf(p.kubeconfig)).toContain("the platform's cluster");
    expect(await isSecret(p.kubeconfig)).toBe(true);
    await settle();
    expect(mocks.byType("pulumi:pulumi:StackReference").map((r) => r.inputs["name"])).toContain(GOOD);
  });
});

describe("a release on the platform's namespace and service account", () => {
  it("patches the namespace with its record instead of creating (or protecting) it", async () => {
    const ns = new components.ReleaseNamespace("onplatform", {
      name: "nova-prod",
      ownedByPlatform: true,
      environment: "production",
      release: "2026.12.1",
      digests: { api: `sha256:${"a".repeat(64)}`, worker: `sha256:${"b".repeat(64)}` },
      protect: true,
    });
    expect(await promiseOf(ns.name)).toBe("nova-prod");
    await settle();
    const patch = mocks.named("onplatform-namespace");
    expect(patch.type).toBe("kubernetes:core/v1:NamespacePatch");
    expect(patch.inputs).toMatchObject({
      metadata: {
        name: "nova-prod",
        annotations: { "rollout.nova.dev/release": "2026.12.1" },
        labels: { "pod-security.kubernetes.io/enforce": "restricted" },
      },
    });
  });
});
