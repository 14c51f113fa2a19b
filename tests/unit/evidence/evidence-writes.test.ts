// Evidence is written atomically and never overwritten, and a record reaches records/ only once it is signed: a
// failed ssh-keygen (a bad key, or a broken ssh-keygen on PATH) leaves nothing there; two preflights, records or
// launch summaries of the same second are two files, and the readers still take the newest.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../../cli/index";
import { type LaunchSummary } from "../../../src/comms/launch-summary";
import { newestLaunchReport, writeLaunchReport } from "../../../cli/launch-report";
import {
  type AnyRecord,
  collectEvidence,
  readNewestBundle,
  readRecords,
  readSignedBundles,
  RecordSigningError,
  recordsDir,
  writeEvidence,
  writeRecord,
  writeSignedEvidence,
  writeSignedRecord,
} from "../../../src/evidence";
import { postLaunchRecordsDir, readPostLaunchRecords } from "../../../src/evidence/post-launch-records";
import { publishFile, writeFileAtomic, writeFilesUnique } from "../../../src/util/atomic-file";
import {
  DIGESTS,
  makeProject,
  NOW,
  passingOptions,
  PEOPLE,
  PREFLIGHT_SIGNER,
  type ProjectFixture,
  RELEASE,
  TEST_ROSTER,
} from "../../policy/fixtures";

const H = 3_600_000;

let p: ProjectFixture | undefined;
const tmpDirs: string[] = [];
const savedPath = process.env["PATH"];
afterEach(() => {
  process.env["PATH"] = savedPath;
  process.exitCode = undefined;
  p?.cleanup();
  p = undefined;
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  vi.restoreAllMocks();
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "nova-writes-"));
  tmpDirs.push(d);
  return d;
}

/** A directory holding an `ssh-keygen` that writes half a signature and fails, as a broken one would. */
function failingSshKeygen(): string {
  const bin = tmp();
  const script = path.join(bin, "ssh-keygen");
  fs.writeFileSync(
    script,
    '#!/bin/sh\nfor last in "$@"; do :; done\necho partial > "$last.sig"\necho "ssh-keygen: agent refused operation" >&2\nexit 255\n',
    { mode: 0o755 },
  );
  return bin;
}

/** A real ed25519 SSH key (ssh-keygen -Y sign takes it). */
function sshKey(dir: string, name: string): string {
  const file = path.join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
  return file;
}

