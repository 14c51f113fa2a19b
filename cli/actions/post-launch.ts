/**
 * The post-launch action (`rollout post-launch --stack <stack> --by <name>`): after a launch, lifts the change freeze (a signed freeze-lift record that
 * ends the active window now), schedules the follow-up drills (billing, backups, failover) due within
 * `--follow-up-days` (7), and writes `<evidenceDir>/<stack>/<ts>-post-launch-announcement.md` from the newest launch
 * summary. `post-launch --stack <stack> --done <drill> --by <name>` records a follow-up drill as done.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  activeFreezes,
  evidenceStem,
  type FreezeRecord,
  loadProductionEnforcement,
  type PendingRecord,
  prepareRecord,
  readRecords,
  RecordSigningError,
  recordSignatureProblem,
  recordSigningKey,
  sha256,
  stackEvidenceDir,
} from "../../src/evidence";
import { writeFilesUnique } from "../../src/util/atomic-file";
import {
  DEFAULT_FOLLOW_UP_DAYS,
  FOLLOW_UP_DRILLS,
  type FollowUpDrill,
  type FollowUpsRecord,
  type FreezeLiftRecord,
  liftedFreezes,
  type PostLaunchRecord,
  readPostLaunchRecords,
} from "../../src/evidence/post-launch-records";
import { followUpDoneCommand, followUpStatus } from "../../src/evidence/follow-ups";
import { freezeNoticeDetail } from "../../src/comms/templates";
import { messageOf } from "../../src/notify/notifier";
import { announce } from "../announce";
import { type LaunchReportFacts } from "../../src/comms/launch-summary";
import { newestLaunchReport } from "../launch-report";
import { UserError } from "../errors";
import { writeLaunchIntoApp } from "../app-docs";
import { resolveAppDir } from "../../src/config/project";
import { resolveProjectDir } from "../options";
import { signingKeyOrWarn } from "./records";
import { resolveStack } from "./stack";

export interface PostLaunchOptions {
  readonly stack: string;
  /** Who lifts the freeze / did the drill (their roster name; production counts only their signature). */
  readonly by: string;
  /** Days until the follow-up drills are due (default 7). */
  readonly followUpDays?: string;
  /** The freeze record to lift (file name or path); default: every window active now. */
  readonly freeze?: string;
  readonly reason?: string;
  /** Record this drill as done instead of lifting the freeze. */
  readonly done?: string;
  readonly note?: string;
  readonly projectDir?: string;
  readonly evidenceDir?: string;
  readonly sshKey?: string;
  /** Whether the launch is written into the app checkout's STATUS.md and TODO.md (default true; `--no-app-docs`). */
  readonly appDocs?: boolean;
}

/** What a run wrote. */
export interface PostLaunchResult {
  readonly lifts: readonly string[];
  readonly followUps?: string;
  readonly announcement?: string;
  readonly done?: string;
  /** The details of the freeze-lifted events for the release channels (one per lifted window). */
  readonly notices: readonly string[];
  /** The app checkout's docs updated for the launch (absolute paths). */
  readonly appDocs?: readonly string[];
}

function followUpDays(text: string | undefined): number {
  if (text === undefined) return DEFAULT_FOLLOW_UP_DAYS;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n <= 0 || n > 365) {
    throw new UserError(`--follow-up-days must be a number of days between 0 and 365 (got "${text}")`);
  }
  return n;
}

function nonEmpty(flag: string, value: string | undefined): void {
  if (value !== undefined && value.trim() === "") throw new UserError(`${flag} must not be empty`);
}

