import { describe, expect, it } from "vitest";
import { changeFreeze } from "../../policy/policies";
import { NOW } from "./fixtures";
import { enforcementFor, runResourcePolicy } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

const H = 3_600_000;
function freeze(overrides: Record<string, unknown> = {}) {
  return {
    kind: "freeze",
    stack: "production",
    start: new Date(NOW.getTime() - H).toISOString(),
    end: new Date(NOW.getTime() + 4 * H).toISOString(),
    reason: "Release 2026.11.3 rollout",
    declaredBy: "release-manager",
    ...overrides,
  };
}
function record(content: unknown, name = "freeze-production-20261125T173000Z.json") {
  fixture.project.write(
    `tests/drills/logs/production/records/${name}`,
    typeof content === "string" ? content : JSON.stringify(content),
  );
}
function run(type = "kubernetes:core/v1:Namespace") {
  return runResourcePolicy(changeFreeze, {
    type,
    name: "nova-namespace",
    props: {},
    config: { projectDir: fixture.project.dir },
  });
}

describe("nova-change-freeze", () => {
  it("passes with an active freeze window", async () => {
    record(freeze());
    expect((await run()).messages).toEqual([]);
  });

  it("does not apply to a staging stack", async () => {
    fixture.remakeProject({ environment: "staging" });
    expect((await run()).messages).toEqual([]);
  });

  it("is mandatory in production and disabled for sandbox stacks", () => {
    expect(enforcementFor(changeFreeze, "production")).toBe("mandatory");
    expect(enforcementFor(changeFreeze, "local")).toBe("disabled");
  });

  describe.each([
    ["no freeze record", undefined, /No active change-freeze window.*found: no freeze record/],
    [
      "a window that ended",
      freeze({ end: new Date(NOW.getTime() - 1).toISOString() }),
      /No active change-freeze window/,
    ],
    [
      "a window that has not started",
      freeze({ start: new Date(NOW.getTime() + H).toISOString() }),
      /No active change-freeze window/,
    ],
    ["a window for another stack", freeze({ stack: "staging" }), /invalid.*names stack "staging"/],
    ["a malformed record", "{ nope", /unreadable or invalid/],
    ["a record missing declaredBy", freeze({ declaredBy: undefined }), /declaredBy/],
  ] as const)("blocks %s", (_l, content, expected) => {
    it("reports it with the freeze command", async () => {
      if (content !== undefined) record(content);
      const messages = (await run()).messages.join("\n");
      expect(messages).toMatch(expected);
      expect(messages).toMatch(/npm run rollout -- freeze --stack production/);
    });
  });
});
