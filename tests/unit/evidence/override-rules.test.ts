// The preflight applies the gate's override rules: in production an override waives a failing check in the bundle
// only when the gate would count it (signed by the roster incident commander it names, bounded in lifetime, never a
// never-waivable check, bound to the release's digests and newest signed bundle); one that does not count leaves the
// check `fail`, and the preflight names it with the fix.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type PreflightReport, runPreflight } from "../../../cli/actions/preflight";
import {
  collectEvidence,
  type EvidenceBundle,
  judgeOverrides,
  loadProductionEnforcement,
  type OverrideRecord,
  type OverrideRules,
  overrideRulesFor,
  readRecords,
} from "../../../src/evidence";
import {
  DIGESTS,
  makeProject,
  NOW,
  offlineRegistry,
  OTHER_DIGESTS,
  passingOptions,
  PEOPLE,
  produceBundle,
  type ProjectFixture,
  RELEASE,
  setDrillAge,
  signRecordAs,
} from "../../policy/fixtures";

const H = 3_600_000;
const RECORDS = "tests/drills/logs/production/records";

let p: ProjectFixture | undefined;
afterEach(() => {
  process.exitCode = undefined;
  p?.cleanup();
  p = undefined;
  vi.restoreAllMocks();
});

const override = (o: Partial<OverrideRecord> = {}): OverrideRecord => ({
  kind: "override",
  stack: "production",
  release: RELEASE,
  hotfix: true,
  incidentCommander: PEOPLE.incidentCommander.name,
  reason: "INC-4711",
  waivedChecks: ["billing-drill"],
  deployer: PEOPLE.deployer.name,
  imageDigests: DIGESTS,
  createdAt: new Date(NOW.getTime() - H).toISOString(),
  expiresAt: new Date(NOW.getTime() + 3 * H).toISOString(),
  ...o,
});

/** The production rules of the fixture project, bound to the newest signed bundle on file. */
function productionRules(project: ProjectFixture): OverrideRules {
  return overrideRulesFor({
    projectDir: project.dir,
    evidenceDir: project.evidenceDir,
    stack: "production",
    release: RELEASE,
    digests: DIGESTS,
    production: true,
    sandbox: false,
    enforcement: loadProductionEnforcement(project.dir),
  });
}

/** A production project whose billing drill is 8 days old (fails), with a first signed bundle on file. */
async function failingProduction(): Promise<{ project: ProjectFixture; first: EvidenceBundle }> {
  const project = makeProject();
  setDrillAge(project, 8);
  const { bundle } = await produceBundle(project);
  expect(bundle.checks.find((c) => c.id === "billing-drill")?.verdict).toBe("fail");
  return { project, first: bundle };
}

/** How a case writes its override file: signed by the person it names (as `rollout override --ssh-key`) or not. */
type Write = (project: ProjectFixture, record: OverrideRecord) => void;
const signed: Write = (project, record) =>
  void project.write(`${RECORDS}/override-${RELEASE}-20261125T173000Z.json`, JSON.stringify(record));