/** The freeze windows to lift: the one `--freeze` names, else every window active now (after earlier lifts). */
function windowsToLift(
  evidenceDir: string,
  stack: string,
  now: Date,
  named: string | undefined,
): (FreezeRecord & { path: string })[] {
  const records = readRecords(evidenceDir, stack);
  const windows = liftedFreezes(records.freezes, readPostLaunchRecords(evidenceDir, stack).lifts);
  // The records as declared (a lift names the declared window, not one an earlier lift shortened).
  const declared = (list: readonly { path: string }[]) =>
    records.freezes.filter((f) => list.some((w) => w.path === f.path));
  if (named === undefined) return declared(activeFreezes(windows, stack, now));
  const base = path.basename(named);
  const found = windows.find((f) => path.basename(f.path) === base);
  if (found === undefined) {
    const known = records.freezes.map((f) => path.basename(f.path));
    throw new UserError(
      `--freeze ${named}: no such freeze record of stack ${stack} (${known.length > 0 ? `have: ${known.join(", ")}` : "there are none"})`,
    );
  }
  if (Date.parse(found.end) <= now.getTime()) {
    throw new UserError(
      `--freeze ${base}: that window already ended at ${found.end}${found.liftedBy !== undefined ? ` (lifted by ${found.liftedBy})` : ""}; nothing to lift`,
    );
  }
  return declared([found]);
}

function resultLine(f: LaunchReportFacts): string {
  const failed = f.verification.filter((v) => !v.ok).map((v) => v.check);
  const verified =
    f.verification.length === 0
      ? "no verification results recorded"
      : failed.length === 0
        ? `post-deploy verification passed (${f.verification.length} checks)`
        : `post-deploy verification FAILED (${failed.join(", ")})`;
  return f.kind === "rollback"
    ? `rolled back${f.rolledBackTo !== undefined ? ` to update ${f.rolledBackTo}` : ""}; ${verified}`
    : `released; ${verified}`;
}

/** The announcement Markdown. Pure. */
export function renderAnnouncement(a: {
  readonly stack: string;
  readonly launchReport: string;
  readonly facts: LaunchReportFacts;
  readonly lifted: readonly {
    readonly freeze: FreezeRecord & { readonly path: string };
    readonly record: string;
  }[];
  readonly liftedAt: Date;
  readonly by: string;
  readonly followUps: FollowUpsRecord;
  readonly followUpsFile: string;
}): string {
  const f = a.facts;
  return [
    `# Post-launch: ${a.stack} ${f.release}`,
    "",
    `- Release: ${f.release}`,
    `- Images: nova-rms-api \`${f.digests.api}\`, nova-rms-worker \`${f.digests.worker}\``,
    `- Result: ${resultLine(f)}${f.finishedAt !== undefined ? `, finished ${f.finishedAt}` : ""}`,
    `- Launch summary: \`${a.launchReport}\``,
    "",
    "## Change freeze",
    "",
    ...(a.lifted.length === 0
      ? ["No change-freeze window was active; nothing was lifted."]
      : a.lifted.map(
          (l) =>
            `- Lifted at ${a.liftedAt.toISOString()} by ${a.by}: window ${l.freeze.start} – ${l.freeze.end} (${l.freeze.reason}; declared by ${l.freeze.declaredBy}, \`${path.basename(l.freeze.path)}\`), lift record \`${l.record}\``,
        )),
    "",
    "## Follow-up drills",
    "",
    "| drill | due | done? |",
    "|---|---|---|",
    ...a.followUps.drills.map(
      (d) => `| ${d.drill} | ${d.dueAt} | \`${followUpDoneCommand(a.stack, d.drill)}\` |`,
    ),
    "",
    `Scheduled by ${a.followUps.scheduledBy} in \`${a.followUpsFile}\`; \`preflight\` warns about overdue ones.`,
    "",
  ].join("\n");
}

/**
 * Records what this run decided, each signed (same as `freeze`) under a temp name before anything reaches
 * `records/`; a production stack needs the signature of the named roster person, checked on the signed temp files.
 * On any signing problem nothing is recorded. Returns the records' paths, in order.
 */
