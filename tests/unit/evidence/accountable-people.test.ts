// Who may act for a production release: the deployer named by the approval presents a signed update request, only
// roles allowed to may declare a (bounded) freeze, and records that concern no release now never block one.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../../cli/index";
import {
  type EvidenceBundle,
  evaluateGate,
  gateForStack,
  gateInputFor,
  readStackConfigFile,
  recordNotes,
  type UpdateRequestRecord,
} from "../../../src/evidence";
import {
  readUpdateRequests,
  updateRequestsDir,
  writeUpdateRequest,
} from "../../../src/evidence/update-requests";
import {
  DIGESTS,
  makeProject,
  NOW,
  OTHER_DIGESTS,
  PEOPLE,
  produceBundle,
  RELEASE,
  signRecordAs,
  type ProjectFixture,
} from "../../policy/fixtures";

const H = 3_600_000;
const RECORDS = "tests/drills/logs/production/records";
let project: ProjectFixture | undefined;
afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
  project?.cleanup();
  project = undefined;
});

/** A production release ready at NOW: signed bundle, a release manager's freeze, the CTO-level approval naming Riley. */
async function readyRelease(): Promise<{ p: ProjectFixture; bundle: EvidenceBundle }> {
  project = makeProject();
  const p = project;
  const { bundle } = await produceBundle(p);
  p.write(
    `${RECORDS}/freeze-production-20261125T173000Z.json`,
    JSON.stringify({
      kind: "freeze",
      stack: "production",
      start: new Date(NOW.getTime() - H).toISOString(),
      end: new Date(NOW.getTime() + 4 * H).toISOString(),
      reason: "release window",
      declaredBy: PEOPLE.releaseManager.name,
    }),
  );
  p.write(
    `${RECORDS}/approval-${RELEASE}-20261125T173000Z.json`,
    JSON.stringify({
      kind: "approval",
      stack: "production",
      release: RELEASE,
      approvedBy: PEOPLE.approver.name,
      deployer: PEOPLE.deployer.name,
      imageDigests: DIGESTS,
      bundleSha256: bundle.contentSha256,
      approvedAt: new Date(NOW.getTime() - 60_000).toISOString(),
      expiresAt: new Date(NOW.getTime() + 4 * H).toISOString(),
    }),
  );
  return { p, bundle };
}

function request(bundle: EvidenceBundle, change: Partial<UpdateRequestRecord> = {}): UpdateRequestRecord {
  return {
    kind: "update-request",
    stack: "production",
    release: RELEASE,
    imageDigests: DIGESTS,
    bundleSha256: bundle.contentSha256,
    requestedBy: PEOPLE.deployer.name,
    createdAt: new Date(NOW.getTime() - 5 * 60_000).toISOString(),
    ...change,
  };
}

