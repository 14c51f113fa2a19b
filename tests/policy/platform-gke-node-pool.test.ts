import { describe, expect, it } from "vitest";
import { gkeNodePool } from "../../platform/policy/policies";
import { judge, platformEnforcement } from "./platform-fixtures";

type Pool = { nodeConfig: Record<string, unknown>; management: Record<string, unknown> };
const TYPE = "gcp:container/nodePool:NodePool";
const run = (mutate?: (p: Pool) => void) => judge<Pool>(gkeNodePool, TYPE, mutate);
const sub = (p: Pool, key: string) => p.nodeConfig[key] as Record<string, unknown>;

describe("nova-platform-gke-node-pool", () => {
  it("passes the node pool GkeCluster registers", async () => {
    expect((await run()).messages).toEqual([]);
  });

  describe.each<[string, (p: Pool) => void, RegExp]>([
    [
      "the node's metadata server exposed to pods",
      (p) => (sub(p, "workloadMetadataConfig")["mode"] = "GCE_METADATA"),
      /workloadMetadataConfig\.mode is "GCE_METADATA"/,
    ],
    ["no workload metadata config", (p) => delete p.nodeConfig["workloadMetadataConfig"], /mode is unset/],
    [
      "secure boot off",
      (p) => (sub(p, "shieldedInstanceConfig")["enableSecureBoot"] = false),
      /enableSecureBoot is not true/,
    ],
    [
      "integrity monitoring off",
      (p) => delete sub(p, "shieldedInstanceConfig")["enableIntegrityMonitoring"],
      /enableIntegrityMonitoring is not true/,
    ],
    [
      "legacy metadata endpoints on",
      (p) => delete p.nodeConfig["metadata"],
      /disable-legacy-endpoints"\] is unset/,
    ],
    [
      "no service account (the Compute default)",
      (p) => delete p.nodeConfig["serviceAccount"],
      /serviceAccount is unset/,
    ],
    [
      "the Compute default account by name",
      (p) => (p.nodeConfig["serviceAccount"] = "123456-compute@developer.gserviceaccount.com"),
      /is the Compute default account/,
    ],
    ["auto-repair off", (p) => (p.management["autoRepair"] = false), /management\.autoRepair is not true/],
    ["auto-upgrade off", (p) => delete p.management["autoUpgrade"], /management\.autoUpgrade is not true/],
  ])("blocks %s", (_label, mutate, expected) => {
    it("reports it with the fix", async () => {
      const out = await run(mutate);
      expect(out.messages).toHaveLength(1);
      expect(out.messages[0]).toMatch(/^GKE node pool nova-platform-fixture: /);
      expect(out.messages[0]).toMatch(expected);
      expect(out.messages[0]).toMatch(/Fix: restore the setting in platform\/components\/gke-cluster\.ts/);
    });
  });

  it("is mandatory on platform-production and advisory on platform-sandbox", () => {
    expect(platformEnforcement(gkeNodePool, "platform-production")).toBe("mandatory");
    expect(platformEnforcement(gkeNodePool, "platform-sandbox")).toBe("advisory");
  });
});
