import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { leadershipApproval } from "../../policy/policies";
import { DIGESTS, NOW, OTHER_DIGESTS, PEOPLE, produceBundle, RELEASE, signRecordAs } from "./fixtures";
import { runResourcePolicy } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

const H = 3_600_000;
const FILE = "tests/drills/logs/production/records/approval-2026.11.3-20261125T173000Z.json";
function approval(overrides: Record<string, unknown> = {}) {
  return {
    kind: "approval",
    stack: "production",
    release: RELEASE,
    approvedBy: PEOPLE.approver.name,
    deployer: PEOPLE.deployer.name,
    imageDigests: DIGESTS,
    approvedAt: new Date(NOW.getTime() - H).toISOString(),
    expiresAt: new Date(NOW.getTime() + 23 * H).toISOString(),
    ...overrides,
  };
}
/** Writes the approval (signed by the person it names, bound to the newest signed bundle unless it says otherwise). */
async function run(content?: Record<string, unknown>, arrange?: (file: string) => void) {
  const { bundle } = await produceBundle(fixture.project);
  if (content !== undefined) {
    const file = fixture.project.write(
      FILE,
      JSON.stringify({ bundleSha256: bundle.contentSha256, ...content }),
    );
    arrange?.(file);
  }
  return runResourcePolicy(leadershipApproval, {
    type: "pulumi:providers:kubernetes",
    name: "nova-k8s",
    props: {},
    config: { projectDir: fixture.project.dir },
  });
}

describe("nova-leadership-approval (production: signed, from the roster, bound to the release)", () => {
  it("passes with an unexpired approval signed by a roster leader, bound to the digests and the bundle", async () => {
    expect((await run(approval())).messages).toEqual([]);
  });

  it("takes the role from the roster, not from the record (a typed role is ignored)", async () => {
    expect((await run(approval({ approvedBy: PEOPLE.cto.name, role: "intern" }))).messages).toEqual([]);
    expect(
      (await run(approval({ approvedBy: PEOPLE.engineer.name, role: "cto" }))).messages.join("\n"),
    ).toMatch(/Eve Engineer's roster roles \[engineer\] include no leadership role/);
  });

  describe.each([
    ["no approval", undefined, undefined, /No valid leadership approval/],
    [
      "an expired approval",
      approval({
        approvedAt: new Date(NOW.getTime() - 30 * H).toISOString(),
        expiresAt: new Date(NOW.getTime() - H).toISOString(),
      }),
      undefined,
      /does not count: it expired/,
    ],
    [
      "an approval for another release",
      approval({ release: "2026.11.2" }),
      undefined,
      /No valid leadership approval/,
    ],
    [
      "an approval by someone whose roster role is not leadership",
      approval({ approvedBy: PEOPLE.engineer.name, role: "cto" }),
      undefined,
      /roster roles \[engineer\] include no leadership role \[vp-engineering, cto, head-of-platform\]/,
    ],
    [
      "an approval by someone not in the roster",
      approval({ approvedBy: "Mallory" }),
      undefined,
      /Mallory is not in the committed roster/,
    ],
    [
      "an approval by the deployer themself",
      approval({ deployer: PEOPLE.approver.name }),
      undefined,
      /Dana Lee approves their own release \(they are the deployer\)/,
    ],
    ["an approval naming no deployer", approval({ deployer: undefined }), undefined, /names no deployer/],
    [
      "an approval bound to other digests",
      approval({ imageDigests: OTHER_DIGESTS }),
      undefined,
      /not bound to the digests the stack deploys/,
    ],
    [
      "an approval bound to another bundle",
      approval({ bundleSha256: "0".repeat(64) }),
      undefined,
      /bound to bundle 0{64}, not the newest signed bundle/,
    ],
    [
      "an unsigned approval",
      approval(),
      (file: string) => fs.rmSync(`${file}.sig`),
      /does not count: it has no SSH signature/,
    ],
    [
      "an approval signed by someone else than it names",
      approval(),
      (file: string) => signRecordAs(file, PEOPLE.deployer.name),
      /signature is not Dana Lee's: it is signed by key SHA256:/,
    ],
    [
      "an approval edited after it was signed",
      approval(),
      (file: string) => fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('"kind":', '"kind": ')),
      /signature is not Dana Lee's: the signature does not verify/,
    ],
  ] as const)("blocks %s", (_l, content, arrange, expected) => {
    it("reports why with the approve command", async () => {
      const messages = (await run(content, arrange)).messages.join("\n");
      expect(messages).toMatch(expected);
      expect(messages).toMatch(/npm run rollout -- approve --stack production --release 2026\.11\.3/);
    });
  });
});