/** Writes an update request signed by `signer` (the roster name whose key signs it). */
function writeRequest(p: ProjectFixture, r: UpdateRequestRecord, signer: string, name = "r.json"): string {
  const file = path.join(updateRequestsDir(p.evidenceDir, "production"), name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  signRecordAs(file, signer);
  return file;
}

/** The program guard's verdict at `now` (a real update checks every section and the update request). */
function guard(p: ProjectFixture, now = NOW) {
  return gateForStack({
    stack: p.stack,
    config: readStackConfigFile(p.dir, p.stack) ?? {},
    projectDir: p.dir,
    now,
  });
}

function inputOf(p: ProjectFixture) {
  const input = gateInputFor({
    stack: p.stack,
    config: readStackConfigFile(p.dir, p.stack) ?? {},
    projectDir: p.dir,
    now: NOW,
  });
  if ("enforcementError" in input) throw new Error(input.enforcementError);
  return input;
}

describe("the deployer presents a signed update request (program guard)", () => {
  it("an approved release without the deployer's request is refused on a real update; the pack's sections pass", async () => {
    const { p } = await readyRelease();
    expect(evaluateGate(inputOf(p))).toEqual({ baseline: [], readiness: [], freeze: [], approval: [] });
    const findings = guard(p).findings;
    expect(findings.map((f) => f.checkId)).toEqual(["update-request"]);
    expect(findings[0]?.message).toMatch(
      /No signed update request by Riley Deployer, the deployer the approval by Dana Lee names, .* \(found: none for this release\); threshold: .* at most 60 min old/,
    );
    expect(findings[0]?.remedy).toMatch(/rollout -- up --stack production --as Riley Deployer --ssh-key/);
  });

  it("a recent request signed by the approval's deployer admits the update", async () => {
    const { p, bundle } = await readyRelease();
    writeRequest(p, request(bundle), PEOPLE.deployer.name);
    expect(guard(p).findings).toEqual([]);
  });

  it.each([
    [
      "by someone the approval does not name",
      (b: EvidenceBundle) => request(b, { requestedBy: PEOPLE.sre.name }),
      PEOPLE.sre.name,
      /requested by sre-on-call, but the approval by Dana Lee names Riley Deployer as the deployer/,
    ],
    [
      "naming the deployer but signed by someone else",
      (b: EvidenceBundle) => request(b),
      PEOPLE.engineer.name,
      /its signature is not Riley Deployer's/,
    ],
    [
      "older than the committed maximum",
      (b: EvidenceBundle) => request(b, { createdAt: new Date(NOW.getTime() - 61 * 60_000).toISOString() }),
      PEOPLE.deployer.name,
      /61 min ago; threshold: at most 60 min/,
    ],
    [
      "bound to another bundle",
      (b: EvidenceBundle) => request(b, { bundleSha256: "0".repeat(64) }),
      PEOPLE.deployer.name,
      /bound to bundle 0{64}, not the newest signed bundle/,
    ],
    [
      "bound to other digests",
      (b: EvidenceBundle) => request(b, { imageDigests: OTHER_DIGESTS }),
      PEOPLE.deployer.name,
      /not bound to the digests the stack deploys/,
    ],
  ])("a request %s admits nothing", async (_what, make, signer, why) => {
    const { p, bundle } = await readyRelease();
    writeRequest(p, make(bundle), signer);
    const findings = guard(p).findings;
    expect(findings.map((f) => f.checkId)).toEqual(["update-request"]);
    expect(findings[0]?.message).toMatch(why);
  });

  it("writing a request whose signature fails leaves nothing behind", () => {
    project = makeProject();
    const p = project;
    const bundle = { contentSha256: "a".repeat(64) } as EvidenceBundle;
    expect(() =>
      writeUpdateRequest(p.evidenceDir, request(bundle), path.join(p.dir, "no-such-key"), NOW),
    ).toThrow();
    expect(fs.readdirSync(updateRequestsDir(p.evidenceDir, "production"))).toEqual([]);
    expect(readUpdateRequests(p.evidenceDir, "production").requests).toEqual([]);
  });

  it("writeUpdateRequest signs with ssh-keygen before the request lands under its name", () => {
    project = makeProject();
    const p = project;
    const key = path.join(p.dir, "deployer-key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "deployer", "-f", key]);
    const file = writeUpdateRequest(
      p.evidenceDir,
      request({ contentSha256: "a".repeat(64) } as EvidenceBundle),
      key,
      NOW,
    );
    expect(fs.readdirSync(path.dirname(file)).sort()).toEqual([
      path.basename(file),
      `${path.basename(file)}.sig`,
    ]);
    expect(readUpdateRequests(p.evidenceDir, "production").requests.map((r) => r.requestedBy)).toEqual([
      PEOPLE.deployer.name,
    ]);
  });
});

describe("freezes: committed roles and a committed maximum window", () => {
  const freeze = (p: ProjectFixture, declaredBy: string, days: number) =>
    p.write(
      `${RECORDS}/freeze-production-20261125T180000Z.json`,
      JSON.stringify({
        kind: "freeze",
        stack: "production",
        start: new Date(NOW.getTime() - H).toISOString(),
        end: new Date(NOW.getTime() - H + days * 86_400_000).toISOString(),
        reason: "window",
        declaredBy,
      }),
    );

  it.each([
    [
      "declared by an engineer",
      PEOPLE.engineer.name,
      1,
      /Eve Engineer's roster roles \[engineer\] include no role that may declare a freeze \[release-manager, incident-commander/,
    ],
    [
      "of 30 days by the release manager",
      PEOPLE.releaseManager.name,
      30,
      /the window lasts 30\.0 days; threshold: at most 14 days/,
    ],
  ])("a freeze %s does not count, and the gate says why", async (_what, who, days, why) => {
    const { p, bundle } = await readyRelease();
    fs.rmSync(path.join(p.dir, `${RECORDS}/freeze-production-20261125T173000Z.json`));
    fs.rmSync(path.join(p.dir, `${RECORDS}/freeze-production-20261125T173000Z.json.sig`));
    freeze(p, who, days);
    writeRequest(p, request(bundle), PEOPLE.deployer.name);
    const messages = guard(p).findings.map((f) => `${f.checkId}: ${f.message}`);
    expect(messages.join("\n")).toMatch(why);
    expect(messages.join("\n")).toMatch(/No active change-freeze window/);
  });

  it("an uncounted freeze beside a valid one blocks nothing and is an advisory note", async () => {
    const { p, bundle } = await readyRelease();
    freeze(p, PEOPLE.engineer.name, 1);
    writeRequest(p, request(bundle), PEOPLE.deployer.name);
    const verdict = guard(p);
    expect(verdict.findings).toEqual([]);
    expect(verdict.advisories.join("\n")).toMatch(
      /freeze record .* does not count: Eve Engineer's roster roles/,
    );
  });

  describe("`rollout freeze` refuses a production window that would not count", () => {
    const run = async (p: ProjectFixture, who: string, end: string) => {
      const out: string[] = [];
      vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
      vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
      vi.spyOn(process.stderr, "write").mockImplementation((c: string | Uint8Array) => {
        out.push(String(c));
        return true;
      });
      const code = await main([
        "freeze",
        "--stack",
        "production",
        "--project-dir",
        p.dir,
        "--end",
        end,
        "--reason",
        "window",
        "--declared-by",
        who,
        "--no-announce",
      ]);
      return { code, out: out.join("\n") };
    };

    it.each([
      [PEOPLE.engineer.name, "+4h", /include no role that may declare a freeze/],
      [PEOPLE.releaseManager.name, "+400h", /lasts 16\.7 days; threshold: at most 14 days/],
    ])("%s, --end %s", async (who, end, why) => {
      project = makeProject();
      const p = project;
      const r = await run(p, who, end);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(why);
      expect(r.out).toMatch(/nothing was recorded/);
      expect(fs.existsSync(path.join(p.dir, RECORDS))).toBe(false);
    });
  });
});

describe("records that concern no release now never block one", () => {
  it("an unsigned approval and rollback for another release, an expired override and freeze: reported, not blocking", async () => {
    const { p, bundle } = await readyRelease();
    writeRequest(p, request(bundle), PEOPLE.deployer.name);
    const unsigned = (name: string, record: unknown) =>
      fs.writeFileSync(path.join(p.dir, RECORDS, name), JSON.stringify(record));
    unsigned("approval-2026.11.1-20261124T000000Z.json", {
      kind: "approval",
      stack: "production",
      release: "2026.11.1",
      approvedBy: PEOPLE.approver.name,
      deployer: PEOPLE.deployer.name,
      approvedAt: new Date(NOW.getTime() - 30 * H).toISOString(),
      expiresAt: new Date(NOW.getTime() + H).toISOString(),
    });
    unsigned("rollback-2026.11.1-20261125T180000Z.json", {
      kind: "rollback",
      stack: "production",
      release: "2026.11.1",
      imageDigests: OTHER_DIGESTS,
      bundleSha256: "0".repeat(64),
      targetVersion: 2,
      reason: "drill",
      requestedBy: PEOPLE.sre.name,
      createdAt: new Date(NOW.getTime() - 60_000).toISOString(),
      expiresAt: new Date(NOW.getTime() + H).toISOString(),
    });
    unsigned(`override-${RELEASE}-20261120T000000Z.json`, {
      kind: "override",
      stack: "production",
      release: RELEASE,
      hotfix: true,
      incidentCommander: PEOPLE.incidentCommander.name,
      reason: "INC-1",
      waivedChecks: ["billing-drill"],
      createdAt: new Date(NOW.getTime() - 120 * H).toISOString(),
      expiresAt: new Date(NOW.getTime() - 100 * H).toISOString(),
    });
    unsigned("freeze-production-20261101T000000Z.json", {
      kind: "freeze",
      stack: "production",
      start: new Date(NOW.getTime() - 300 * H).toISOString(),
      end: new Date(NOW.getTime() - 200 * H).toISOString(),
      reason: "old window",
      declaredBy: PEOPLE.releaseManager.name,
    });
    const verdict = guard(p);
    expect(verdict.findings).toEqual([]);
    expect(verdict.advisories).toHaveLength(4);
    expect(verdict.advisories.join("\n")).toMatch(
      /rollback record .*rollback-2026\.11\.1-.* does not count \(it has no SSH signature/,
    );
    expect(recordNotes(inputOf(p)).join("\n")).toMatch(/concerns no release now/);
  });

  it("unsigned records for this release (freeze, override, rollback) do not block a release that is ready on its own", async () => {
    const { p, bundle } = await readyRelease();
    writeRequest(p, request(bundle), PEOPLE.deployer.name);
    const unsigned = (name: string, record: unknown) =>
      fs.writeFileSync(path.join(p.dir, RECORDS, name), JSON.stringify(record));
    unsigned("freeze-production-20261125T175000Z.json", {
      kind: "freeze",
      stack: "production",
      start: new Date(NOW.getTime() - H).toISOString(),
      end: new Date(NOW.getTime() + 2 * H).toISOString(),
      reason: "dropped in the evidence directory",
      declaredBy: PEOPLE.releaseManager.name,
    });
    unsigned(`override-${RELEASE}-20261125T175000Z.json`, {
      kind: "override",
      stack: "production",
      release: RELEASE,
      hotfix: true,
      incidentCommander: PEOPLE.incidentCommander.name,
      reason: "INC-2",
      waivedChecks: ["coverage"],
      createdAt: new Date(NOW.getTime() - H).toISOString(),
      expiresAt: new Date(NOW.getTime() + H).toISOString(),
    });
    unsigned(`rollback-${RELEASE}-20261125T175000Z.json`, {
      kind: "rollback",
      stack: "production",
      release: RELEASE,
      imageDigests: DIGESTS,
      bundleSha256: bundle.contentSha256,
      targetVersion: 2,
      reason: "drill",
      requestedBy: PEOPLE.sre.name,
      createdAt: new Date(NOW.getTime() - 60_000).toISOString(),
      expiresAt: new Date(NOW.getTime() + H).toISOString(),
    });
    expect(guard(p).findings).toEqual([]);
    // Without the valid freeze, the unsigned one is named among the reasons.
    fs.rmSync(path.join(p.dir, `${RECORDS}/freeze-production-20261125T173000Z.json.sig`));
    expect(
      guard(p)
        .findings.map((f) => f.message)
        .join("\n"),
    ).toMatch(/freeze-production-20261125T175000Z\.json does not count: it has no SSH signature/);
  });

  it("an unsigned approval for this release, unexpired, still blocks when no approval counts", async () => {
    const { p, bundle } = await readyRelease();
    writeRequest(p, request(bundle), PEOPLE.deployer.name);
    fs.rmSync(path.join(p.dir, `${RECORDS}/approval-${RELEASE}-20261125T173000Z.json.sig`));
    expect(
      guard(p)
        .findings.map((f) => f.message)
        .join("\n"),
    ).toMatch(/does not count: it has no SSH signature/);
  });
});