function recordAll(
  evidenceDir: string,
  records: readonly PostLaunchRecord[],
  now: Date,
  o: { sshKey?: string; by: string },
  production: boolean,
  projectDir: string,
): string[] {
  const key = signingKeyOrWarn(o.sshKey);
  const pending: PendingRecord[] = [];
  const committed: string[] = [];
  try {
    for (const record of records) pending.push(prepareRecord(evidenceDir, record, now, key));
    if (production) {
      const roster = loadProductionEnforcement(projectDir).roster;
      if ("error" in roster) throw new Error(roster.error);
      for (const p of pending) {
        const why = recordSignatureProblem(p.file, o.by, roster);
        if (why !== undefined) throw new Error(`${path.basename(p.file)} would not count: ${why}`);
      }
    }
    for (const p of pending) {
      const written = p.commit();
      committed.push(written.file);
      console.log(`wrote ${path.relative(projectDir, written.file)}`);
      if (written.signature !== undefined) console.log(`signed ${written.signature}`);
    }
    return committed;
  } catch (e) {
    for (const p of pending) p.discard();
    for (const file of committed) {
      fs.rmSync(file, { force: true });
      fs.rmSync(`${file}.sig`, { force: true });
    }
    const reason = e instanceof RecordSigningError ? e.message : (e as Error).message.split("\n")[0];
    throw new UserError(`could not sign the records (nothing was recorded): ${reason}`);
  }
}

function requireKey(o: PostLaunchOptions, production: boolean, what: string): void {
  const key = recordSigningKey(o.sshKey);
  if (production && key === undefined) {
    throw new UserError(
      `a production ${what} counts only when signed by the person it names: pass --ssh-key <file> or set NOVA_SSH_KEY_FILE (the key of ${o.by} in policy/trust/roster.json)`,
    );
  }
  if (key !== undefined && !fs.existsSync(key)) throw new UserError(`--ssh-key ${key}: no such file`);
}

/** Records a follow-up drill as done. */
function recordDone(
  o: PostLaunchOptions,
  drill: string,
  evidenceDir: string,
  projectDir: string,
  production: boolean,
  now: Date,
): PostLaunchResult {
  if (!(FOLLOW_UP_DRILLS as readonly string[]).includes(drill)) {
    throw new UserError(`--done ${drill}: unknown drill; expected one of ${FOLLOW_UP_DRILLS.join(", ")}`);
  }
  if (o.freeze !== undefined || o.followUpDays !== undefined) {
    throw new UserError("--done records a completed drill only; run without it to lift the freeze");
  }
  requireKey(o, production, "follow-up completion");
  const open = followUpStatus(evidenceDir, o.stack, now).open.filter((f) => f.drill === drill);
  const [file = ""] = recordAll(
    evidenceDir,
    [
      {
        kind: "follow-up-done",
        stack: o.stack,
        drill: drill as FollowUpDrill,
        doneAt: now.toISOString(),
        doneBy: o.by,
        ...(o.note !== undefined ? { note: o.note } : {}),
      },
    ],
    now,
    o,
    production,
    projectDir,
  );
  console.log(
    open.length === 0
      ? `no open ${drill} follow-up of stack ${o.stack}; the completion is recorded anyway`
      : `completes ${open.map((f) => `the ${drill} drill of release ${f.release} (due ${f.dueAt})`).join(", ")}`,
  );
  return { lifts: [], done: file, notices: [] };
}

