import { describe, expect, it } from "vitest";
import { gkeCluster } from "../../platform/policy/policies";
import { UNKNOWN } from "./harness";
import { judge, platformEnforcement } from "./platform-fixtures";

type Cluster = Record<string, Record<string, unknown>>;
const TYPE = "gcp:container/cluster:Cluster";
const run = (mutate?: (c: Cluster) => void) => judge<Cluster>(gkeCluster, TYPE, mutate);

describe("nova-platform-gke-cluster", () => {
  it("passes the cluster GkeCluster registers", async () => {
    expect((await run()).messages).toEqual([]);
  });

  describe.each<[string, (c: Cluster) => void, RegExp]>([
    ["Workload Identity off", (c) => delete c["workloadIdentityConfig"], /workloadPool is unset/],
    [
      "a workload pool of another kind",
      (c) => (c["workloadIdentityConfig"] = { workloadPool: "nova-prod" }),
      /workloadPool is "nova-prod"/,
    ],
    [
      "the legacy datapath",
      (c) => delete c["datapathProvider"],
      /datapathProvider is unset; set it to "ADVANCED_DATAPATH"/,
    ],
    [
      "the legacy datapath by name",
      (c) => ((c as Record<string, unknown>)["datapathProvider"] = "LEGACY_DATAPATH"),
      /datapathProvider is "LEGACY_DATAPATH"/,
    ],
    ["no release channel", (c) => delete c["releaseChannel"], /releaseChannel\.channel is unset/],
    [
      "release channel UNSPECIFIED",
      (c) => (c["releaseChannel"] = { channel: "UNSPECIFIED" }),
      /releaseChannel\.channel is "UNSPECIFIED"/,
    ],
    ["no maintenance window", (c) => delete c["maintenancePolicy"], /maintenancePolicy is unset/],
    [
      "public nodes",
      (c) => ((c["privateClusterConfig"] as Record<string, unknown>)["enablePrivateNodes"] = false),
      /enablePrivateNodes is not true/,
    ],
    ["shielded nodes off", (c) => delete c["enableShieldedNodes"], /enableShieldedNodes is not true/],
    [
      "legacy ABAC on",
      (c) => ((c as Record<string, unknown>)["enableLegacyAbac"] = true),
      /enableLegacyAbac is true/,
    ],
    [
      "basic auth",
      (c) =>
        (c["masterAuth"] = {
          username: "admin",
          password: "x",
          clientCertificateConfig: { issueClientCertificate: false },
        }),
      /remove basic auth/,
    ],
    [
      "client certificates",
      (c) => (c["masterAuth"] = { clientCertificateConfig: { issueClientCertificate: true } }),
      /issueClientCertificate is true/,
    ],
    [
      "deletion protection off",
      (c) => ((c as Record<string, unknown>)["deletionProtection"] = false),
      /deletionProtection is false/,
    ],
    [
      "a datapath unknown during preview",
      (c) => ((c as Record<string, unknown>)["datapathProvider"] = UNKNOWN),
      /datapathProvider is unknown during preview/,
    ],
  ])("blocks %s", (_label, mutate, expected) => {
    it("reports it with the fix", async () => {
      const out = await run(mutate);
      expect(out.messages).toHaveLength(1);
      expect(out.messages[0]).toMatch(/^GKE cluster nova-prod: /);
      expect(out.messages[0]).toMatch(expected);
      expect(out.messages[0]).toMatch(/Fix: restore the setting in platform\/components\/gke-cluster\.ts/);
    });
  });

  it("lists every missing setting in one violation", async () => {
    const out = await run((c) => {
      delete c["workloadIdentityConfig"];
      delete c["datapathProvider"];
    });
    expect(out.messages).toHaveLength(1);
    expect(out.messages[0]).toMatch(/workloadPool is unset; .*datapathProvider is unset/);
  });

  it("ignores other types", async () => {
    expect((await judge(gkeCluster, "gcp:container/nodePool:NodePool", () => undefined)).messages).toEqual(
      [],
    );
  });

  it("is mandatory on platform-production and advisory on platform-sandbox", () => {
    expect(platformEnforcement(gkeCluster, "platform-production")).toBe("mandatory");
    expect(platformEnforcement(gkeCluster, "platform-sandbox")).toBe("advisory");
  });
});
