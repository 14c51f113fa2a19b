// The gate builds its trusted view once per evaluation: every signed record of a production stack (freeze, approval,
// override, rollback, freeze lift, retry, update request) has its SSH signature verified exactly once, whether the
// stack deploys a new release or a rollback, and whether a rollback record admits it or is set aside.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  admissionOf,
  evaluateGate,
  gateForStack,
  gateInputFor,
  readStackConfigFile,
  sha256,
  writeRecord,
  type ApprovalRecord,
  type EvidenceBundle,
  type GateInput,
  type RollbackRecord,
} from "../../../src/evidence";
import * as sshsig from "../../../src/evidence/sshsig";
import { writeRejectionRecord } from "../../../src/evidence/rejections";
import { updateRequestsDir } from "../../../src/evidence/update-requests";
import { postLaunchRecordsDir } from "../../../src/evidence/post-launch-records";
import {
  DIGESTS,
  makeProject,
  NOW,
  PEOPLE,
  produceBundle,
  RELEASE,
  signRecord,
  signRecordAs,
  type ProjectFixture,
} from "../../policy/fixtures";

// Every SSH signature check of the gate ends in sshsig.verifySshSignature: wrap it to count the calls.
vi.mock("../../../src/evidence/sshsig", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../../src/evidence/sshsig")>();
  return { ...real, verifySshSignature: vi.fn(real.verifySshSignature) };
});
const verify = vi.mocked(sshsig.verifySshSignature);

const H = 3_600_000;
const LATER = new Date(NOW.getTime() + 30 * H);
let project: ProjectFixture | undefined;
beforeEach(() => verify.mockClear());
afterEach(() => {
  project?.cleanup();
  project = undefined;
});

function inputAt(p: ProjectFixture, now: Date): GateInput {
  const input = gateInputFor({
    stack: p.stack,
    config: readStackConfigFile(p.dir, p.stack) ?? {},
    projectDir: p.dir,
    now,
  });
  if ("enforcementError" in input) throw new Error(input.enforcementError);
  return input;
}

const guardAt = (p: ProjectFixture, now: Date) =>
  gateForStack({ stack: p.stack, config: readStackConfigFile(p.dir, p.stack) ?? {}, projectDir: p.dir, now });

/** How often each signed file's signature was verified since the last `mockClear` (file → count). */
function verificationsPerFile(files: readonly string[]): Record<string, number> {
  const bySig = new Map(files.map((f) => [fs.readFileSync(`${f}.sig`, "utf8"), path.basename(f)] as const));
  const counts: Record<string, number> = Object.fromEntries(files.map((f) => [path.basename(f), 0]));
  for (const [, sig] of verify.mock.calls) {
    const file = bySig.get(sig);
    if (file === undefined) throw new Error("a signature outside the fixture was verified");
    counts[file] = (counts[file] ?? 0) + 1;
  }
  return counts;
}

const once = (files: readonly string[]) => Object.fromEntries(files.map((f) => [path.basename(f), 1]));

function writeSigned(p: ProjectFixture, record: Parameters<typeof writeRecord>[1], at: Date): string {
  const file = writeRecord(p.evidenceDir, record, at);
  signRecord(file);
  return file;
}

function approval(bundleSha256: string, expiresAt: Date): ApprovalRecord {
  return {
    kind: "approval",
    stack: "production",
    release: RELEASE,
    approvedBy: PEOPLE.approver.name,
    deployer: PEOPLE.deployer.name,
    imageDigests: DIGESTS,
    bundleSha256,
    approvedAt: new Date(NOW.getTime() - 60_000).toISOString(),
    expiresAt: expiresAt.toISOString(),
  };
}

function rollback(bundleSha256: string, at: Date, change: Partial<RollbackRecord> = {}): RollbackRecord {
  return {
    kind: "rollback",
    stack: "production",
    release: RELEASE,
    imageDigests: DIGESTS,
    bundleSha256,
    targetVersion: 3,
    reason: "release 2026.11.4 failed verification",
    requestedBy: "sre-on-call",
    createdAt: new Date(at.getTime() - 60_000).toISOString(),
    expiresAt: new Date(at.getTime() + H).toISOString(),
    ...change,
  };
}

