// Rejected releases: a release whose verification failed on a stack is refused there by the gate until the stack names
// new digests or a decision to retry the failed update is recorded (signed by the roster person it names in production).
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  admissionMessage,
  gateInputFor,
  parseAdmission,
  readinessFindings,
  readStackConfigFile,
  type GateInput,
} from "../../../src/evidence";
import {
  parseRejectionNote,
  readRejections,
  rejectionFindings,
  rejectionNote,
  restoreRejections,
  writeRejectionRecord,
  type RejectionRecord,
  type RetryRecord,
} from "../../../src/evidence/rejections";
import {
  DIGESTS,
  makeProject,
  makeSandboxProject,
  NOW,
  OTHER_DIGESTS,
  PEOPLE,
  RELEASE,
  signRecordAs,
  type ProjectFixture,
} from "../../policy/fixtures";

let project: ProjectFixture | undefined;
afterEach(() => project?.cleanup());

function inputOf(p: ProjectFixture): GateInput {
  const input = gateInputFor({
    stack: p.stack,
    config: readStackConfigFile(p.dir, p.stack) ?? {},
    projectDir: p.dir,
    now: NOW,
  });
  if ("enforcementError" in input) throw new Error(input.enforcementError);
  return input;
}

function rejection(p: ProjectFixture, overrides: Partial<RejectionRecord> = {}): RejectionRecord {
  return {
    kind: "rejection",
    stack: p.stack,
    release: RELEASE,
    imageDigests: DIGESTS,
    failedVersion: 5,
    failedChecks: ["nova-verify-metric-error-ratio"],
    createdAt: new Date(NOW.getTime() - 3_600_000).toISOString(),
    ...overrides,
  };
}

function retry(p: ProjectFixture, overrides: Partial<RetryRecord> = {}): RetryRecord {
  return {
    kind: "retry",
    stack: p.stack,
    release: RELEASE,
    imageDigests: DIGESTS,
    failedVersion: 5,
    reason: "the error ratio came from a broken upstream, fixed since",
    decidedBy: PEOPLE.sre.name,
    createdAt: NOW.toISOString(),
    ...overrides,
  };
}

const rejectedIds = (input: GateInput) => readinessFindings(input).filter((f) => f.checkId === "rejected");

describe("the gate refuses a rejected release", () => {
  it("names the failed update, its checks and both ways out", () => {
    project = makeProject();
    writeRejectionRecord(project.evidenceDir, rejection(project));
    const [finding, ...rest] = rejectedIds(inputOf(project));
    expect(rest).toEqual([]);
    expect(finding?.message).toMatch(
      /update 5 failed post-deploy verification \(nova-verify-metric-error-ratio\)/,
    );
    expect(finding?.message).toMatch(/rejected on stack production/);
    expect(finding?.remedy).toMatch(/new digests|digests of a fixed release/);
    expect(finding?.remedy).toMatch(/up --stack production --retry-failed 5 /);
  });

  it.each([
    ["new digests on the stack", { imageDigests: OTHER_DIGESTS }, undefined],
    ["a retry signed by the roster person it names", {}, PEOPLE.sre.name],
  ])("lets it through with %s", (_what, rejectionOverrides: Partial<RejectionRecord>, signer) => {
    project = makeProject();
    writeRejectionRecord(project.evidenceDir, rejection(project, rejectionOverrides));
    if (signer !== undefined) {
      signRecordAs(writeRejectionRecord(project.evidenceDir, retry(project)), signer);
    }
    expect(rejectedIds(inputOf(project))).toEqual([]);
  });

  it.each([
    ["unsigned", retry, undefined, /has no SSH signature/],
    ["signed by someone else", retry, PEOPLE.engineer.name, /signature is not sre-on-call's/],
    [
      "naming another failed update",
      (p: ProjectFixture) => retry(p, { failedVersion: 4 }),
      PEOPLE.sre.name,
      /update 5 failed/,
    ],
    [
      "for other digests",
      (p: ProjectFixture) => retry(p, { imageDigests: OTHER_DIGESTS }),
      PEOPLE.sre.name,
      /update 5 failed/,
    ],
  ])("a production retry %s lifts nothing", (_what, make, signer, message) => {
    project = makeProject();
    writeRejectionRecord(project.evidenceDir, rejection(project));
    const file = writeRejectionRecord(project.evidenceDir, make(project));
    if (signer !== undefined) signRecordAs(file, signer);
    const found = rejectedIds(inputOf(project));
    expect(found).toHaveLength(1);
    expect(found[0]?.message).toMatch(message);
  });

  it("outside production an unsigned retry counts", () => {
    project = makeSandboxProject();
    const p = project;
    const sandbox = (): GateInput => ({
      ...inputOf(p),
      stackClass: { production: false, protectedTargets: [] },
    });
    writeRejectionRecord(p.evidenceDir, rejection(p));
    expect(rejectionFindings(sandbox())).toHaveLength(1);
    writeRejectionRecord(p.evidenceDir, retry(p));
    expect(rejectionFindings(sandbox())).toEqual([]);
  });

  it("a malformed rejection file fails closed", () => {
    project = makeProject();
    const dir = path.join(project.evidenceDir, project.stack, "records", "rejections");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "rejection-x.json"), '{"kind":"rejection"}');
    const found = rejectedIds(inputOf(project));
    expect(found).toHaveLength(1);
    expect(found[0]?.message).toMatch(/unreadable or invalid/);
  });

  it("keeps rejections apart from the gate's records (no record finding for them)", () => {
    project = makeProject();
    writeRejectionRecord(project.evidenceDir, rejection(project, { imageDigests: OTHER_DIGESTS }));
    expect(readinessFindings(inputOf(project)).map((f) => f.checkId)).not.toContain("records");
    expect(readRejections(project.evidenceDir, project.stack).rejections).toHaveLength(1);
  });
});

describe("rejections carried in stack history", () => {
  it("round-trip through an update message that also carries the admission", () => {
    project = makeProject();
    const r = rejection(project);
    const admission = { release: "r1", bundleSha256: "c".repeat(64) };
    const message = admissionMessage(admission, `rollback to update 3 (release r1); ${rejectionNote(r)}`);
    expect(parseRejectionNote(message)).toEqual(r);
    expect(parseAdmission(message)).toEqual(admission);
    expect(parseRejectionNote("release r2")).toBeUndefined();
  });

  it("are written back once when the evidence directory lacks them", () => {
    project = makeProject();
    const r = rejection(project);
    expect(restoreRejections(project.evidenceDir, project.stack, [r, r])).toHaveLength(1);
    expect(restoreRejections(project.evidenceDir, project.stack, [r])).toEqual([]);
    expect(rejectedIds(inputOf(project))).toHaveLength(1);
  });
});
