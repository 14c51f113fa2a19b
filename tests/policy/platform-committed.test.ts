// The whole platform program on the committed platform-production stack file, under mocks: every resource it
// registers, with its inputs and its protect option, judged by every policy of the platform pack with the committed
// production config. The committed platform passes; the same run with protection off is refused.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { platformPolicies } from "../../platform/policy/policies";
import { installMocks, promiseOf, settle, type MockState } from "../unit/support/mocks";
import { recordProtect, stackFileConfig } from "../unit/platform/support";
import { runResourcePolicy } from "./harness";
import { PLATFORM_PROJECT, PLATFORM_STACK, platformPolicyConfig } from "./platform-fixtures";

let mocks: MockState;
let wire: Map<string, boolean>;

beforeAll(async () => {
  pulumi.runtime.setAllConfig(stackFileConfig(PLATFORM_STACK), []);
  mocks = installMocks({
    project: PLATFORM_PROJECT,
    stack: PLATFORM_STACK,
    outputs: {
      "gcp:serviceaccount/account:Account": (i) => ({
        email: `${String(i.accountId)}@${String(i.project)}.iam.gserviceaccount.com`,
        name: `projects/${String(i.project)}/serviceAccounts/${String(i.accountId)}`,
      }),
      "gcp:storage/bucket:Bucket": (i) => ({ name: i.name }),
    },
  });
  wire = recordProtect();
  const program = (await import("../../platform/index")) as { kubeconfig: pulumi.Output<string> };
  await promiseOf(program.kubeconfig);
  await settle();
});

/** Every violation of every platform policy over the registered resources (protect as recorded, or `protect`). */
async function violations(protect?: boolean): Promise<string[]> {
  const out: string[] = [];
  const custom = mocks.resources.filter((r) => !r.type.startsWith("nova:"));
  for (const policy of platformPolicies) {
    if (!("validateResource" in policy)) continue;
    for (const r of custom) {
      const result = await runResourcePolicy(policy, {
        type: r.type,
        name: r.name,
        props: r.inputs,
        urn: `urn:pulumi:${PLATFORM_STACK}::${PLATFORM_PROJECT}::${r.type}::${r.name}`,
        config: platformPolicyConfig(policy, "platform-production"),
        opts: { protect: protect ?? wire.get(r.name) === true },
      });
      out.push(...result.messages.map((m) => `${policy.name}: ${m}`));
    }
  }
  return out;
}

describe("the committed platform under the platform pack's production config", () => {
  it("registers the resources each policy judges", () => {
    for (const type of [
      "gcp:container/cluster:Cluster",
      "gcp:container/nodePool:NodePool",
      "gcp:artifactregistry/repository:Repository",
      "gcp:storage/bucket:Bucket",
      "gcp:secretmanager/secretIamMember:SecretIamMember",
      "gcp:serviceaccount/iAMMember:IAMMember",
      "kubernetes:core/v1:ConfigMap",
      "kubernetes:core/v1:Namespace",
    ]) {
      expect([type, mocks.byType(type).length > 0]).toEqual([type, true]);
    }
  });

  it("passes every policy", async () => {
    expect(await violations()).toEqual([]);
  });

  it("is refused with protection off, on every stateful resource", async () => {
    const found = await violations(false);
    expect(found.length).toBeGreaterThanOrEqual(10);
    expect(found.every((v) => v.startsWith("nova-platform-protected: "))).toBe(true);
    expect(found).toContainEqual(expect.stringMatching(/gcp:container\/cluster:Cluster .* is not protected/));
  });
});
