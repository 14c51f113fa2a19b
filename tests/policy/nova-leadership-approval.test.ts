import { describe, expect, it } from "vitest";
import { leadershipApproval } from "../../policy/policies";
import { NOW, RELEASE } from "./fixtures";
import { runResourcePolicy } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

const H = 3_600_000;
function approval(overrides: Record<string, unknown> = {}) {
  return {
    kind: "approval",
    stack: "production",
    release: RELEASE,
    approvedBy: "Dana Lee",
    role: "vp-engineering",
    approvedAt: new Date(NOW.getTime() - H).toISOString(),
    expiresAt: new Date(NOW.getTime() + 23 * H).toISOString(),
    ...overrides,
  };
}
function run(content?: unknown) {
  if (content !== undefined) {
    fixture.project.write(
      "tests/drills/logs/production/records/approval-2026.11.3-20261125T173000Z.json",
      JSON.stringify(content),
    );
  }
  return runResourcePolicy(leadershipApproval, {
    type: "pulumi:providers:kubernetes",
    name: "nova-k8s",
    props: {},
    config: { projectDir: fixture.project.dir },
  });
}

describe("nova-leadership-approval", () => {
  it("passes with an unexpired approval for this release", async () => {
    expect((await run(approval())).messages).toEqual([]);
  });

  it("accepts a role written in another case (CTO for cto)", async () => {
    expect((await run(approval({ role: "CTO" }))).messages).toEqual([]);
  });

  describe.each([
    ["no approval", undefined, /no approval for release 2026\.11\.3/],
    [
      "an expired approval",
      approval({
        approvedAt: new Date(NOW.getTime() - 30 * H).toISOString(),
        expiresAt: new Date(NOW.getTime() - H).toISOString(),
      }),
      /No valid leadership approval/,
    ],
    [
      "an approval for another release",
      approval({ release: "2026.11.2" }),
      /no approval for release 2026\.11\.3/,
    ],
    [
      "an approval by a role not allowed",
      approval({ role: "intern" }),
      /role in \[vp-engineering, cto, head-of-platform\]/,
    ],
  ] as const)("blocks %s", (_l, content, expected) => {
    it("reports it with the approve command", async () => {
      const messages = (await run(content)).messages.join("\n");
      expect(messages).toMatch(expected);
      expect(messages).toMatch(/npm run rollout -- approve --stack production --release 2026\.11\.3/);
    });
  });
});