/** Runs `post-launch`; throws UserError on bad input. */
export function runPostLaunch(o: PostLaunchOptions, now: Date = new Date()): PostLaunchResult {
  nonEmpty("--by", o.by);
  nonEmpty("--stack", o.stack);
  nonEmpty("--reason", o.reason);
  nonEmpty("--note", o.note);
  const projectDir = resolveProjectDir(o.projectDir);
  const { evidenceDir, production, settings } = resolveStack(projectDir, o.stack, o.evidenceDir);
  if (o.done !== undefined) return recordDone(o, o.done, evidenceDir, projectDir, production, now);
  if (o.note !== undefined) throw new UserError("--note goes with --done <drill>");
  const days = followUpDays(o.followUpDays);
  requireKey(o, production, "freeze lift");
  const launch = newestLaunchReport(evidenceDir, o.stack);
  if (launch === undefined) {
    throw new UserError(
      `no launch summary (<ts>-launch.md) for stack ${o.stack} in ${path.relative(projectDir, stackEvidenceDir(evidenceDir, o.stack)) || "."}; run \`rollout up --stack ${o.stack}\` first`,
    );
  }
  const toLift = windowsToLift(evidenceDir, o.stack, now, o.freeze);
  const written: string[] = [];
  let result: PostLaunchResult;
  let drills: FollowUpsRecord["drills"];
  try {
    const lifts = toLift.map((freeze): FreezeLiftRecord => ({
      kind: "freeze-lift",
      stack: o.stack,
      freezeRecord: path.basename(freeze.path),
      freezeSha256: sha256(fs.readFileSync(freeze.path)),
      windowStart: freeze.start,
      windowEnd: freeze.end,
      liftedAt: now.toISOString(),
      liftedBy: o.by,
      reason: o.reason ?? `release ${launch.facts.release} launched`,
    }));
    const followUps: FollowUpsRecord = {
      kind: "follow-ups",
      stack: o.stack,
      release: launch.facts.release,
      launchReport: path.basename(launch.path),
      scheduledAt: now.toISOString(),
      scheduledBy: o.by,
      drills: FOLLOW_UP_DRILLS.map((drill) => ({
        drill,
        dueAt: new Date(now.getTime() + days * 86_400_000).toISOString(),
      })),
    };
    written.push(...recordAll(evidenceDir, [...lifts, followUps], now, o, production, projectDir));
    const followUpsFile = written.at(-1) ?? "";
    const lifted = toLift.map((freeze, i) => ({ freeze, record: path.basename(written[i] ?? "") }));
    const [announcement = ""] = writeFilesUnique(
      stackEvidenceDir(evidenceDir, o.stack),
      (n) => [`${evidenceStem(now, n)}-post-launch-announcement.md`],
      [
        renderAnnouncement({
          stack: o.stack,
          launchReport: path.basename(launch.path),
          facts: launch.facts,
          lifted,
          liftedAt: now,
          by: o.by,
          followUps,
          followUpsFile: path.basename(followUpsFile),
        }),
      ],
      { mode: 0o644 },
    );
    console.log(`wrote ${path.relative(projectDir, announcement)}`);
    if (lifted.length === 0) {
      console.error(`warning: no change-freeze window of stack ${o.stack} is active; nothing was lifted`);
    }
    const notices = lifted.map((l) =>
      freezeNoticeDetail({
        event: "lifted",
        stack: o.stack,
        start: l.freeze.start,
        end: l.freeze.end,
        by: o.by,
        liftedAt: now.toISOString(),
        reason: o.reason ?? `release ${launch.facts.release} launched`,
      }),
    );
    for (const n of notices) {
      console.log(
        messageOf({ kind: "freeze-lifted", stack: o.stack, release: "", at: now.toISOString(), detail: n }),
      );
    }
    result = { lifts: written.slice(0, lifted.length), followUps: followUpsFile, announcement, notices };
    drills = followUps.drills;
  } catch (e) {
    if (e instanceof UserError) throw e;
    for (const file of written) {
      fs.rmSync(file, { force: true });
      fs.rmSync(`${file}.sig`, { force: true });
    }
    throw new UserError(`post-launch failed, nothing was recorded: ${(e as Error).message.split("\n")[0]}`);
  }
  // Playbook §8.3: STATUS and TODO of the app say what launched and what follows, as a change to review.
  const appDir =
    o.appDocs === false
      ? undefined
      : resolveAppDir(projectDir, settings.ok ? settings.settings.appDir : undefined);
  return appDir === undefined
    ? result
    : { ...result, appDocs: writeLaunchIntoApp(appDir, o.stack, launch, drills) };
}

/** `post-launch` with its announcements: the freeze-lifted events go to the stack's channels unless `announce` is false. */
export async function postLaunch(
  o: PostLaunchOptions & { readonly announce: boolean },
  now: Date = new Date(),
): Promise<PostLaunchResult> {
  const result = runPostLaunch(o, now);
  if (!o.announce) return result;
  const projectDir = resolveProjectDir(o.projectDir);
  for (const lift of result.notices) await announce(projectDir, o.stack, "freeze-lifted", "", lift);
  return result;
}
