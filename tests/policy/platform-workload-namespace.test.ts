import { describe, expect, it } from "vitest";
import { workloadNamespace } from "../../platform/policy/policies";
import { judge, platformEnforcement } from "./platform-fixtures";

type Obj = Record<string, unknown> & { metadata: { labels?: Record<string, unknown> } };
const NAMESPACE = "kubernetes:core/v1:Namespace";
const SA = "kubernetes:core/v1:ServiceAccount";

describe("nova-platform-workload-namespace", () => {
  it.each([NAMESPACE, SA])("passes the %s WorkloadIdentity registers", async (type) => {
    expect((await judge(workloadNamespace, type)).messages).toEqual([]);
  });

  it("accepts enforce-version unset", async () => {
    const out = await judge<Obj>(workloadNamespace, NAMESPACE, (n) => {
      delete n.metadata.labels?.["pod-security.kubernetes.io/enforce-version"];
    });
    expect(out.messages).toEqual([]);
  });

  describe.each<[string, string, (o: Obj) => void, RegExp]>([
    [
      "a namespace without pod-security labels",
      NAMESPACE,
      (n) => delete n.metadata.labels,
      /^Namespace nova-prod: label pod-security\.kubernetes\.io\/enforce is unset/,
    ],
    [
      "a baseline namespace",
      NAMESPACE,
      (n) => ((n.metadata.labels ?? {})["pod-security.kubernetes.io/enforce"] = "baseline"),
      /enforce is "baseline"; set it to "restricted"/,
    ],
    [
      "a pinned older standard",
      NAMESPACE,
      (n) => ((n.metadata.labels ?? {})["pod-security.kubernetes.io/enforce-version"] = "v1.25"),
      /enforce-version is "v1\.25"/,
    ],
    [
      "a service account mounting its token",
      SA,
      (s) => delete s["automountServiceAccountToken"],
      /^ServiceAccount nova-rms: automountServiceAccountToken is unset; set it to false/,
    ],
    [
      "a service account mounting its token explicitly",
      SA,
      (s) => (s["automountServiceAccountToken"] = true),
      /automountServiceAccountToken is true/,
    ],
  ])("blocks %s", (_label, type, mutate, expected) => {
    it("reports it with the fix", async () => {
      const out = await judge<Obj>(workloadNamespace, type, mutate);
      expect(out.messages).toHaveLength(1);
      expect(out.messages[0]).toMatch(expected);
      expect(out.messages[0]).toMatch(/Fix: restore platform\/components\/workload-identity\.ts/);
    });
  });

  it("is mandatory on platform-production and advisory on platform-sandbox", () => {
    expect(platformEnforcement(workloadNamespace, "platform-production")).toBe("mandatory");
    expect(platformEnforcement(workloadNamespace, "platform-sandbox")).toBe("advisory");
  });
});
