// Post-launch records: a freeze lift ends the window it names (gate freeze section), follow-up drills fall overdue.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  evaluateGate,
  freezeFindings,
  type FreezeRecord,
  gateInputFor,
  type GateInput,
  readStackConfigFile,
  writeRecord,
} from "../../../src/evidence";
import {
  type FreezeLiftRecord,
  liftedFreezes,
  postLaunchRecordsDir,
  readPostLaunchRecords,
} from "../../../src/evidence/post-launch-records";
import { followUpStatus, formatOverdueFollowUps, overdueFollowUps } from "../../../src/evidence/follow-ups";
import { makeProject, NOW, type ProjectFixture, signRecordAs } from "../../policy/fixtures";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

const freeze = (stack: string, start: Date, end: Date): FreezeRecord => ({
  kind: "freeze",
  stack,
  start: start.toISOString(),
  end: end.toISOString(),
  reason: "2026.11.3",
  declaredBy: "release-manager",
});

const lift = (f: FreezeRecord, liftedAt: Date, by = "release-manager"): FreezeLiftRecord => ({
  kind: "freeze-lift",
  stack: f.stack,
  freezeRecord: "freeze-production-20261125T160000Z.json",
  freezeSha256: "0".repeat(64),
  windowStart: f.start,
  windowEnd: f.end,
  liftedAt: liftedAt.toISOString(),
  liftedBy: by,
  reason: "launched",
});

let p: ProjectFixture | undefined;
let tmp: string | undefined;
afterEach(() => {
  p?.cleanup();
  p = undefined;
  if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});

function gateInput(fixture: ProjectFixture, now: Date): GateInput {
  const input = gateInputFor({
    stack: fixture.stack,
    config: readStackConfigFile(fixture.dir, fixture.stack) ?? {},
    projectDir: fixture.dir,
    now,
  });
  if ("enforcementError" in input) throw new Error(input.enforcementError);
  return input;
}

/** A production project with a signed freeze window from NOW-2h to NOW+6h. */
function frozenProduction(): { fixture: ProjectFixture; window: FreezeRecord } {
  const fixture = makeProject();
  const window = freeze("production", at(-2 * HOUR), at(6 * HOUR));
  // makeProject's write signs records under records/ as the person they name.
  fixture.write(
    "tests/drills/logs/production/records/freeze-production-20261125T163000Z.json",
    JSON.stringify(window, null, 2),
  );
  return { fixture, window };
}

describe("liftedFreezes", () => {
  const f = freeze("production", at(-2 * HOUR), at(6 * HOUR));

  it("ends a lifted window at the lift, keeps the declared end", () => {
    const [w] = liftedFreezes([f], [lift(f, at(-HOUR))]);
    expect(w?.end).toBe(at(-HOUR).toISOString());
    expect(w?.declaredEnd).toBe(f.end);
    expect(w?.liftedBy).toBe("release-manager");
  });

  it("takes the earliest lift, ignores lifts of other windows and lifts after the end", () => {
    const other = freeze("production", at(-3 * HOUR), at(6 * HOUR));
    expect(liftedFreezes([f], [lift(other, at(-HOUR))])[0]).toEqual(f);
    expect(liftedFreezes([f], [lift(f, at(7 * HOUR))])[0]).toEqual(f);
    expect(liftedFreezes([f], [lift(f, at(HOUR)), lift(f, at(-HOUR))])[0]?.end).toBe(at(-HOUR).toISOString());
  });

  it("matches windows by instant, not by spelling", () => {
    const spelled = { ...lift(f, at(-HOUR)), windowStart: f.start.replace("Z", "+00:00") };
    expect(liftedFreezes([f], [spelled])[0]?.end).toBe(at(-HOUR).toISOString());
  });
});

