// `rollout post-launch` against a temp project with real SSH keys: it lifts the freeze with a signed record the gate
// counts, schedules the follow-up drills, writes the announcement, and refuses bad input with one line.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Command } from "commander";
import { describeFailure, UserError } from "../../../cli/errors";
import { freezeCommand } from "../../../cli/commands/freeze";
import { postLaunchCommand } from "../../../cli/commands/post-launch";
import { runPostLaunch } from "../../../cli/actions/post-launch";
import { runPreflight } from "../../../cli/actions/preflight";
import { writeLaunchReport } from "../../../cli/launch-report";
import type { LaunchSummary } from "../../../src/comms/launch-summary";
import {
  classifyStackFile,
  evaluateGate,
  gateInputFor,
  readStackConfigFile,
  type Roster,
  writeRecord,
} from "../../../src/evidence";
import { overdueFollowUps } from "../../../src/evidence/follow-ups";
import { postLaunchRecordsDir, readPostLaunchRecords } from "../../../src/evidence/post-launch-records";
import { DIGESTS, makeProject, type ProjectFixture, RELEASE, TEST_ROSTER } from "../../policy/fixtures";

const DAY = 86_400_000;

let p: ProjectFixture | undefined;
afterEach(() => {
  process.exitCode = undefined;
  p?.cleanup();
  p = undefined;
  vi.restoreAllMocks();
});

function sshKey(dir: string, name: string): string {
  const file = path.join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
  return file;
}

/** The rollout CLI with the commands under test (cli/index.ts registers post-launch; see the report). */
async function rollout(argv: readonly string[]): Promise<void> {
  const program = new Command("nova-rollout").exitOverride();
  for (const c of [freezeCommand(), postLaunchCommand()]) program.addCommand(c.exitOverride());
  await program.parseAsync([...argv], { from: "user" });
}

/** Rae Manager declares a six-hour change freeze with her key. */
async function declareFreeze(common: readonly string[], key: string, reason = "r"): Promise<void> {
  await rollout([
    "freeze",
    ...common,
    "--end",
    "+6h",
    "--reason",
    reason,
    "--declared-by",
    "Rae Manager",
    "--ssh-key",
    key,
  ]);
}

