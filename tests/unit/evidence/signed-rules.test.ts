// The rules on people and signed bundles, table-driven: approvals, overrides, check ids once, newest signed bundle.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ApprovalRecord,
  approvalProblem,
  checkIdFindings,
  type EvidenceBundle,
  type OverrideRecord,
  productionOverrideProblem,
  readNewestSignedBundle,
  type ReleaseBinding,
  sealBundle,
  signBundle,
} from "../../../src/evidence";
import {
  DIGESTS,
  makeProject,
  NOW,
  OTHER_DIGESTS,
  PEOPLE,
  PREFLIGHT_SIGNER,
  produceBundle,
  RELEASE,
  STRANGER_SIGNER,
  TEST_ROSTER,
  type ProjectFixture,
} from "../../policy/fixtures";

const H = 3_600_000;
const ROLES = ["vp-engineering", "cto", "head-of-platform"];
const SHA = "e".repeat(64);
const binding: ReleaseBinding = {
  stack: "production",
  release: RELEASE,
  digests: DIGESTS,
  bundle: { contentSha256: SHA, signer: "test-preflight", ranBy: PEOPLE.engineer.name },
};

const approval = (o: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  kind: "approval",
  stack: "production",
  release: RELEASE,
  approvedBy: PEOPLE.approver.name,
  deployer: PEOPLE.deployer.name,
  imageDigests: DIGESTS,
  bundleSha256: SHA,
  approvedAt: new Date(NOW.getTime() - H).toISOString(),
  expiresAt: new Date(NOW.getTime() + H).toISOString(),
  ...o,
});

