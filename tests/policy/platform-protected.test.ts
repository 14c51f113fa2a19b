import { describe, expect, it } from "vitest";
import { platformProtected } from "../../platform/policy/policies";
import { STATEFUL_TYPES } from "../../platform/policy/policies/protected";
import { judge, platformEnforcement } from "./platform-fixtures";

describe("nova-platform-protected", () => {
  describe.each(STATEFUL_TYPES)("%s", (type) => {
    it("passes when protected", async () => {
      expect((await judge(platformProtected, type, undefined, { protect: true })).messages).toEqual([]);
    });
    it("blocks when not protected, saying which key to set", async () => {
      const out = await judge(platformProtected, type, undefined, { protect: false });
      expect(out.messages).toEqual([
        `${type} nova-platform-fixture: is not protected; a platform resource must survive a destroy of the stack. Fix: set nova-platform:protect to true (pulumi config set nova-platform:protect true in platform/; production always is) and re-run pulumi up.`,
      ]);
    });
  });

  it("leaves grants, roles and providers alone", async () => {
    for (const type of [
      "gcp:secretmanager/secretIamMember:SecretIamMember",
      "kubernetes:rbac.authorization.k8s.io/v1:Role",
      "pulumi:providers:kubernetes",
    ]) {
      expect((await judge(platformProtected, type, undefined, { protect: false })).messages).toEqual([]);
    }
  });

  it("judges the types its config lists", async () => {
    const config = { statefulTypes: ["kubernetes:rbac.authorization.k8s.io/v1:Role"] };
    const role = await judge(platformProtected, "kubernetes:rbac.authorization.k8s.io/v1:Role", undefined, {
      protect: false,
      config,
    });
    expect(role.messages).toHaveLength(1);
  });

  it("is mandatory on platform-production and advisory on platform-sandbox", () => {
    expect(platformEnforcement(platformProtected, "platform-production")).toBe("mandatory");
    expect(platformEnforcement(platformProtected, "platform-sandbox")).toBe("advisory");
  });
});