const unsigned: Write = (project, record) => {
  const file = path.join(project.dir, RECORDS, `override-${RELEASE}-20261125T173000Z.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(record));
};
const signedBy =
  (name: string): Write =>
  (project, record) => {
    signed(project, record);
    signRecordAs(path.join(project.dir, RECORDS, `override-${RELEASE}-20261125T173000Z.json`), name);
  };

describe("the collector waives only for an override the production gate counts", () => {
  it.each<[string, Write, (first: EvidenceBundle) => Partial<OverrideRecord>, RegExp | undefined]>([
    ["a valid one (control)", signed, (b) => ({ bundleSha256: b.contentSha256 }), undefined],
    ["an unsigned one", unsigned, (b) => ({ bundleSha256: b.contentSha256 }), /has no SSH signature/],
    [
      "one signed by someone other than the incident commander it names",
      signedBy(PEOPLE.deployer.name),
      (b) => ({ bundleSha256: b.contentSha256 }),
      /its signature is not Sam Ortiz's/,
    ],
    [
      "one by a roster member without the incident-commander role",
      signed,
      (b) => ({ bundleSha256: b.contentSha256, incidentCommander: PEOPLE.engineer.name }),
      /Eve Engineer has no incident-commander role/,
    ],
    [
      "one by someone not in the roster",
      unsigned,
      (b) => ({ bundleSha256: b.contentSha256, incidentCommander: "Mallory" }),
      /Mallory is not in the committed roster/,
    ],
    [
      "one valid for 30 days",
      signed,
      (b) => ({
        bundleSha256: b.contentSha256,
        expiresAt: new Date(NOW.getTime() + 30 * 24 * H).toISOString(),
      }),
      /it is valid for 721\.0 h; threshold: at most 24 h/,
    ],
    [
      "one that also waives registry-digests",
      signed,
      (b) => ({ bundleSha256: b.contentSha256, waivedChecks: ["billing-drill", "registry-digests"] }),
      /it waives registry-digests, which no override may waive/,
    ],
    [
      "one bound to other digests",
      signed,
      (b) => ({ bundleSha256: b.contentSha256, imageDigests: OTHER_DIGESTS }),
      /not bound to the digests the stack deploys/,
    ],
    ["one bound to no bundle", signed, () => ({}), /bound to bundle \(none\), not the newest signed bundle/],
  ])("%s", async (_label, write, fields, rejected) => {
    const { project, first } = await failingProduction();
    p = project;
    write(project, override(fields(first)));
    const records = readRecords(project.evidenceDir, "production").overrides;
    const rules = productionRules(project);
    const bundle = await collectEvidence(passingOptions(project, { overrides: { records, rules } }));
    const drill = bundle.checks.find((c) => c.id === "billing-drill");
    const judged = judgeOverrides(records, rules, { stack: "production", release: RELEASE }, NOW);
    if (rejected === undefined) {
      expect(drill?.verdict).toBe("waived");
      expect(bundle.waivers.map((w) => [w.checkId, w.incidentCommander])).toEqual([
        ["billing-drill", PEOPLE.incidentCommander.name],
      ]);
      expect(judged.rejected).toEqual([]);
    } else {
      expect(drill?.verdict).toBe("fail");
      expect(bundle.waivers).toEqual([]);
      expect(judged.rejected.map((r) => r.why).join()).toMatch(rejected);
    }
  });

  it("staging keeps its own rules: an unsigned override for the release waives, an expired one does not, registry-digests never", async () => {
    p = makeProject();
    setDrillAge(p, 8);
    const rules: OverrideRules = { signed: false };
    const collect = async (o: OverrideRecord) =>
      collectEvidence(
        passingOptions(p!, {
          registry: offlineRegistry(),
          overrides: { records: [o], rules },
        }),
      );
    const verdicts = (b: EvidenceBundle) =>
      Object.fromEntries(b.checks.filter((c) => c.verdict !== "pass").map((c) => [c.id, c.verdict]));
    expect(
      verdicts(
        await collect(override({ waivedChecks: ["billing-drill", "registry-digests", "registry-push"] })),
      ),
    ).toEqual({
      "billing-drill": "waived",
      "registry-digests": "fail",
      // Push permission matters to the images step, not to a deploy of images already there: it may be waived.
      "registry-push": "waived",
    });
    expect(
      verdicts(await collect(override({ expiresAt: new Date(NOW.getTime() - 1).toISOString() }))),
    ).toEqual({
      "billing-drill": "fail",
      "registry-digests": "fail",
      "registry-push": "fail",
    });
  });
});

describe("rollout preflight reports an override that does not count", () => {
  const run = async (project: ProjectFixture, report: PreflightReport) => {
    const out: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
    const code = await runPreflight(
      {
        stack: "production",
        projectDir: project.dir,
        engine: false,
        registry: "127.0.0.1:9/nova",
        releaseCut: new Date(NOW.getTime() - 2 * 24 * H).toISOString(),
      },
      NOW,
      report,
    );
    return { code, text: out.join("\n") };
  };

  it("an unsigned override leaves the check failing; the verdict and the report name it with the fix", async () => {
    const { project, first } = await failingProduction();
    p = project;
    unsigned(project, override({ bundleSha256: first.contentSha256 }));
    const report: PreflightReport = {};
    const { code, text } = await run(project, report);
    expect(code).toBe(7);
    expect(report.checks?.find((c) => c.id === "billing-drill")?.verdict).toBe("fail");
    const finding = report.findings?.find((f) => f.checkId === "override");
    expect(finding?.message).toMatch(
      /^Break-glass override tests\/drills\/logs\/production\/records\/override-2026\.11\.3-20261125T173000Z\.json waives nothing: it has no SSH signature/,
    );
    expect(finding?.remedy).toMatch(/ssh-keygen -Y sign -n nova-rollout/);
    expect(text).toMatch(/\[override\] Break-glass override .* waives nothing: it has no SSH signature/);
    const markdown = fs.readFileSync(report.files?.markdown ?? "", "utf8");
    expect(markdown).toMatch(
      /- \*\*override\*\*: Break-glass override .* waives nothing: it has no SSH signature/,
    );
    expect(markdown).toMatch(/\| billing-drill \| FAIL \|/);
  });

  it("a too-long override by an engineer is reported with the override command as the fix", async () => {
    const { project, first } = await failingProduction();
    p = project;
    signed(
      project,
      override({
        bundleSha256: first.contentSha256,
        incidentCommander: PEOPLE.engineer.name,
        expiresAt: new Date(NOW.getTime() + 48 * H).toISOString(),
      }),
    );
    const report: PreflightReport = {};
    await run(project, report);
    expect(report.checks?.find((c) => c.id === "billing-drill")?.verdict).toBe("fail");
    const finding = report.findings?.find((f) => f.checkId === "override");
    expect(finding?.message).toMatch(/waives nothing: Eve Engineer has no incident-commander role/);
    expect(finding?.remedy).toMatch(/npm run rollout -- override --stack production --hotfix/);
  });

  it("a valid override waives the check in the new bundle (control)", async () => {
    const { project, first } = await failingProduction();
    p = project;
    signed(project, override({ bundleSha256: first.contentSha256 }));
    const report: PreflightReport = {};
    await run(project, report);
    expect(report.checks?.find((c) => c.id === "billing-drill")?.verdict).toBe("waived");
    expect(report.findings?.filter((f) => f.checkId === "override" || f.checkId === "billing-drill")).toEqual(
      [],
    );
  });
});