describe("approvalProblem", () => {
  it.each<[string, Partial<ApprovalRecord>, RegExp | undefined]>([
    ["a roster leader, bound, not the deployer", {}, undefined],
    ["a typed role is ignored", { role: "intern" }, undefined],
    ["someone not in the roster", { approvedBy: "Mallory" }, /Mallory is not in the committed roster/],
    [
      "a roster member without a leadership role",
      { approvedBy: PEOPLE.sre.name },
      /include no leadership role/,
    ],
    ["the deployer themself", { deployer: PEOPLE.approver.name }, /approves their own release/],
    ["no deployer", { deployer: undefined }, /names no deployer/],
    ["another roster leader", { approvedBy: PEOPLE.cto.name }, undefined],
    ["other digests", { imageDigests: OTHER_DIGESTS }, /not bound to the digests/],
    ["no digests", { imageDigests: undefined }, /not bound to the digests/],
    ["another bundle", { bundleSha256: "0".repeat(64) }, /not the newest signed bundle/],
    ["expired", { expiresAt: new Date(NOW.getTime() - 1).toISOString() }, /expired/],
    ["another release", { release: "2026.11.2" }, /release 2026\.11\.2/],
  ])("%s", (_l, o, expected) => {
    const why = approvalProblem(approval(o), TEST_ROSTER, ROLES, binding, NOW);
    if (expected === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(expected);
  });

  it("the person who ran or signed the preflight cannot approve it", () => {
    const b = { ...binding, bundle: { ...binding.bundle!, ranBy: PEOPLE.approver.name } };
    expect(approvalProblem(approval(), TEST_ROSTER, ROLES, b, NOW)).toMatch(/ran or signed the preflight/);
  });
});

const override = (o: Partial<OverrideRecord> = {}): OverrideRecord => ({
  kind: "override",
  stack: "production",
  release: RELEASE,
  hotfix: true,
  incidentCommander: PEOPLE.incidentCommander.name,
  reason: "INC-1",
  waivedChecks: ["billing-drill"],
  deployer: PEOPLE.deployer.name,
  imageDigests: DIGESTS,
  bundleSha256: SHA,
  createdAt: new Date(NOW.getTime() - H).toISOString(),
  expiresAt: new Date(NOW.getTime() + 3 * H).toISOString(),
  ...o,
});

describe("productionOverrideProblem", () => {
  it.each<[string, Partial<OverrideRecord>, RegExp | undefined]>([
    ["a roster incident commander, bounded, bound", {}, undefined],
    [
      "an unknown incident commander",
      { incidentCommander: "Mallory" },
      /Mallory is not in the committed roster/,
    ],
    [
      "a roster member without the role",
      { incidentCommander: PEOPLE.cto.name },
      /has no incident-commander role/,
    ],
    ["the deployer as incident commander", { deployer: PEOPLE.incidentCommander.name }, /is the deployer/],
    ["no deployer", { deployer: undefined }, /names no deployer/],
    ["waiving registry-digests", { waivedChecks: ["registry-digests"] }, /which no override may waive/],
    [
      "waiving staging-stack",
      { waivedChecks: ["coverage", "staging-stack"] },
      /staging-stack, which no override/,
    ],
    [
      "valid for 30 days",
      { expiresAt: new Date(NOW.getTime() - H + 720 * H).toISOString() },
      /valid for 720\.0 h; threshold: at most 24 h/,
    ],
    ["other digests", { imageDigests: OTHER_DIGESTS }, /not bound to the digests/],
    ["another bundle", { bundleSha256: "0".repeat(64) }, /not the newest signed bundle/],
    ["expired", { expiresAt: new Date(NOW.getTime() - 1).toISOString() }, /expired/],
  ])("%s", (_l, o, expected) => {
    const why = productionOverrideProblem(override(o), TEST_ROSTER, 24, binding, NOW);
    if (expected === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(expected);
  });
});

describe("signed bundles on disk", () => {
  let p: ProjectFixture | undefined;
  afterEach(() => p?.cleanup());

  it("newest is the newest signed createdAt, not the newest file name", async () => {
    p = makeProject();
    const { bundle } = await produceBundle(p);
    const older: EvidenceBundle = sealBundle({
      ...(({ contentSha256: _c, ...b }) => b)(bundle),
      createdAt: new Date(NOW.getTime() - 5 * H).toISOString(),
    });
    // An older bundle under a file name that sorts last.
    fs.writeFileSync(
      path.join(p.evidenceDir, "production", "99991231T235959Z-preflight.dsse.json"),
      JSON.stringify(await signBundle(older, PREFLIGHT_SIGNER)),
    );
    const lookup = readNewestSignedBundle(p.evidenceDir, "production", TEST_ROSTER.preflightKeys);
    expect(lookup.status === "ok" && lookup.bundle.createdAt).toBe(NOW.toISOString());
  });

  it("a newer bundle signed by a stranger is reported, never used", async () => {
    p = makeProject();
    const { bundle } = await produceBundle(p);
    await produceBundle(p, { now: new Date(NOW.getTime() + 60_000) }, STRANGER_SIGNER);
    const lookup = readNewestSignedBundle(p.evidenceDir, "production", TEST_ROSTER.preflightKeys);
    expect(lookup.status).toBe("ok");
    if (lookup.status !== "ok") return;
    expect(lookup.bundle.contentSha256).toBe(bundle.contentSha256);
    expect(lookup.rejected.map((r) => r.error).join()).toMatch(/not a key in the committed trust list/);
  });

  it("an unsigned (legacy) bundle fails closed with the way to re-run the preflight with a key", async () => {
    p = makeProject();
    const { envelope } = await produceBundle(p);
    fs.rmSync(envelope);
    const lookup = readNewestSignedBundle(p.evidenceDir, "production", TEST_ROSTER.preflightKeys);
    expect(lookup.status === "invalid" && lookup.error).toMatch(
      /unsigned bundle .* re-run the preflight with a signing key/,
    );
  });

  it.each([
    ["a check missing", (b: EvidenceBundle) => b.checks.slice(1), /check "coverage" 0 times/],
    ["a check twice", (b: EvidenceBundle) => [...b.checks, b.checks[0]!], /check "coverage" 2 times/],
  ])("requires every check id exactly once: %s", async (_l, edit, expected) => {
    p = makeProject();
    const { bundle } = await produceBundle(p);
    const findings = checkIdFindings({ ...bundle, checks: edit(bundle) }, "production");
    expect(findings.map((f) => f.message).join()).toMatch(expected);
    expect(checkIdFindings(bundle, "production")).toEqual([]);
  });
});
