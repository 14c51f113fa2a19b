import { describe, expect, it } from "vitest";
import { clusterMarker } from "../../platform/policy/policies";
import { judge, platformEnforcement } from "./platform-fixtures";

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";

describe("nova-platform-cluster-marker", () => {
  it.each([CONFIG_MAP, ROLE, BINDING])("passes the %s ClusterMarker registers", async (type) => {
    expect((await judge(clusterMarker, type)).messages).toEqual([]);
  });

  it.each(["sandbox", "staging"])("passes a marker saying %s", async (env) => {
    const out = await judge<Obj>(clusterMarker, CONFIG_MAP, (m) => (m["data"] = { environment: env }));
    expect(out.messages).toEqual([]);
  });

  describe.each<[string, string, (o: Obj) => void, RegExp]>([
    [
      "a marker with no environment",
      CONFIG_MAP,
      (m) => (m["data"] = { stack: "x" }),
      /ConfigMap kube-public\/nova-platform: data\.environment is unset/,
    ],
    [
      "a marker saying prod",
      CONFIG_MAP,
      (m) => (m["data"] = { environment: "prod" }),
      /data\.environment is "prod"; it must be sandbox, staging or production/,
    ],
    [
      "a reader Role granting list",
      ROLE,
      (r) =>
        (r["rules"] = [
          {
            apiGroups: [""],
            resources: ["configmaps"],
            resourceNames: ["nova-platform"],
            verbs: ["get", "list"],
          },
        ]),
      /Role kube-public\/nova-platform-reader: rules are .*grants only get on configmaps\/nova-platform/,
    ],
    [
      "a reader Role over every ConfigMap",
      ROLE,
      (r) => (r["rules"] = [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }]),
      /grants only get/,
    ],
    [
      "the marker readable without authentication",
      BINDING,
      (b) => (b["subjects"] = [{ kind: "Group", name: "system:unauthenticated" }]),
      /RoleBinding kube-public\/nova-platform-reader: subjects are .*only the group system:authenticated/,
    ],
    [
      "a ClusterRole bound to the readers",
      BINDING,
      (b) => (b["roleRef"] = { kind: "ClusterRole", name: "view" }),
      /roleRef\.kind is "ClusterRole"/,
    ],
  ])("blocks %s", (_label, type, mutate, expected) => {
    it("reports it with the fix", async () => {
      const out = await judge<Obj>(clusterMarker, type, mutate);
      expect(out.messages).toHaveLength(1);
      expect(out.messages[0]).toMatch(expected);
      expect(out.messages[0]).toMatch(/Fix: restore platform\/components\/cluster-marker\.ts/);
    });
  });

  it("leaves other ConfigMaps and Roles alone", async () => {
    const other = (o: Obj) => {
      o.metadata["name"] = "something-else";
      o["data"] = {};
      o["rules"] = [];
    };
    expect((await judge<Obj>(clusterMarker, CONFIG_MAP, other)).messages).toEqual([]);
    expect((await judge<Obj>(clusterMarker, ROLE, other)).messages).toEqual([]);
  });

  it("is mandatory on platform-production and advisory on platform-sandbox", () => {
    expect(platformEnforcement(clusterMarker, "platform-production")).toBe("mandatory");
    expect(platformEnforcement(clusterMarker, "platform-sandbox")).toBe("advisory");
  });
});
