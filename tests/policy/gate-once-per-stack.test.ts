// The pack's gate policies share the gate's input and trusted view per stack: across every gated resource and every
// gate policy of a run, each signed record's SSH signature is verified once.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { breakGlassOverride, changeFreeze, leadershipApproval, readinessGate } from "../../policy/policies";
import { GATED_TYPES } from "../../policy/policies/gate-support";
import { RELEASE_ANNOTATIONS } from "../../src/contract";
import * as sshsig from "../../src/evidence/sshsig";
import { DIGESTS, NOW, PEOPLE, produceBundle, RELEASE, signRecordAs } from "./fixtures";
import { fileConfig, runResourcePolicy } from "./harness";
import { usePolicyTestContext } from "./support";

vi.mock("../../src/evidence/sshsig", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/evidence/sshsig")>();
  return { ...real, verifySshSignature: vi.fn(real.verifySshSignature) };
});
const verify = vi.mocked(sshsig.verifySshSignature);

const fixture = usePolicyTestContext();
const H = 3_600_000;
const RECORDS = "tests/drills/logs/production/records";

describe("the gate policies of one run", () => {
  it("verify each record's signature once per stack, whatever the number of gated resources and policies", async () => {
    const p = fixture.project;
    const { bundle } = await produceBundle(p);
    const records = {
      "freeze-production-20261125T173000Z.json": [
        {
          kind: "freeze",
          stack: "production",
          start: new Date(NOW.getTime() - H).toISOString(),
          end: new Date(NOW.getTime() + 4 * H).toISOString(),
          reason: "release window",
          declaredBy: PEOPLE.releaseManager.name,
        },
        PEOPLE.releaseManager.name,
      ],
      [`approval-${RELEASE}-20261125T173000Z.json`]: [
        {
          kind: "approval",
          stack: "production",
          release: RELEASE,
          approvedBy: PEOPLE.approver.name,
          deployer: PEOPLE.deployer.name,
          imageDigests: DIGESTS,
          bundleSha256: bundle.contentSha256,
          approvedAt: new Date(NOW.getTime() - 60_000).toISOString(),
          expiresAt: new Date(NOW.getTime() + 4 * H).toISOString(),
        },
        PEOPLE.approver.name,
      ],
      [`override-${RELEASE}-20261125T173000Z.json`]: [
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
        PEOPLE.incidentCommander.name,
      ],
    } as const;
    const files = Object.entries(records).map(([name, [record, signer]]) => {
      const file = p.write(`${RECORDS}/${name}`, JSON.stringify(record));
      signRecordAs(file, signer);
      return file;
    });
    const namespaceProps = {
      metadata: {
        name: "nova-prod",
        annotations: {
          [RELEASE_ANNOTATIONS.release]: RELEASE,
          [RELEASE_ANNOTATIONS.apiDigest]: DIGESTS.api,
          [RELEASE_ANNOTATIONS.workerDigest]: DIGESTS.worker,
          [RELEASE_ANNOTATIONS.environment]: "production",
        },
      },
    };
    verify.mockClear();

    const messages: string[] = [];
    for (const policy of [readinessGate, changeFreeze, leadershipApproval, breakGlassOverride]) {
      for (const type of GATED_TYPES) {
        const outcome = await runResourcePolicy(policy, {
          type,
          name: type.split(":").at(-1) ?? type,
          props: type.startsWith("kubernetes:core/v1:Namespace") ? namespaceProps : {},
          config: fileConfig(policy, "production", { projectDir: p.dir }),
        });
        if (policy !== breakGlassOverride) messages.push(...outcome.messages);
      }
    }
    expect(messages).toEqual([]);
    const bySig = new Map(files.map((f) => [fs.readFileSync(`${f}.sig`, "utf8"), path.basename(f)]));
    const counts = verify.mock.calls.map(([, sig]) => bySig.get(sig) ?? "(other)");
    expect(counts.sort()).toEqual(files.map((f) => path.basename(f)).sort());
  });
});
