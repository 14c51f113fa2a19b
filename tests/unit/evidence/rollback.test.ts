// Rollback admission: a rollback is admitted by the bundle that admitted the release it restores (named in stack
// history) plus a short-lived rollback record; freshness, the freeze and a new approval do not block it.
import * as fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { rollbackTarget, toReleaseEntry, type ReleaseEntry } from "../../../cli/history";
import {
  admissionMessage,
  admissionOf,
  evaluateGate,
  gateForStack,
  gateInputFor,
  sealBundle,
  sha256,
  writeSignedEvidence,
  type ApprovalRecord,
  type OverrideRecord,
  parseAdmission,
  readStackConfigFile,
  writeRecord,
  type GateInput,
  type RollbackRecord,
} from "../../../src/evidence";
import {
  DIGESTS,
  makeProject,
  NOW,
  OTHER_DIGESTS,
  PEOPLE,
  PREFLIGHT_SIGNER,
  produceBundle,
  signRecord,
  signRecordAs,
  RELEASE,
  type ProjectFixture,
} from "../../policy/fixtures";

const H = 3_600_000;
/** When the rollback happens: 30 h after the release's preflight (its bundle is stale by then). */
const LATER = new Date(NOW.getTime() + 30 * H);
let project: ProjectFixture | undefined;
afterEach(() => project?.cleanup());

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

function rollbackRecord(
  bundleSha256: string,
  overrides: Partial<RollbackRecord> = {},
  at = LATER,
): RollbackRecord {
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
    ...overrides,
  };
}

/** The leadership approval that admitted the release at `NOW` (expired by `LATER`), signed by its approver. */
function approval(bundleSha256: string, overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    kind: "approval",
    stack: "production",
    release: RELEASE,
    approvedBy: PEOPLE.approver.name,
    deployer: PEOPLE.deployer.name,
    imageDigests: DIGESTS,
    bundleSha256,
    approvedAt: new Date(NOW.getTime() - 60_000).toISOString(),
    expiresAt: new Date(NOW.getTime() + 4 * H).toISOString(),
    ...overrides,
  };
}

/**
 * A production project released at `NOW`: its only bundle (stale at `LATER`) and the approval that admitted it
 * (expired at `LATER`), no freeze then. `approvalSha256` is what stack history recorded of that approval.
 */
async function releasedLongAgo(): Promise<{
  p: ProjectFixture;
  bundleSha256: string;
  approvalSha256: string;
  approvalFile: string;
  json: string;
  envelope: string;
}> {
  project = makeProject();
  const { bundle, json, envelope } = await produceBundle(project);
  const approvalFile = writeRecord(project.evidenceDir, approval(bundle.contentSha256), NOW);
  signRecord(approvalFile);
  return {
    p: project,
    bundleSha256: bundle.contentSha256,
    approvalSha256: sha256(fs.readFileSync(approvalFile)),
    approvalFile,
    json,
    envelope,
  };
}

