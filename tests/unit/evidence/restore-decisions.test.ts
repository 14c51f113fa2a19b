// The incident commander's decision behind `restore-db --over-live`: each way a decision fails to allow the restore
// is named, and only a decision signed by the incident commander, for this stack and dump, unexpired and unused does.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sshPublicKeyLine, sshSignWithKey } from "../../../src/evidence/sshsig";
import {
  findRestoreDecision,
  type RestoreDecision,
  restoreDecisionFileName,
  restoreDecisionsDir,
  usedMarker,
} from "../../../src/evidence/restore-decisions";
import type { Roster } from "../../../src/evidence/trust";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "restore-decisions-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ic = crypto.generateKeyPairSync("ed25519");
const sre = crypto.generateKeyPairSync("ed25519");
const roster: Roster = {
  people: [
    { name: "ida", roles: ["incident-commander"], sshPublicKey: sshPublicKeyLine(ic.publicKey) },
    { name: "sam", roles: ["sre"], sshPublicKey: sshPublicKeyLine(sre.publicKey) },
  ],
  preflightKeys: [],
};

const NOW = new Date("2026-12-04T12:00:00Z");
const SHA = "a".repeat(64);
const decision = (over: Partial<RestoreDecision> = {}): RestoreDecision => ({
  kind: "restore-db",
  stack: "production",
  dump: "gs://nova-prod-backups/production-r1-0a1b-20261204T010000Z.dump",
  dumpSha256: SHA,
  incidentCommander: "ida",
  reason: "INC-7",
  createdAt: "2026-12-04T11:30:00.000Z",
  expiresAt: "2026-12-04T12:30:00.000Z",
  ...over,
});

let n = 0;
/** A fresh evidence directory holding one decision, signed with `key` (null: unsigned). */
function onFile(record: unknown, key: crypto.KeyObject | null = ic.privateKey): string {
  const evidence = path.join(dir, `e${n++}`);
  const file = path.join(
    restoreDecisionsDir(evidence, "production"),
    restoreDecisionFileName("production", NOW),
  );
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(record));
  if (key !== null) fs.writeFileSync(`${file}.sig`, sshSignWithKey(fs.readFileSync(file), key));
  return evidence;
}
const judge = (evidence: string, sha = SHA) =>
  findRestoreDecision(evidence, roster, { stack: "production", dumpSha256: sha, now: NOW });

describe("restore decisions", () => {
  it("allow the restore when signed by the incident commander for this stack and dump, unexpired and unused", () => {
    const evidence = onFile(decision());
    const found = judge(evidence);
    expect(found).toEqual({ file: expect.stringMatching(/restore-db-production-.*\.json$/) as string });
  });

  it.each([
    ["none on file", undefined, undefined, /^$/],
    ["another dump", decision(), "b".repeat(64), /it names another dump/],
    ["another stack", decision({ stack: "staging" }), undefined, /it is for stack staging/],
    ["expired", decision({ expiresAt: "2026-12-04T11:59:00.000Z" }), undefined, /it expired at/],
    [
      "too long",
      decision({ expiresAt: "2026-12-04T14:00:00.000Z" }),
      undefined,
      /stands for 2\.5 h; at most 2 h/,
    ],
    [
      "from the future",
      decision({ createdAt: "2026-12-04T12:30:00.000Z", expiresAt: "2026-12-04T13:00:00.000Z" }),
      undefined,
      /dated in the future/,
    ],
    [
      "not an incident commander",
      decision({ incidentCommander: "sam" }),
      undefined,
      /sam has no incident-commander role/,
    ],
    ["not on the roster", decision({ incidentCommander: "eve" }), undefined, /eve is not in the roster/],
    [
      "malformed",
      { kind: "restore-db", stack: "production" },
      undefined,
      /invalid restore-db decision: .*dumpSha256/,
    ],
  ])("refuse %s", (_what, record, sha, problem) => {
    const evidence = record === undefined ? path.join(dir, `empty${n++}`) : onFile(record);
    const found = judge(evidence, sha);
    expect("problems" in found).toBe(true);
    expect(("problems" in found ? found.problems : []).join("\n")).toMatch(problem);
  });

  it("refuse one signed by another roster key, or unsigned", () => {
    expect(JSON.stringify(judge(onFile(decision(), sre.privateKey)))).toMatch(/its signature is not ida's/);
    expect(JSON.stringify(judge(onFile(decision(), null)))).toMatch(/it has no SSH signature/);
  });

  it("refuse one already used, and one changed after it was signed", () => {
    const used = onFile(decision());
    const file = (judge(used) as { file: string }).file;
    fs.writeFileSync(usedMarker(file), "{}");
    expect(JSON.stringify(judge(used))).toMatch(/it was used already/);

    const edited = onFile(decision());
    const target = (judge(edited) as { file: string }).file;
    fs.writeFileSync(target, JSON.stringify(decision({ dumpSha256: "c".repeat(64) })));
    expect(JSON.stringify(judge(edited, "c".repeat(64)))).toMatch(/record was changed after it was signed/);
  });
});
