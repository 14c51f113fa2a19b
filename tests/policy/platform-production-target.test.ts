import { describe, expect, it } from "vitest";
import { platformProductionTarget } from "../../platform/policy/policies";
import { UNKNOWN } from "./harness";
import { judge, platformEnforcement, platformPolicyConfig } from "./platform-fixtures";

type Marker = Record<string, unknown>;
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const env = (value: string) => (m: Marker) => (m["data"] = { environment: value });
const production = platformPolicyConfig(platformProductionTarget, "platform-production");
const sandbox = platformPolicyConfig(platformProductionTarget, "platform-sandbox");

describe("nova-platform-production-target", () => {
  it("passes a production marker under the production enforcement", async () => {
    expect(
      (await judge(platformProductionTarget, CONFIG_MAP, undefined, { config: production })).messages,
    ).toEqual([]);
  });

  it("passes a sandbox marker under the sandbox enforcement", async () => {
    expect(
      (await judge<Marker>(platformProductionTarget, CONFIG_MAP, env("sandbox"), { config: sandbox }))
        .messages,
    ).toEqual([]);
  });

  describe.each<[string, Record<string, unknown>, (m: Marker) => void, RegExp]>([
    ["the sandbox config", sandbox, () => undefined, /runs with the "sandbox" enforcement/],
    ["no config at all (a policy group with none)", {}, () => undefined, /runs with the unset enforcement/],
    [
      "an odd spelling",
      { enforcement: "Production" },
      () => undefined,
      /runs with the "Production" enforcement/,
    ],
    [
      "an environment unknown during preview",
      sandbox,
      env(UNKNOWN),
      /says an environment unknown during preview/,
    ],
  ])("blocks a production marker with %s", (_label, config, mutate, expected) => {
    it("reports it with the fix", async () => {
      const out = await judge<Marker>(platformProductionTarget, CONFIG_MAP, mutate, { config });
      expect(out.messages).toHaveLength(1);
      expect(out.messages[0]).toMatch(/^Cluster marker kube-public\/nova-platform: /);
      expect(out.messages[0]).toMatch(expected);
      expect(out.messages[0]).toMatch(
        /--policy-pack-config platform\/policy\/config\/platform-production\.json/,
      );
    });
  });

  it("ignores other ConfigMaps", async () => {
    const other = (m: Marker) => (m["metadata"] = { namespace: "kube-public", name: "other" });
    expect(
      (await judge<Marker>(platformProductionTarget, CONFIG_MAP, other, { config: sandbox })).messages,
    ).toEqual([]);
  });

  it("is mandatory in every committed config and by default", () => {
    expect(platformProductionTarget.enforcementLevel).toBe("mandatory");
    expect(platformEnforcement(platformProductionTarget, "platform-production")).toBe("mandatory");
    expect(platformEnforcement(platformProductionTarget, "platform-sandbox")).toBe("mandatory");
  });
});