describe("the gate's freeze section with freeze lifts", () => {
  it("a signed lift ends the production window from the lift time", () => {
    const { fixture, window } = frozenProduction();
    p = fixture;
    expect(freezeFindings(gateInput(p, NOW))).toEqual([]);
    const file = writeRecord(p.evidenceDir, lift(window, at(-30 * 60_000)), at(-30 * 60_000));
    signRecordAs(file, "release-manager");
    const after = freezeFindings(gateInput(p, NOW));
    expect(after.map((f) => f.checkId)).toEqual(["freeze"]);
    expect(after[0]?.message).toMatch(/lifted at 2026-11-25T18:00:00.000Z by release-manager/);
    // Before the lift the window was open.
    expect(freezeFindings(gateInput(p, at(-HOUR)))).toEqual([]);
    // The whole gate agrees (what the pack and the program guard run).
    expect(evaluateGate(gateInput(p, NOW)).freeze.map((f) => f.checkId)).toEqual(["freeze"]);
  });

  it("a lift due later leaves the window open until then", () => {
    const { fixture, window } = frozenProduction();
    p = fixture;
    const file = writeRecord(p.evidenceDir, lift(window, at(HOUR)), NOW);
    signRecordAs(file, "release-manager");
    expect(freezeFindings(gateInput(p, NOW))).toEqual([]);
    expect(freezeFindings(gateInput(p, at(2 * HOUR))).map((f) => f.checkId)).toEqual(["freeze"]);
  });

  it("production: an unsigned lift, or one signed by someone else, is a signature finding", () => {
    const { fixture, window } = frozenProduction();
    p = fixture;
    writeRecord(p.evidenceDir, lift(window, at(-HOUR)), at(-HOUR));
    const forged = writeRecord(p.evidenceDir, lift(window, at(-HOUR), "Dana Lee"), at(-2 * HOUR));
    signRecordAs(forged, "Riley Deployer");
    const findings = freezeFindings(gateInput(p, NOW));
    const signature = findings.filter((f) => f.checkId === "signature").map((f) => f.message);
    expect(signature).toHaveLength(2);
    expect(signature.join("\n")).toMatch(
      /Freeze lift .*freeze-lift-.* does not count: it has no SSH signature/,
    );
    expect(signature.join("\n")).toMatch(/does not count: its signature is not Dana Lee's/);
  });

  it("an unreadable lift fails closed; an unreadable follow-ups file does not touch the gate", () => {
    const { fixture } = frozenProduction();
    p = fixture;
    const dir = postLaunchRecordsDir(p.evidenceDir, "production");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "follow-ups-2026.11.3-20261125T180000Z.json"), "{");
    expect(freezeFindings(gateInput(p, NOW))).toEqual([]);
    fs.writeFileSync(path.join(dir, "freeze-lift-x-20261125T180000Z.json"), '{"kind":"freeze-lift"}');
    const findings = freezeFindings(gateInput(p, NOW));
    expect(findings.map((f) => f.checkId)).toEqual(["records"]);
    expect(findings[0]?.message).toMatch(/Freeze lift .*freeze-lift-x-.* is unreadable or invalid/);
  });

  it("post-launch records do not make the gate's records invalid", () => {
    const { fixture, window } = frozenProduction();
    p = fixture;
    writeRecord(
      p.evidenceDir,
      {
        kind: "follow-ups",
        stack: "production",
        release: "2026.11.3",
        launchReport: "20261125T170000Z-launch.md",
        scheduledAt: NOW.toISOString(),
        scheduledBy: "release-manager",
        drills: [{ drill: "billing", dueAt: at(7 * DAY).toISOString() }],
      },
      NOW,
    );
    const gate = evaluateGate(gateInput(p, NOW));
    expect(gate.freeze).toEqual([]);
    expect(window.stack).toBe("production");
  });
});