/** A ready production release at NOW with every kind of signed record the gate reads. */
async function readyWithEveryRecord(): Promise<{
  p: ProjectFixture;
  bundle: EvidenceBundle;
  files: string[];
}> {
  project = makeProject();
  const p = project;
  const { bundle } = await produceBundle(p);
  const files = [
    writeSigned(
      p,
      {
        kind: "freeze",
        stack: "production",
        start: new Date(NOW.getTime() - H).toISOString(),
        end: new Date(NOW.getTime() + 4 * H).toISOString(),
        reason: "release window",
        declaredBy: PEOPLE.releaseManager.name,
      },
      new Date(NOW.getTime() - 2 * 60_000),
    ),
    writeSigned(p, approval(bundle.contentSha256, new Date(NOW.getTime() + 4 * H)), NOW),
    writeSigned(
      p,
      {
        kind: "override",
        stack: "production",
        release: RELEASE,
        hotfix: true,
        incidentCommander: PEOPLE.incidentCommander.name,
        deployer: PEOPLE.deployer.name,
        reason: "INC-7: hotfix",
        waivedChecks: ["e2e-smoke"],
        imageDigests: DIGESTS,
        bundleSha256: bundle.contentSha256,
        createdAt: new Date(NOW.getTime() - 60_000).toISOString(),
        expiresAt: new Date(NOW.getTime() + 2 * H).toISOString(),
      },
      new Date(NOW.getTime() - 60_000),
    ),
    // A rollback record that admits nothing (an engineer may not roll back): the gate sets it aside and judges the
    // release as a new one, reusing what it verified.
    writeSigned(
      p,
      rollback(bundle.contentSha256, NOW, { requestedBy: PEOPLE.engineer.name }),
      new Date(NOW.getTime() - 30_000),
    ),
  ];
  // A freeze lift of another window, a retry of another failed update and the deployer's update request.
  const lift = path.join(postLaunchRecordsDir(p.evidenceDir, p.stack), "freeze-lift-old-window.json");
  fs.mkdirSync(path.dirname(lift), { recursive: true });
  fs.writeFileSync(
    lift,
    `${JSON.stringify({
      kind: "freeze-lift",
      stack: "production",
      freezeRecord: "freeze-production-20261101T000000Z.json",
      freezeSha256: "f".repeat(64),
      windowStart: new Date(NOW.getTime() - 25 * 24 * H).toISOString(),
      windowEnd: new Date(NOW.getTime() - 19 * 24 * H).toISOString(),
      liftedBy: PEOPLE.releaseManager.name,
      liftedAt: new Date(NOW.getTime() - 20 * 24 * H).toISOString(),
      reason: "launch done",
    })}\n`,
  );
  signRecordAs(lift, PEOPLE.releaseManager.name);
  const retry = writeRejectionRecord(p.evidenceDir, {
    kind: "retry",
    stack: "production",
    release: "2026.11.1",
    imageDigests: DIGESTS,
    failedVersion: 2,
    reason: "flaky probe",
    decidedBy: PEOPLE.releaseManager.name,
    createdAt: new Date(NOW.getTime() - 24 * H).toISOString(),
  });
  signRecordAs(retry, PEOPLE.releaseManager.name);
  const request = path.join(updateRequestsDir(p.evidenceDir, p.stack), "request.json");
  fs.mkdirSync(path.dirname(request), { recursive: true });
  fs.writeFileSync(
    request,
    `${JSON.stringify({
      kind: "update-request",
      stack: "production",
      release: RELEASE,
      imageDigests: DIGESTS,
      bundleSha256: bundle.contentSha256,
      requestedBy: PEOPLE.deployer.name,
      createdAt: new Date(NOW.getTime() - 5 * 60_000).toISOString(),
    })}\n`,
  );
  signRecordAs(request, PEOPLE.deployer.name);
  return { p, bundle, files: [...files, lift, retry, request] };
}

describe("the gate verifies each production record's signature once per evaluation", () => {
  it("a new release with a freeze, an approval, an override and a rollback record set aside", async () => {
    const { p, files } = await readyWithEveryRecord();
    // Records only: the update request is read where a real update starts (the guard, below).
    const records = files.filter((f) => !f.endsWith("request.json"));

    verify.mockClear();
    expect(evaluateGate(inputAt(p, NOW))).toEqual({ baseline: [], readiness: [], freeze: [], approval: [] });
    expect(verificationsPerFile(records)).toEqual(once(records));

    verify.mockClear();
    const verdict = guardAt(p, NOW);
    expect(verdict.findings).toEqual([]);
    expect(verificationsPerFile(files)).toEqual(once(files));

    verify.mockClear();
    expect(admissionOf(inputAt(p, NOW))?.approvalSha256).toBe(sha256(fs.readFileSync(files[1] ?? "")));
    expect(verificationsPerFile(records)).toEqual(once(records));
  });

  it("a rollback admitted by the bundle and approval of the release it restores", async () => {
    project = makeProject();
    const p = project;
    const { bundle } = await produceBundle(p);
    const approvalFile = writeSigned(p, approval(bundle.contentSha256, new Date(NOW.getTime() + 4 * H)), NOW);
    const approvalSha256 = sha256(fs.readFileSync(approvalFile));
    const rollbackFile = writeSigned(p, rollback(bundle.contentSha256, LATER, { approvalSha256 }), LATER);
    const files = [approvalFile, rollbackFile];

    verify.mockClear();
    expect(evaluateGate(inputAt(p, LATER))).toEqual({
      baseline: [],
      readiness: [],
      freeze: [],
      approval: [],
    });
    expect(verificationsPerFile(files)).toEqual(once(files));

    verify.mockClear();
    expect(guardAt(p, LATER).findings).toEqual([]);
    expect(verificationsPerFile(files)).toEqual(once(files));

    verify.mockClear();
    expect(admissionOf(inputAt(p, LATER))).toEqual({
      release: RELEASE,
      bundleSha256: bundle.contentSha256,
      approvalSha256,
    });
    expect(verificationsPerFile(files)).toEqual(once(files));
  });
});