/** Every file under the stack's evidence directory (relative paths, temp files included). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((n) => fs.statSync(path.join(dir, n)).isFile())
    .sort();
}

const override = (o: Partial<AnyRecord> = {}): AnyRecord =>
  ({
    kind: "override",
    stack: "production",
    release: RELEASE,
    hotfix: true,
    incidentCommander: PEOPLE.incidentCommander.name,
    reason: "INC-1",
    waivedChecks: ["billing-drill"],
    deployer: PEOPLE.deployer.name,
    imageDigests: DIGESTS,
    createdAt: new Date(NOW.getTime() - H).toISOString(),
    expiresAt: new Date(NOW.getTime() + H).toISOString(),
    ...o,
  }) as AnyRecord;

describe("a record reaches records/ only once it is signed", () => {
  it.each<[string, AnyRecord]>([
    [
      "freeze",
      {
        kind: "freeze",
        stack: "production",
        start: NOW.toISOString(),
        end: new Date(NOW.getTime() + H).toISOString(),
        reason: "r",
        declaredBy: PEOPLE.releaseManager.name,
      },
    ],
    [
      "approval",
      {
        kind: "approval",
        stack: "production",
        release: RELEASE,
        approvedBy: PEOPLE.approver.name,
        deployer: PEOPLE.deployer.name,
        imageDigests: DIGESTS,
        approvedAt: NOW.toISOString(),
        expiresAt: new Date(NOW.getTime() + H).toISOString(),
      },
    ],
    ["override", override()],
    [
      "rollback",
      {
        kind: "rollback",
        stack: "production",
        release: RELEASE,
        imageDigests: DIGESTS,
        bundleSha256: "e".repeat(64),
        targetVersion: 3,
        reason: "r",
        requestedBy: PEOPLE.sre.name,
        createdAt: NOW.toISOString(),
        expiresAt: new Date(NOW.getTime() + H).toISOString(),
      },
    ],
  ])("a failed signature of a %s record leaves nothing behind", (_kind, record) => {
    const evidence = tmp();
    // A key file that does not exist: ssh-keygen fails.
    expect(() => writeSignedRecord(evidence, record, NOW, path.join(evidence, "no-such-key"))).toThrow(
      RecordSigningError,
    );
    // A broken ssh-keygen on PATH that even leaves half a signature beside the file it was given.
    process.env["PATH"] = `${failingSshKeygen()}${path.delimiter}${savedPath ?? ""}`;
    expect(() => writeSignedRecord(evidence, record, NOW, path.join(evidence, "key"))).toThrow(
      /could not sign the record with .*key \(nothing was recorded\): ssh-keygen: agent refused operation/,
    );
    expect(filesUnder(recordsDir(evidence, "production"))).toEqual([]);
    expect(filesUnder(path.join(evidence, "production"))).toEqual([]);
    expect(readRecords(evidence, "production").invalid).toEqual([]);
  });

  it("a failed signature of a post-launch record leaves nothing in records/post-launch", () => {
    const evidence = tmp();
    process.env["PATH"] = `${failingSshKeygen()}${path.delimiter}${savedPath ?? ""}`;
    expect(() =>
      writeSignedRecord(
        evidence,
        {
          kind: "follow-up-done",
          stack: "production",
          drill: "billing",
          doneAt: NOW.toISOString(),
          doneBy: PEOPLE.sre.name,
        },
        NOW,
        path.join(evidence, "key"),
      ),
    ).toThrow(RecordSigningError);
    expect(filesUnder(postLaunchRecordsDir(evidence, "production"))).toEqual([]);
    expect(filesUnder(path.join(evidence, "production"))).toEqual([]);
  });

  it("a signed record arrives with its signature, and nothing is left beside records/", () => {
    const evidence = tmp();
    const key = sshKey(tmp(), "sam");
    const written = writeSignedRecord(evidence, override(), NOW, key);
    expect(written.signature).toBe(`${written.file}.sig`);
    expect(path.dirname(written.file)).toBe(recordsDir(evidence, "production"));
    expect(fs.readFileSync(written.signature ?? "", "utf8")).toMatch(/BEGIN SSH SIGNATURE/);
    expect(filesUnder(path.join(evidence, "production"))).toEqual([
      `records/${path.basename(written.file)}`,
      `records/${path.basename(written.file)}.sig`,
    ]);
  });

  it.each([
    ["approve", ["--approved-by", PEOPLE.approver.name, "--deployer", PEOPLE.deployer.name]],
    [
      "override",
      [
        "--hotfix",
        "--incident-commander",
        PEOPLE.incidentCommander.name,
        "--deployer",
        PEOPLE.deployer.name,
        "--reason",
        "INC-1",
        "--waive",
        "billing-drill",
      ],
    ],
    [
      "freeze",
      ["--end", "+2h", "--reason", "r", "--declared-by", PEOPLE.releaseManager.name, "--no-announce"],
    ],
  ])("rollout %s with a key ssh-keygen cannot use exits 2 and records nothing", async (command, args) => {
    p = makeProject();
    const err: string[] = [];
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: unknown) => {
      err.push(String(chunk));
      return true;
    });
    const code = await main([
      command,
      "--stack",
      "production",
      "--project-dir",
      p.dir,
      ...args,
      "--ssh-key",
      path.join(p.dir, "no-such-key"),
    ]);
    expect(filesUnder(recordsDir(p.evidenceDir, "production"))).toEqual([]);
    expect(code).toBe(2);
    expect(err.join("\n")).toMatch(/could not sign the record with .*no-such-key \(nothing was recorded\)/);
    expect(filesUnder(path.join(p.evidenceDir, "production")).filter((f) => f.includes(".pending"))).toEqual(
      [],
    );
  });
});

describe("two writes in the same second are two files", () => {
  it("two records with the same name stem: the second gets <timestamp>.001, both are read", () => {
    const evidence = tmp();
    const a = writeRecord(evidence, override({ reason: "first" }), NOW);
    const b = writeRecord(evidence, override({ reason: "second" }), NOW);
    expect(path.basename(a)).toBe("override-2026.11.3-20261125T183000Z.json");
    expect(path.basename(b)).toBe("override-2026.11.3-20261125T183000Z.001.json");
    expect(
      readRecords(evidence, "production")
        .overrides.map((o) => o.reason)
        .sort(),
    ).toEqual(["first", "second"]);
  });

  it("two post-launch records of the same second are both kept", () => {
    const evidence = tmp();
    for (const note of ["a", "b"]) {
      writeRecord(
        evidence,
        {
          kind: "follow-up-done",
          stack: "production",
          drill: "billing",
          doneAt: NOW.toISOString(),
          doneBy: PEOPLE.sre.name,
          note,
        },
        NOW,
      );
    }
    expect(
      readPostLaunchRecords(evidence, "production")
        .done.map((d) => d.note)
        .sort(),
    ).toEqual(["a", "b"]);
  });

  it("two preflights of the same second write two bundles, envelopes and reports; the newest is the second", async () => {
    p = makeProject();
    const first = await collectEvidence(passingOptions(p));
    const second = await collectEvidence(passingOptions(p, { releaseCut: new Date(NOW.getTime() - H) }));
    expect(second.createdAt).toBe(first.createdAt);
    expect(second.contentSha256).not.toBe(first.contentSha256);
    const a = await writeSignedEvidence(first, p.evidenceDir, [], PREFLIGHT_SIGNER);
    const b = await writeSignedEvidence(second, p.evidenceDir, [], PREFLIGHT_SIGNER);
    expect(path.basename(a.json)).toBe("20261125T183000Z-preflight.json");
    expect(path.basename(b.json)).toBe("20261125T183000Z.001-preflight.json");
    expect(path.basename(b.markdown)).toBe("20261125T183000Z.001-preflight.md");
    expect(path.basename(b.envelope)).toBe("20261125T183000Z.001-preflight.dsse.json");
    expect(
      filesUnder(path.join(p.evidenceDir, "production")).filter((f) => /preflight/.test(f)),
    ).toHaveLength(6);
    const newest = readNewestBundle(p.evidenceDir, "production");
    expect(newest.status === "ok" && newest.bundle.contentSha256).toBe(second.contentSha256);
    expect(readSignedBundles(p.evidenceDir, "production", TEST_ROSTER.preflightKeys).ok).toHaveLength(2);
    // An unsigned preflight of the same second takes the next stem, and the report lists what it was given.
    const c = writeEvidence(first, p.evidenceDir, () => [
      { checkId: "coverage", message: "third run", remedy: "r" },
    ]);
    expect(path.basename(c.json)).toBe("20261125T183000Z.002-preflight.json");
    expect(fs.readFileSync(c.markdown, "utf8")).toMatch(/third run/);
  });

  it("two launch summaries of the same second are two files; post-launch reads the second", () => {
    const evidence = tmp();
    const summary = (release: string): LaunchSummary => ({
      kind: "release",
      stack: "production",
      release,
      digests: DIGESTS,
      startedAt: new Date(NOW.getTime() - 60_000),
      finishedAt: NOW,
      changes: {},
      verification: [],
    });
    const a = writeLaunchReport(evidence, summary("2026.11.3"));
    const b = writeLaunchReport(evidence, summary("2026.11.4"));
    expect(path.basename(a)).toBe("20261125T183000Z-launch.md");
    expect(path.basename(b)).toBe("20261125T183000Z.001-launch.md");
    expect(newestLaunchReport(evidence, "production")?.facts.release).toBe("2026.11.4");
  });
});

describe("the atomic file helpers", () => {
  it("writeFileAtomic replaces the whole file and leaves no temp file", () => {
    const dir = tmp();
    const file = path.join(dir, "a", "report.md");
    writeFileAtomic(file, "one");
    writeFileAtomic(file, "two");
    expect(fs.readFileSync(file, "utf8")).toBe("two");
    expect(fs.readdirSync(path.dirname(file))).toEqual(["report.md"]);
  });

  it("publishFile never replaces a file", () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "src"), "new");
    fs.writeFileSync(path.join(dir, "dest"), "old");
    expect(() => publishFile(path.join(dir, "src"), path.join(dir, "dest"))).toThrow(/EEXIST/);
    expect(fs.readFileSync(path.join(dir, "dest"), "utf8")).toBe("old");
  });

  it("writeFilesUnique skips a stem any file of the group uses (an orphan report included)", () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "x-b"), "orphan");
    const names = (n: number) => [`x${n === 0 ? "" : n}-a`, `x${n === 0 ? "" : n}-b`];
    expect(writeFilesUnique(dir, names, ["1"]).map((f) => path.basename(f))).toEqual(["x1-a", "x1-b"]);
    expect(fs.readdirSync(dir).sort()).toEqual(["x-b", "x1-a"]);
  });
});