describe("follow-ups", () => {
  function dir(): string {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nova-follow-ups-"));
    return tmp;
  }
  const schedule = (evidenceDir: string, scheduledAt: Date, days: number, release = "2026.11.3") =>
    writeRecord(
      evidenceDir,
      {
        kind: "follow-ups",
        stack: "production",
        release,
        launchReport: "20261125T170000Z-launch.md",
        scheduledAt: scheduledAt.toISOString(),
        scheduledBy: "release-manager",
        drills: (["billing", "backups", "failover"] as const).map((drill) => ({
          drill,
          dueAt: new Date(scheduledAt.getTime() + days * DAY).toISOString(),
        })),
      },
      scheduledAt,
    );
  const done = (evidenceDir: string, drill: "billing" | "backups" | "failover", doneAt: Date) =>
    writeRecord(
      evidenceDir,
      {
        kind: "follow-up-done",
        stack: "production",
        drill,
        doneAt: doneAt.toISOString(),
        doneBy: "sre-on-call",
      },
      doneAt,
    );

  it("records go under records/post-launch/ with their kind and label in the name", () => {
    const d = dir();
    const file = schedule(d, NOW, 7);
    expect(path.relative(d, file)).toBe(
      path.join("production", "records", "post-launch", "follow-ups-2026.11.3-20261125T183000Z.json"),
    );
    expect(readPostLaunchRecords(d, "production").followUps).toHaveLength(1);
  });

  it("nothing is overdue before the due date; everything not done is after it", () => {
    const d = dir();
    schedule(d, NOW, 7);
    expect(overdueFollowUps(d, "production", at(6 * DAY))).toEqual([]);
    expect(followUpStatus(d, "production", at(6 * DAY)).open).toHaveLength(3);
    const late = overdueFollowUps(d, "production", at(9 * DAY));
    expect(late.map((f) => f.drill).sort()).toEqual(["backups", "billing", "failover"]);
    expect(late[0]).toMatchObject({ release: "2026.11.3", overdue: true, daysOverdue: 2 });
  });

  it("a completion closes the drill's follow-ups scheduled before it, not later ones", () => {
    const d = dir();
    schedule(d, NOW, 7);
    done(d, "billing", at(3 * DAY));
    expect(overdueFollowUps(d, "production", at(9 * DAY)).map((f) => f.drill)).toEqual(
      expect.not.arrayContaining(["billing"]),
    );
    schedule(d, at(4 * DAY), 2, "2026.11.4");
    const late = overdueFollowUps(d, "production", at(9 * DAY));
    expect(late.filter((f) => f.drill === "billing").map((f) => f.release)).toEqual(["2026.11.4"]);
  });

  it("other stacks' follow-ups do not count, and the warning names the command to close one", () => {
    const d = dir();
    schedule(d, NOW, 1);
    expect(overdueFollowUps(d, "staging", at(9 * DAY))).toEqual([]);
    const lines = formatOverdueFollowUps(overdueFollowUps(d, "production", at(9 * DAY)), d).join("\n");
    expect(lines).toMatch(/warning: 3 post-launch follow-up\(s\) of stack production overdue/);
    expect(lines).toMatch(
      /billing drill for release 2026\.11\.3: due 2026-11-26T18:30:00\.000Z, 8 day\(s\) overdue/,
    );
    expect(lines).toMatch(/post-launch --stack production --done billing --by <you>/);
  });

  it("a record filed under another stack is invalid, not counted", () => {
    const d = dir();
    const file = schedule(d, NOW, 1);
    const other = path.join(postLaunchRecordsDir(d, "staging"), path.basename(file));
    fs.mkdirSync(path.dirname(other), { recursive: true });
    fs.copyFileSync(file, other);
    const status = followUpStatus(d, "staging", at(9 * DAY));
    expect(status.open).toEqual([]);
    expect(status.invalid[0]?.error).toMatch(/names stack "production" but lives under "staging"/);
  });

  it("schemas refuse unknown drills and due dates before the schedule", () => {
    const d = dir();
    expect(() =>
      writeRecord(
        d,
        {
          kind: "follow-ups",
          stack: "production",
          release: "r",
          launchReport: "l",
          scheduledAt: NOW.toISOString(),
          scheduledBy: "x",
          drills: [{ drill: "billing", dueAt: at(-DAY).toISOString() }],
        },
        NOW,
      ),
    ).toThrow(/every dueAt must be after scheduledAt/);
    expect(() =>
      writeRecord(
        d,
        {
          kind: "follow-up-done",
          stack: "production",
          drill: "dns" as "billing",
          doneAt: NOW.toISOString(),
          doneBy: "x",
        },
        NOW,
      ),
    ).toThrow(/invalid follow-up-done record: drill/);
  });
});