describe("rollback admission", () => {
  it("without a rollback record the stale bundle, the missing freeze and approval block", async () => {
    const { p } = await releasedLongAgo();
    const gate = evaluateGate(inputAt(p, LATER));
    expect(gate.readiness.map((f) => f.checkId)).toContain("fresh");
    expect(gate.freeze).toHaveLength(1);
    // The approval that admitted the release then has expired.
    expect(gate.approval.map((f) => f.message).join("\n")).toMatch(
      /expired at[\s\S]*No valid leadership approval/,
    );
  });

  it("a rollback record bound to the intact bundle and its approval admits the release: no freshness, freeze or new approval needed", async () => {
    const { p, bundleSha256, approvalSha256 } = await releasedLongAgo();
    signRecord(writeRecord(p.evidenceDir, rollbackRecord(bundleSha256, { approvalSha256 }), LATER));
    const gate = evaluateGate(inputAt(p, LATER));
    expect(gate).toEqual({ baseline: [], readiness: [], freeze: [], approval: [] });
    // The rollback's own admission names the same approval, so a later rollback to it is admitted the same way.
    expect(admissionOf(inputAt(p, LATER))).toEqual({ release: RELEASE, bundleSha256, approvalSha256 });
    // The signed rollback record is the rollback's request: the program guard needs no update request.
    expect(
      gateForStack({
        stack: p.stack,
        config: readStackConfigFile(p.dir, p.stack) ?? {},
        projectDir: p.dir,
        now: LATER,
      }).findings,
    ).toEqual([]);
  });

  const gateText = (p: ProjectFixture) =>
    evaluateGate(inputAt(p, LATER))
      .readiness.map((f) => f.message)
      .join("\n");

  it.each([
    [
      "an engineer",
      PEOPLE.engineer.name,
      /Eve Engineer admits nothing: their roster roles \[engineer\] include no role allowed to roll back \[ci-rollout, sre, incident-commander, release-manager/,
    ],
    ["the deployer (an engineer)", PEOPLE.deployer.name, /Riley Deployer admits nothing/],
  ])(
    "a rollback requested by %s admits nothing (committed rollbackRoles)",
    async (_who, requestedBy, why) => {
      const { p, bundleSha256, approvalSha256 } = await releasedLongAgo();
      signRecord(
        writeRecord(p.evidenceDir, rollbackRecord(bundleSha256, { approvalSha256, requestedBy }), LATER),
      );
      const gate = evaluateGate(inputAt(p, LATER));
      expect(gate.readiness.map((f) => f.checkId)).toEqual(["rollback"]);
      expect(gateText(p)).toMatch(why);
      expect(admissionOf(inputAt(p, LATER))).toBeUndefined();
    },
  );

  it.each(["sre-on-call", PEOPLE.incidentCommander.name, PEOPLE.releaseManager.name, PEOPLE.cto.name])(
    "%s (a role in rollbackRoles) may request it",
    async (requestedBy) => {
      const { p, bundleSha256, approvalSha256 } = await releasedLongAgo();
      signRecord(
        writeRecord(p.evidenceDir, rollbackRecord(bundleSha256, { approvalSha256, requestedBy }), LATER),
      );
      expect(evaluateGate(inputAt(p, LATER)).readiness).toEqual([]);
    },
  );

  it("a target that was never approved (no approval named) is not admitted, and the finding says what to do", async () => {
    const { p, bundleSha256 } = await releasedLongAgo();
    signRecord(writeRecord(p.evidenceDir, rollbackRecord(bundleSha256), LATER));
    const [finding, ...rest] = evaluateGate(inputAt(p, LATER)).readiness;
    expect(rest).toEqual([]);
    expect(finding?.message).toMatch(
      /names no approval: a production rollback restores only a release the gate admitted before/,
    );
    expect(finding?.remedy).toMatch(
      /rollout -- history --stack production, then rollback --to <a version whose admission names an approval>/,
    );
  });

  it("an approval that is not on file (deleted, or never written) admits nothing", async () => {
    const { p, bundleSha256, approvalSha256, approvalFile } = await releasedLongAgo();
    fs.rmSync(approvalFile);
    signRecord(writeRecord(p.evidenceDir, rollbackRecord(bundleSha256, { approvalSha256 }), LATER));
    expect(gateText(p)).toMatch(
      new RegExp(
        `approval sha256:${approvalSha256} that the rollback to release 2026\\.11\\.3 relies on is not on file`,
      ),
    );
    // A made-up hash is no better.
    signRecord(
      writeRecord(
        p.evidenceDir,
        rollbackRecord(bundleSha256, { approvalSha256: "e".repeat(64) }),
        new Date(LATER.getTime() + 1000),
      ),
    );
    expect(evaluateGate(inputAt(p, LATER)).readiness.map((f) => f.checkId)).toContain("rollback");
  });

  it.each([
    [
      "signed by someone who is not a leader",
      { approvedBy: PEOPLE.engineer.name },
      /include no leadership role/,
    ],
    [
      "bound to another bundle",
      { bundleSha256: "f".repeat(64) },
      /not the newest signed bundle|bound to bundle f{64}/,
    ],
    ["bound to other digests", { imageDigests: OTHER_DIGESTS }, /not bound to the digests/],
    ["naming the approver as the deployer", { deployer: PEOPLE.approver.name }, /approves their own release/],
  ])("an approval %s does not admit the rollback", async (_what, change, why) => {
    const { p, bundleSha256 } = await releasedLongAgo();
    const file = writeRecord(p.evidenceDir, approval(bundleSha256, change), new Date(NOW.getTime() + 1000));
    signRecord(file);
    const approvalSha256 = sha256(fs.readFileSync(file));
    signRecord(writeRecord(p.evidenceDir, rollbackRecord(bundleSha256, { approvalSha256 }), LATER));
    expect(gateText(p)).toMatch(why);
  });

  it("an approval whose signature is gone (or was never the approver's) admits nothing", async () => {
    const { p, bundleSha256, approvalSha256, approvalFile } = await releasedLongAgo();
    signRecordAs(approvalFile, PEOPLE.engineer.name);
    signRecord(writeRecord(p.evidenceDir, rollbackRecord(bundleSha256, { approvalSha256 }), LATER));
    expect(gateText(p)).toMatch(/is not on file .*\(or not signed by the person it names\)/);
  });

  it("a waived check in the target bundle counts only while a signed override for it still verifies", async () => {
    project = makeProject();
    const p = project;
    const { bundle: passing } = await produceBundle(p);
    // The bundle as a preflight under a break-glass override writes it: the drill check waived.
    const { contentSha256: _old, ...body } = passing;
    void _old;
    const waivedBody = {
      ...body,
      createdAt: new Date(NOW.getTime() + 1000).toISOString(),
      checks: body.checks.map((c) => (c.id === "billing-drill" ? { ...c, verdict: "waived" as const } : c)),
    };
    const waived = sealBundle(waivedBody);
    await writeSignedEvidence(waived, p.evidenceDir, [], PREFLIGHT_SIGNER);
    const a = writeRecord(p.evidenceDir, approval(waived.contentSha256), NOW);
    signRecord(a);
    const approvalSha256 = sha256(fs.readFileSync(a));
    signRecord(writeRecord(p.evidenceDir, rollbackRecord(waived.contentSha256, { approvalSha256 }), LATER));
    expect(gateText(p)).toMatch(
      /records waived checks \(billing-drill\) that no signed break-glass override on file still backs/,
    );
    // The incident commander's override (bound to the release, valid when the preflight ran) backs it.
    const override: OverrideRecord = {
      kind: "override",
      stack: p.stack,
      release: RELEASE,
      hotfix: true,
      incidentCommander: PEOPLE.incidentCommander.name,
      reason: "INC-42",
      waivedChecks: ["billing-drill"],
      deployer: PEOPLE.deployer.name,
      imageDigests: DIGESTS,
      bundleSha256: passing.contentSha256,
      createdAt: new Date(NOW.getTime() - 60_000).toISOString(),
      expiresAt: new Date(NOW.getTime() + 4 * H).toISOString(),
    };
    const o = writeRecord(p.evidenceDir, override, NOW);
    signRecordAs(o, PEOPLE.engineer.name);
    expect(gateText(p)).toMatch(/records waived checks/);
    signRecord(o);
    expect(evaluateGate(inputAt(p, LATER)).readiness).toEqual([]);
  });

  it.each([
    [
      "expired",
      (sha: string) => rollbackRecord(sha, { expiresAt: new Date(LATER.getTime() - 1).toISOString() }),
    ],
    [
      "longer-lived than 2 h",
      (sha: string) =>
        rollbackRecord(sha, {
          createdAt: new Date(LATER.getTime() - H).toISOString(),
          expiresAt: new Date(LATER.getTime() + 2 * H).toISOString(),
        }),
    ],
    ["for other digests", (sha: string) => rollbackRecord(sha, { imageDigests: OTHER_DIGESTS })],
    ["for another release", (sha: string) => rollbackRecord(sha, { release: "2026.11.1" })],
  ])("a rollback record %s admits nothing: the normal rules apply", async (_what, make) => {
    const { p, bundleSha256 } = await releasedLongAgo();
    signRecord(writeRecord(p.evidenceDir, make(bundleSha256), LATER));
    const gate = evaluateGate(inputAt(p, LATER));
    expect(gate.readiness.map((f) => f.checkId)).toContain("fresh");
    expect(gate.freeze).toHaveLength(1);
  });

  it("blocks when the bundle the record names is not on file", async () => {
    const { p, approvalSha256 } = await releasedLongAgo();
    signRecord(writeRecord(p.evidenceDir, rollbackRecord("0".repeat(64), { approvalSha256 }), LATER));
    expect(
      evaluateGate(inputAt(p, LATER))
        .readiness.map((f) => f.message)
        .join("\n"),
    ).toMatch(/bundle sha256:0{64} that admitted release 2026\.11\.3 \(update 3\) is not in/);
  });

  it("a rollback record whose admission no longer holds does not block a release that is ready on its own", async () => {
    project = makeProject();
    const p = project;
    const { bundle } = await produceBundle(p);
    signRecord(writeRecord(p.evidenceDir, rollbackRecord("0".repeat(64), {}, NOW), NOW));
    // The rollback path fails (its bundle is gone, it names no approval) and the release has no freeze or approval:
    // the rollback is reported.
    expect(new Set(evaluateGate(inputAt(p, NOW)).readiness.map((f) => f.checkId))).toEqual(
      new Set(["rollback"]),
    );
    // With a freeze window and an approval bound to the fresh bundle, the release passes as a new one.
    signRecord(
      writeRecord(
        p.evidenceDir,
        {
          kind: "freeze",
          stack: p.stack,
          start: new Date(NOW.getTime() - H).toISOString(),
          end: new Date(NOW.getTime() + 4 * H).toISOString(),
          reason: "release window",
          declaredBy: PEOPLE.releaseManager.name,
        },
        NOW,
      ),
    );
    signRecord(
      writeRecord(
        p.evidenceDir,
        {
          kind: "approval",
          stack: p.stack,
          release: RELEASE,
          approvedBy: PEOPLE.approver.name,
          deployer: PEOPLE.deployer.name,
          imageDigests: DIGESTS,
          bundleSha256: bundle.contentSha256,
          approvedAt: new Date(NOW.getTime() - 60_000).toISOString(),
          expiresAt: new Date(NOW.getTime() + 4 * H).toISOString(),
        },
        NOW,
      ),
    );
    expect(evaluateGate(inputAt(p, NOW))).toEqual({ baseline: [], readiness: [], freeze: [], approval: [] });
    expect(admissionOf(inputAt(p, NOW))?.bundleSha256).toBe(bundle.contentSha256);
  });

  it("blocks when the target's bundle was altered", async () => {
    const { p, bundleSha256, approvalSha256, envelope } = await releasedLongAgo();
    signRecord(writeRecord(p.evidenceDir, rollbackRecord(bundleSha256, { approvalSha256 }), LATER));
    const env = JSON.parse(fs.readFileSync(envelope, "utf8")) as { payload: string };
    const text = Buffer.from(env.payload, "base64").toString().replace('"fail"', '"pass"');
    fs.writeFileSync(
      envelope,
      JSON.stringify({ ...env, payload: Buffer.from(`${text} `).toString("base64") }),
    );
    expect(
      evaluateGate(inputAt(p, LATER))
        .readiness.map((f) => f.message)
        .join("\n"),
    ).toMatch(/that admitted release 2026\.11\.3 \(update 3\) is not in .*only by the intact bundle/);
  });

  it("an unsigned rollback record (or one signed by someone not in the roster) admits nothing in production", async () => {
    const { p, bundleSha256 } = await releasedLongAgo();
    const file = writeRecord(p.evidenceDir, rollbackRecord(bundleSha256), LATER);
    const gate = evaluateGate(inputAt(p, LATER));
    expect(gate.readiness.map((f) => f.checkId)).toContain("fresh");
    expect(gate.freeze.map((f) => f.message).join("\n")).toMatch(/No active change-freeze/);
    expect(gate.readiness.map((f) => f.message).join("\n")).toMatch(
      /Rollback record .* admits nothing: it has no SSH signature/,
    );
    signRecordAs(file, PEOPLE.engineer.name);
    expect(evaluateGate(inputAt(p, LATER)).readiness.map((f) => f.checkId)).toContain("fresh");
  });

  it("still applies the production baseline to a rollback", async () => {
    const { p, bundleSha256, approvalSha256 } = await releasedLongAgo();
    signRecord(writeRecord(p.evidenceDir, rollbackRecord(bundleSha256, { approvalSha256 }), LATER));
    const input = inputAt(p, LATER);
    const narrowed = {
      ...input,
      enforcement: {
        ...input.enforcement,
        baseline: { ...input.enforcement.baseline, allowedRegistries: ["elsewhere.example/nova"] },
      },
    };
    expect(evaluateGate(narrowed).baseline.map((f) => f.checkId)).toEqual(["registry"]);
  });
});

describe("admission in stack history", () => {
  it("round-trips through the update message", () => {
    const a = { release: "r1", bundleSha256: "a".repeat(64), approvalSha256: "b".repeat(64) };
    expect(parseAdmission(admissionMessage(a, "release r1"))).toEqual(a);
  });

  it.each([
    undefined,
    "release r1",
    "nova-rollout admission {not json",
    `nova-rollout admission {"release":"r1","bundleSha256":"xyz"}`,
  ])("reads no admission from %j", (message) => expect(parseAdmission(message)).toBeUndefined());

  const entry = (version: number, digest: string, message?: string): ReleaseEntry =>
    toReleaseEntry(
      {
        version,
        kind: "update",
        result: "succeeded",
        startTime: new Date(),
        endTime: new Date(),
        environment: {},
        message: message ?? "",
        config: {
          "nova-rollout:imageTag": { value: `r${version}`, secret: false },
          "nova-rollout:apiImageDigest": { value: digest, secret: false },
          "nova-rollout:workerImageDigest": { value: digest, secret: false },
        },
      },
      version,
    );

  it("a production rollback targets only updates the gate admitted", () => {
    const admitted = admissionMessage({ release: "r1", bundleSha256: "c".repeat(64) }, "release r1");
    const history = [entry(3, "sha256:3"), entry(2, "sha256:2"), entry(1, "sha256:1", admitted)];
    expect(rollbackTarget(history, { apiDigest: "sha256:3", workerDigest: "sha256:3" }).version).toBe(2);
    expect(
      rollbackTarget(history, { apiDigest: "sha256:3", workerDigest: "sha256:3" }, undefined, true).version,
    ).toBe(1);
    expect(() => rollbackTarget(history, { apiDigest: "x", workerDigest: "x" }, 2, true)).toThrow(
      /carries no gate admission/,
    );
  });
});

describe("nova-rollout:rollbackOf on a production stack (the program skips the database dump with it)", () => {
  const withRollbackOf = (p: ProjectFixture) => ({
    ...(readStackConfigFile(p.dir, p.stack) ?? {}),
    "nova-rollout:rollbackOf": `update 3 api ${DIGESTS.api} worker ${DIGESTS.worker}`,
  });

  it("counts for the admitted rollback it was written for", async () => {
    const { p, bundleSha256, approvalSha256 } = await releasedLongAgo();
    signRecord(writeRecord(p.evidenceDir, rollbackRecord(bundleSha256, { approvalSha256 }), LATER));
    const verdict = gateForStack({
      stack: p.stack,
      config: withRollbackOf(p),
      projectDir: p.dir,
      now: LATER,
    });
    expect(verdict.findings).toEqual([]);
  });

  it("set by hand on a release with no rollback record, it is a finding naming the fix", async () => {
    const { p } = await releasedLongAgo();
    const verdict = gateForStack({
      stack: p.stack,
      config: withRollbackOf(p),
      projectDir: p.dir,
      now: LATER,
    });
    const finding = verdict.findings.find((f) => f.checkId === "rollback-of");
    expect(finding?.message).toMatch(/no admitted rollback record is on file/);
    expect(finding?.remedy).toBe(`pulumi config rm nova-rollout:rollbackOf --stack ${p.stack}`);
  });
});
