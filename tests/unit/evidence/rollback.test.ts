// Rollback admission: a rollback is admitted by the bundle that admitted the release it restores (named in stack
// history) plus a short-lived rollback record; freshness, the freeze and a new approval do not block it.
import * as fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { rollbackTarget, toReleaseEntry, type ReleaseEntry } from "../../../cli/engine";
import {
  admissionMessage,
  admissionOf,
  evaluateGate,
  gateInputFor,
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

/** A production project whose only bundle was made at `NOW` (stale at `LATER`), with no freeze or approval then. */
async function releasedLongAgo(): Promise<{
  p: ProjectFixture;
  bundleSha256: string;
  json: string;
  envelope: string;
}> {
  project = makeProject();
  const { bundle, json, envelope } = await produceBundle(project);
  return { p: project, bundleSha256: bundle.contentSha256, json, envelope };
}

describe("rollback admission", () => {
  it("without a rollback record the stale bundle, the missing freeze and approval block", async () => {
    const { p } = await releasedLongAgo();
    const gate = evaluateGate(inputAt(p, LATER));
    expect(gate.readiness.map((f) => f.checkId)).toContain("fresh");
    expect(gate.freeze).toHaveLength(1);
    expect(gate.approval).toHaveLength(1);
  });

  it("a rollback record bound to the intact bundle admits the release: no freshness, freeze or approval needed", async () => {
    const { p, bundleSha256 } = await releasedLongAgo();
    signRecord(writeRecord(p.evidenceDir, rollbackRecord(bundleSha256), LATER));
    const gate = evaluateGate(inputAt(p, LATER));
    expect(gate).toEqual({ baseline: [], readiness: [], freeze: [], approval: [] });
    expect(admissionOf(inputAt(p, LATER))).toEqual({ release: RELEASE, bundleSha256 });
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
    const { p } = await releasedLongAgo();
    signRecord(writeRecord(p.evidenceDir, rollbackRecord("0".repeat(64)), LATER));
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
    // The rollback path fails (its bundle is gone) and the release has no freeze or approval: the rollback is reported.
    expect(
      evaluateGate(inputAt(p, NOW))
        .readiness.map((f) => f.checkId)
        .join(","),
    ).toBe("rollback");
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
    const { p, bundleSha256, envelope } = await releasedLongAgo();
    signRecord(writeRecord(p.evidenceDir, rollbackRecord(bundleSha256), LATER));
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
    const { p, bundleSha256 } = await releasedLongAgo();
    signRecord(writeRecord(p.evidenceDir, rollbackRecord(bundleSha256), LATER));
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