/** What `main` prints for a failure: one line, and its exit code. */
async function failure(argv: readonly string[]): Promise<{ code: number; message: string }> {
  try {
    await rollout(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return describeFailure(e);
  }
  throw new Error(`expected ${argv.join(" ")} to fail`);
}

function captureOutput(): string[] {
  const out: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  return out;
}

/** A production project whose roster holds "Rae Manager" (release manager) and "Sam Other", with their SSH keys. */
function production(): { fixture: ProjectFixture; rae: string; sam: string; common: string[] } {
  const fixture = makeProject();
  const keys = path.join(fixture.dir, ".keys");
  fs.mkdirSync(keys);
  const rae = sshKey(keys, "rae");
  const sam = sshKey(keys, "sam");
  const roster: Roster = {
    ...TEST_ROSTER,
    people: [
      ...TEST_ROSTER.people,
      {
        name: "Rae Manager",
        roles: ["release-manager"],
        sshPublicKey: fs.readFileSync(`${rae}.pub`, "utf8").trim(),
      },
      { name: "Sam Other", roles: ["engineer"], sshPublicKey: fs.readFileSync(`${sam}.pub`, "utf8").trim() },
    ],
  };
  fixture.write("policy/trust/roster.json", JSON.stringify(roster, null, 2));
  return { fixture, rae, sam, common: ["--stack", "production", "--project-dir", fixture.dir] };
}

function launched(fixture: ProjectFixture, stack = "production", evidenceDir = fixture.evidenceDir): string {
  const finishedAt = new Date(Date.now() - 60_000);
  const summary: LaunchSummary = {
    stack,
    kind: "release",
    release: RELEASE,
    digests: DIGESTS,
    startedAt: new Date(finishedAt.getTime() - 10 * 60_000),
    finishedAt,
    changes: { update: 2 },
    verification: [
      { check: "api-health", ok: true, attempts: 1, detail: "200" },
      { check: "worker-readyz", ok: true, attempts: 1, detail: "200" },
    ],
  };
  return writeLaunchReport(evidenceDir, summary);
}

function freezeGate(fixture: ProjectFixture, now: Date) {
  const input = gateInputFor({
    stack: fixture.stack,
    config: readStackConfigFile(fixture.dir, fixture.stack) ?? {},
    projectDir: fixture.dir,
    now,
  });
  if ("enforcementError" in input) throw new Error(input.enforcementError);
  return evaluateGate(input).freeze;
}

describe("rollout post-launch", () => {
  it("lifts the production freeze with a signed record, schedules the drills and writes the announcement", async () => {
    const { fixture, rae, common } = production();
    p = fixture;
    const out = captureOutput();
    await declareFreeze(common, rae, "2026.11.3");
    const report = launched(p);
    expect(freezeGate(p, new Date())).toEqual([]);

    await rollout(["post-launch", ...common, "--by", "Rae Manager", "--ssh-key", rae]);
    const after = new Date(Date.now() + 1000);

    // The lift counts (signed by the roster person it names) and ends the window: only the freeze finding is left.
    const gate = freezeGate(p, after);
    expect(gate.map((f) => f.checkId)).toEqual(["freeze"]);
    expect(gate[0]?.message).toMatch(/lifted at .* by Rae Manager/);

    const records = readPostLaunchRecords(p.evidenceDir, "production");
    expect(records.invalid).toEqual([]);
    expect(records.lifts).toHaveLength(1);
    const lift = records.lifts[0]!;
    expect(lift).toMatchObject({ liftedBy: "Rae Manager", reason: `release ${RELEASE} launched` });
    expect(lift.freezeRecord).toMatch(/^freeze-production-\d{8}T\d{6}Z\.json$/);
    expect(fs.existsSync(`${lift.path}.sig`)).toBe(true);
    const followUps = records.followUps[0]!;
    expect(followUps.drills.map((d) => d.drill)).toEqual(["billing", "backups", "failover"]);
    for (const d of followUps.drills) {
      expect(Date.parse(d.dueAt) - Date.parse(followUps.scheduledAt)).toBe(7 * DAY);
    }
    expect(followUps).toMatchObject({
      release: RELEASE,
      launchReport: path.basename(report),
      scheduledBy: "Rae Manager",
    });
    expect(fs.existsSync(`${followUps.path}.sig`)).toBe(true);

    const dir = path.join(p.evidenceDir, "production");
    const announcement = fs.readdirSync(dir).find((n) => n.endsWith("-post-launch-announcement.md"));
    expect(announcement).toBeDefined();
    const text = fs.readFileSync(path.join(dir, announcement!), "utf8");
    expect(text).toContain(`# Post-launch: production ${RELEASE}`);
    expect(text).toContain(`nova-rms-api \`${DIGESTS.api}\`, nova-rms-worker \`${DIGESTS.worker}\``);
    expect(text).toContain("- Result: released; post-deploy verification passed (2 checks)");
    expect(text).toContain(`- Launch summary: \`${path.basename(report)}\``);
    expect(text).toMatch(
      new RegExp(
        `Lifted at .* by Rae Manager: window .* \\(2026\\.11\\.3; declared by Rae Manager, \`${lift.freezeRecord}\`\\)`,
      ),
    );
    expect(text).toMatch(
      /\| billing \| \d{4}-.* \| `npm run rollout -- post-launch --stack production --done billing/,
    );
    expect(out.join("\n")).toMatch(
      /\[nova-rollout\] Change freeze lifted: production — window .* by Rae Manager/,
    );
    // The newest launch summary is found even with the announcement (also ending in "launch…md") beside it.
    expect(fs.readdirSync(dir).filter((n) => n.endsWith("-launch.md"))).toHaveLength(1);
  });

  it("--follow-up-days sets the due date; --done closes a drill; overdueFollowUps sees the rest", async () => {
    const { fixture, rae, common } = production();
    p = fixture;
    captureOutput();
    launched(p);
    await rollout([
      "post-launch",
      ...common,
      "--by",
      "Rae Manager",
      "--ssh-key",
      rae,
      "--follow-up-days",
      "2",
    ]);
    expect(readPostLaunchRecords(p.evidenceDir, "production").lifts).toEqual([]); // no freeze was active
    expect(overdueFollowUps(p.evidenceDir, "production", new Date(Date.now() + DAY))).toEqual([]);
    const later = new Date(Date.now() + 3 * DAY);
    expect(overdueFollowUps(p.evidenceDir, "production", later)).toHaveLength(3);
    await rollout([
      "post-launch",
      ...common,
      "--by",
      "Rae Manager",
      "--ssh-key",
      rae,
      "--done",
      "billing",
      "--note",
      "drill log 2026-11-27",
    ]);
    const done = readPostLaunchRecords(p.evidenceDir, "production").done;
    expect(done).toMatchObject([{ drill: "billing", doneBy: "Rae Manager", note: "drill log 2026-11-27" }]);
    expect(fs.existsSync(`${done[0]!.path}.sig`)).toBe(true);
    expect(
      overdueFollowUps(p.evidenceDir, "production", later)
        .map((f) => f.drill)
        .sort(),
    ).toEqual(["backups", "failover"]);
  });

  it("names the freeze to lift with --freeze, and refuses one that is unknown or already over", async () => {
    const { fixture, rae, common } = production();
    p = fixture;
    captureOutput();
    await declareFreeze(common, rae);
    launched(p);
    const records = path.join(p.evidenceDir, "production", "records");
    const name = fs.readdirSync(records).find((n) => n.startsWith("freeze-") && n.endsWith(".json"))!;
    expect(
      await failure([
        "post-launch",
        ...common,
        "--by",
        "Rae Manager",
        "--ssh-key",
        rae,
        "--freeze",
        "freeze-nope.json",
      ]),
    ).toEqual({
      code: 2,
      message: `--freeze freeze-nope.json: no such freeze record of stack production (have: ${name})`,
    });
    const first = runPostLaunch({
      stack: "production",
      projectDir: p.dir,
      by: "Rae Manager",
      sshKey: rae,
      freeze: name,
    });
    expect(first.lifts).toHaveLength(1);
    const again = await failure([
      "post-launch",
      ...common,
      "--by",
      "Rae Manager",
      "--ssh-key",
      rae,
      "--freeze",
      name,
    ]);
    expect(again.message).toMatch(
      new RegExp(
        `^--freeze ${name.replace(/\./g, "\\.")}: that window already ended at .* \\(lifted by Rae Manager\\); nothing to lift$`,
      ),
    );
    // The lifted window cannot be declared again as it was.
    const lifted = readPostLaunchRecords(p.evidenceDir, "production").lifts[0]!;
    const redeclare = await failure([
      "freeze",
      ...common,
      "--start",
      lifted.windowStart,
      "--end",
      lifted.windowEnd,
      "--reason",
      "r",
      "--declared-by",
      "Rae Manager",
    ]);
    expect(redeclare.message).toMatch(
      /was lifted at .* by Rae Manager; declare one with another start or end/,
    );
  });

  it("refuses bad input with one line and records nothing", async () => {
    const { fixture, rae, sam, common } = production();
    p = fixture;
    captureOutput();
    await declareFreeze(common, rae);
    const by = ["--by", "Rae Manager"];
    const noReport = await failure(["post-launch", ...common, ...by, "--ssh-key", rae]);
    expect(noReport.message).toMatch(
      /^no launch summary \(<ts>-launch\.md\) for stack production in tests\/drills\/logs\/production; run `rollout up --stack production` first$/,
    );
    launched(p);
    const cases: [string[], RegExp][] = [
      [
        [...by],
        /^a production freeze lift counts only when signed by the person it names: pass --ssh-key <file>/,
      ],
      [[...by, "--ssh-key", path.join(p.dir, "nope")], /^--ssh-key .*nope: no such file$/],
      [
        [...by, "--ssh-key", rae, "--follow-up-days", "soon"],
        /^--follow-up-days must be a number of days between 0 and 365 \(got "soon"\)$/,
      ],
      [[...by, "--ssh-key", rae, "--follow-up-days", "0"], /^--follow-up-days must be/],
      [
        [...by, "--ssh-key", rae, "--done", "dns"],
        /^--done dns: unknown drill; expected one of billing, backups, failover$/,
      ],
      [
        [...by, "--ssh-key", rae, "--done", "billing", "--follow-up-days", "3"],
        /^--done records a completed drill only/,
      ],
      [[...by, "--ssh-key", rae, "--note", "x"], /^--note goes with --done <drill>$/],
      [["--by", " ", "--ssh-key", rae], /^--by must not be empty$/],
      // Signed, but not by the person the record names: it would never count, so it is not left behind.
      [
        [...by, "--ssh-key", sam],
        /^could not sign the records \(nothing was recorded\): freeze-lift-.* would not count: its signature is not Rae Manager's/,
      ],
    ];
    for (const [args, message] of cases) {
      const f = await failure(["post-launch", ...common, ...args]);
      expect(f.code, args.join(" ")).toBe(2);
      expect(f.message, args.join(" ")).toMatch(message);
      expect(f.message).not.toContain("\n");
    }
    const postLaunch = postLaunchRecordsDir(p.evidenceDir, "production");
    expect(fs.existsSync(postLaunch) ? fs.readdirSync(postLaunch) : []).toEqual([]);
    // Nothing half-written either: no announcement, no temp files of the records signed before they were refused.
    expect(
      fs
        .readdirSync(path.join(p.evidenceDir, "production"))
        .filter((n) => n.includes("announcement") || n.startsWith(".")),
    ).toEqual([]);
    expect(freezeGate(p, new Date())).toEqual([]);
  });

  it("a non-production stack may lift unsigned (with the usual warning)", async () => {
    p = makeProject({
      stack: "staging",
      environment: "staging",
      extraConfig: {
        "nova-rollout:namespace": "nova-staging",
        "nova-rollout:kubeconfigContext": "nova-staging",
      },
    });
    expect(classifyStackFile(p.dir, "staging").production).toBe(false);
    const out = captureOutput();
    const common = ["--stack", "staging", "--project-dir", p.dir];
    await rollout(["freeze", ...common, "--end", "+6h", "--reason", "r", "--declared-by", "rm"]);
    launched(p, "staging");
    const result = runPostLaunch({ stack: "staging", projectDir: p.dir, by: "rm" });
    expect(result.lifts).toHaveLength(1);
    expect(fs.existsSync(`${result.lifts[0]}.sig`)).toBe(false);
    expect(out.join("\n")).toMatch(/warning: the record is unsigned/);
  });
});

describe("--json on the record commands", () => {
  it("freeze --json prints only its result on stdout: the record and its signature", async () => {
    p = makeProject();
    const said = captureOutput();
    const stdout: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (stdout.push(String(chunk)), true));
    await rollout([
      "freeze",
      "--stack",
      "production",
      "--project-dir",
      p.dir,
      "--end",
      "+6h",
      "--reason",
      "r",
      "--declared-by",
      "release-manager",
      "--no-announce",
      "--json",
    ]);
    expect(stdout).toHaveLength(1);
    const result = JSON.parse(stdout[0] ?? "") as { stack: string; record: string; signature: string | null };
    expect(result.stack).toBe("production");
    expect(fs.existsSync(result.record)).toBe(true);
    expect(result.signature).toBeNull();
    // What it says for people went to stderr.
    expect(said.join("\n")).toMatch(/wrote .*freeze-production-.*\.json/);
  });
});

describe("preflight warns about overdue follow-ups", () => {
  it("prints a warning section naming each overdue drill and how to close it", async () => {
    p = makeProject();
    const out = captureOutput();
    const now = new Date();
    writeRecord(
      p.evidenceDir,
      {
        kind: "follow-ups",
        stack: "production",
        release: "2026.11.2",
        launchReport: "20261101T120000Z-launch.md",
        scheduledAt: new Date(now.getTime() - 10 * DAY).toISOString(),
        scheduledBy: "release-manager",
        drills: [
          { drill: "billing", dueAt: new Date(now.getTime() - 3 * DAY).toISOString() },
          { drill: "failover", dueAt: new Date(now.getTime() + 3 * DAY).toISOString() },
        ],
      },
      new Date(now.getTime() - 10 * DAY),
    );
    await runPreflight(
      { stack: "production", projectDir: p.dir, engine: false, registry: "127.0.0.1:9/nova" },
      now,
    );
    const text = out.join("\n");
    expect(text).toMatch(/warning: 1 post-launch follow-up\(s\) of stack production overdue:/);
    expect(text).toMatch(/- billing drill for release 2026\.11\.2: due .*, 3 day\(s\) overdue/);
    expect(text).toMatch(
      /when done: npm run rollout -- post-launch --stack production --done billing --by <you>/,
    );
    expect(text).not.toMatch(/failover drill for release/);
  });
});

describe("post-launch in the Nova RMS checkout (nova-rollout:appDir)", () => {
  it("writes the launch into its STATUS.md and the follow-ups into its TODO.md, and prints the diff to commit", async () => {
    const { fixture, rae, common } = production();
    const app = path.join(fixture.dir, "..", `${path.basename(fixture.dir)}-nova-rms`);
    fs.cpSync(path.resolve(__dirname, "../../fixtures/nova-rms"), app, { recursive: true });
    const stackFile = path.join(fixture.dir, "Pulumi.production.yaml");
    fs.appendFileSync(stackFile, `  nova-rollout:appDir: ${app}\n`);
    const statusBefore = fs.readFileSync(path.join(app, "STATUS.md"), "utf8");
    await declareFreeze(common, rae);
    // With an app checkout the rollout's evidence is in its tests/drills/logs (the freeze above went there too).
    const appEvidence = path.join(app, "tests", "drills", "logs");
    launched(fixture, "production", appEvidence);
    const out = captureOutput();
    try {
      await rollout(["post-launch", ...common, "--by", "Rae Manager", "--ssh-key", rae, "--no-announce"]);
      expect(fs.readdirSync(path.join(appEvidence, "production", "records")).join(" ")).toMatch(
        /freeze-production-/,
      );
      expect(fs.existsSync(path.join(fixture.evidenceDir, "production"))).toBe(false);
      const status = fs.readFileSync(path.join(app, "STATUS.md"), "utf8");
      expect(status.startsWith(statusBefore.trimEnd())).toBe(true);
      expect(status).toContain(`- Release **${RELEASE}** is live on \`production\``);
      expect(status).toContain(DIGESTS.api);
      const todo = fs.readFileSync(path.join(app, "TODO.md"), "utf8");
      expect(todo.match(/^- \[ \] \w+ drill after release /gm)).toHaveLength(3);
      const printed = out.join("\n");
      expect(printed).toContain("--- a/STATUS.md\n+++ b/STATUS.md");
      expect(printed).toMatch(/^\+- Release \*\*/m);
      expect(printed).toContain(`git -C ${app} switch -c docs/production-${RELEASE}-launched`);
    } finally {
      vi.restoreAllMocks();
      fs.rmSync(app, { recursive: true, force: true });
    }
  });
});
