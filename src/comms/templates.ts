/**
 * Stakeholder communication for a release or a rollback, rendered from the launch summary into the stack's evidence
 * directory next to `<ts>-launch.md`: a status-page notice, a customer e-mail, an incident-room note and, on rollback,
 * a postmortem skeleton. Drafts for a person to review and send; nothing here sends anything.
 *
 * Only the summary's named fields are rendered (release, digests, times, change counts, verification results, the
 * dump path, the rollback's reason): never the whole object, so a field added to it later, or a value it should not
 * carry, does not reach a message. Credentials embedded in URLs (`scheme://user:password@`) are masked in free text.
 * The customer-facing texts carry no digests, check details or paths.
 */
import type { LaunchSummary, VerificationResult } from "./launch-summary";
import { evidenceStem, stackEvidenceDir } from "../evidence/paths";
import { writeFilesUnique } from "../util/atomic-file";

/** The files one release writes: `<timestamp>-<kind>.md`. */
export const COMMS_KINDS = ["status-page", "customer-email", "incident-room", "postmortem"] as const;
export type CommsKind = (typeof COMMS_KINDS)[number];

export interface CommsOptions {
  /** The product name customers know. Default `Nova RMS`. */
  readonly product?: string;
  /** Where customers get help (an address or URL). Default: a placeholder to fill in before sending. */
  readonly supportContact?: string;
  /** File name of the launch summary, referenced from the internal notes. */
  readonly launchReport?: string;
}

/** One rendered file. */
export interface RenderedComms {
  readonly kind: CommsKind;
  readonly text: string;
}

/** Masks credentials in URLs and keeps free text on one line. */
function clean(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, "$1***@")
    .replace(/\s*\n\s*/g, " ")
    .trim();
}

/** A Markdown table cell. */
function cell(text: string): string {
  return clean(text).replace(/\|/g, "\\|");
}

function utc(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function minutes(from: Date, to: Date): string {
  return ((to.getTime() - from.getTime()) / 60000).toFixed(1);
}

function verificationTable(results: readonly VerificationResult[]): string[] {
  if (results.length === 0) return ["_No verification results were recorded._"];
  return [
    "| check | result | attempts | detail |",
    "|---|---|---|---|",
    ...results.map(
      (v) => `| ${cell(v.check)} | ${v.ok ? "pass" : "FAIL"} | ${v.attempts} | ${cell(v.detail)} |`,
    ),
  ];
}

function product(o: CommsOptions): string {
  return clean(o.product ?? "Nova RMS");
}

function contact(o: CommsOptions): string {
  return o.supportContact !== undefined
    ? clean(o.supportContact)
    : "<support contact: fill in before sending>";
}

/** The public status-page notice. Pure. */
export function renderStatusPageNotice(s: LaunchSummary, o: CommsOptions = {}): string {
  const p = product(o);
  const window = `${utc(s.startedAt)} – ${utc(s.finishedAt)} (UTC)`;
  const lines =
    s.kind === "release"
      ? [
          `# ${p}: maintenance completed`,
          "",
          `**Status:** resolved — ${utc(s.finishedAt)}`,
          "",
          `We deployed ${p} release ${clean(s.release)} between ${window}. The update is complete and our post-deploy checks passed; no action is needed on your side.`,
          "",
          `If you notice anything unusual, contact ${contact(o)}.`,
        ]
      : [
          `# ${p}: update rolled back`,
          "",
          `**Status:** monitoring — ${utc(s.finishedAt)}`,
          "",
          `An update to ${p} did not pass our post-deploy checks, so we restored the previous version (release ${clean(s.release)}); the restore finished at ${utc(s.finishedAt)} (UTC). The service is running on the restored version and we are monitoring it.`,
          "",
          `We will post an update when our review is complete. If you notice anything unusual, contact ${contact(o)}.`,
        ];
  return `${lines.join("\n")}\n`;
}

/** The customer e-mail (subject line first). Pure. */
export function renderCustomerEmail(s: LaunchSummary, o: CommsOptions = {}): string {
  const p = product(o);
  const lines =
    s.kind === "release"
      ? [
          `Subject: ${p} release ${clean(s.release)} is live`,
          "",
          "Hello,",
          "",
          `We released ${p} ${clean(s.release)} on ${utc(s.finishedAt)} (UTC). The update went out without downtime and passed our post-deploy checks.`,
          "",
          `Questions or anything unexpected: ${contact(o)}.`,
          "",
          `— The ${p} team`,
        ]
      : [
          `Subject: ${p}: an update was rolled back`,
          "",
          "Hello,",
          "",
          `An update to ${p} did not pass our post-deploy checks. We restored the previous version (release ${clean(s.release)}), which has been running since ${utc(s.finishedAt)} (UTC). Your data is unaffected by the restore; we will follow up once we have reviewed what happened.`,
          "",
          `Questions or anything unexpected: ${contact(o)}.`,
          "",
          `— The ${p} team`,
        ];
  return `${lines.join("\n")}\n`;
}

/** The internal incident-room note: what ran, with digests, changes and the verification results. Pure. */
export function renderIncidentRoomNote(s: LaunchSummary, o: CommsOptions = {}): string {
  const changes =
    Object.entries(s.changes)
      .map(([op, n]) => `${clean(op)} ${n}`)
      .join(", ") || "none";
  const failed = s.verification.filter((v) => !v.ok).map((v) => clean(v.check));
  const lines = [
    `# Incident room: ${s.kind === "rollback" ? "rollback" : "release"} of ${clean(s.stack)} ${clean(s.release)}`,
    "",
    `- Stack: ${clean(s.stack)}`,
    `- Release: ${clean(s.release)}`,
    `- Images: nova-rms-api \`${clean(s.digests.api)}\`, nova-rms-worker \`${clean(s.digests.worker)}\``,
    `- Started: ${utc(s.startedAt)}; finished: ${utc(s.finishedAt)} (${minutes(s.startedAt, s.finishedAt)} min)`,
    `- Changes: ${changes}`,
    ...(s.rolledBackFrom !== undefined
      ? [
          `- Rolled back from: release ${clean(s.rolledBackFrom.release)} (nova-rms-api \`${clean(s.rolledBackFrom.digests.api)}\`, nova-rms-worker \`${clean(s.rolledBackFrom.digests.worker)}\`)`,
        ]
      : []),
    ...(s.rolledBackTo !== undefined ? [`- Re-applied the config of update ${s.rolledBackTo}`] : []),
    ...(s.reason !== undefined ? [`- Reason: ${clean(s.reason)}`] : []),
    ...(s.databaseDump !== undefined ? [`- Pre-release database dump: \`${clean(s.databaseDump)}\``] : []),
    ...(o.launchReport !== undefined ? [`- Launch summary: \`${clean(o.launchReport)}\``] : []),
    `- Verification: ${failed.length === 0 ? `all ${s.verification.length} check(s) passed` : `FAILED: ${failed.join(", ")}`}`,
    "",
    "## Post-deploy verification",
    "",
    ...verificationTable(s.verification),
    "",
    "## Next",
    "",
    ...(s.kind === "rollback"
      ? [
          "- [ ] Confirm the CronJobs run again and alerts are quiet",
          "- [ ] Commit the stack file: it holds the restored release",
          "- [ ] Fill in the postmortem written next to this note",
        ]
      : [
          "- [ ] Watch error rates and alerts for 24 hours",
          `- [ ] \`npm run rollout -- post-launch --stack ${clean(s.stack)} --by <you>\`: lift the freeze, schedule the follow-up drills`,
        ]),
    "",
  ];
  return lines.join("\n");
}

/** The postmortem skeleton of a rollback: release, digests, timeline and verification results filled in. Pure. */
export function renderPostmortem(s: LaunchSummary, o: CommsOptions = {}): string {
  const from = s.rolledBackFrom;
  const notRecorded = "_not recorded_";
  const lines = [
    `# Postmortem: ${from !== undefined ? `release ${clean(from.release)}` : "release"} rolled back on ${clean(s.stack)}`,
    "",
    "_Blameless. Fill in every section marked TODO; keep the facts below as recorded._",
    "",
    "## Release",
    "",
    "| | release | nova-rms-api | nova-rms-worker |",
    "|---|---|---|---|",
    from !== undefined
      ? `| rolled back | ${cell(from.release)} | \`${cell(from.digests.api)}\` | \`${cell(from.digests.worker)}\` |`
      : `| rolled back | ${notRecorded} | | |`,
    `| restored | ${cell(s.release)} | \`${cell(s.digests.api)}\` | \`${cell(s.digests.worker)}\` |`,
    "",
    ...(s.rolledBackTo !== undefined ? [`Restored the config of update ${s.rolledBackTo}.`, ""] : []),
    ...(s.reason !== undefined ? [`Reason recorded: ${clean(s.reason)}`, ""] : []),
    "## Timeline (UTC)",
    "",
    "| time | event |",
    "|---|---|",
    `| ${from?.startedAt !== undefined ? utc(from.startedAt) : notRecorded} | release started |`,
    `| ${from?.verificationFailedAt !== undefined ? utc(from.verificationFailedAt) : notRecorded} | post-deploy verification failed |`,
    `| ${utc(s.startedAt)} | rollback started |`,
    `| ${utc(s.finishedAt)} | rollback finished |`,
    "",
    "## Verification results",
    "",
    "### The release that was rolled back",
    "",
    ...(from?.verification !== undefined ? verificationTable(from.verification) : [notRecorded]),
    "",
    "### After the rollback",
    "",
    ...verificationTable(s.verification),
    "",
    ...(o.launchReport !== undefined ? [`Rollback summary: \`${clean(o.launchReport)}\``, ""] : []),
    "## Impact",
    "",
    "TODO: who was affected, how, and for how long.",
    "",
    "## Root cause",
    "",
    "TODO",
    "",
    "## What went well / what did not",
    "",
    "TODO",
    "",
    "## Action items",
    "",
    "| action | owner | due |",
    "|---|---|---|",
    "| TODO | | |",
    "",
  ];
  return lines.join("\n");
}

/** Every file a summary gets: the three notices, plus the postmortem for a rollback. Pure. */
export function renderReleaseComms(s: LaunchSummary, o: CommsOptions = {}): RenderedComms[] {
  return [
    { kind: "status-page", text: renderStatusPageNotice(s, o) },
    { kind: "customer-email", text: renderCustomerEmail(s, o) },
    { kind: "incident-room", text: renderIncidentRoomNote(s, o) },
    ...(s.kind === "rollback" ? [{ kind: "postmortem" as const, text: renderPostmortem(s, o) }] : []),
  ];
}

/**
 * Writes `<evidenceDir>/<stack>/<timestamp>-<kind>.md` for each rendered file, the timestamp being the summary's
 * `finishedAt` (as for `<timestamp>-launch.md`); returns the paths written.
 */
export function writeReleaseComms(
  evidenceDir: string,
  summary: LaunchSummary,
  opts: CommsOptions = {},
): string[] {
  // Atomically, under one stem no earlier file uses (`<timestamp>.001`, … when one of the same second exists).
  const rendered = renderReleaseComms(summary, opts);
  return writeFilesUnique(
    stackEvidenceDir(evidenceDir, summary.stack),
    (n) => rendered.map(({ kind }) => `${evidenceStem(summary.finishedAt, n)}-${kind}.md`),
    rendered.map(({ text }) => text),
    { mode: 0o644 },
  );
}

/** A change-freeze event, for the release channels. */
export interface FreezeNotice {
  readonly event: "declared" | "lifted";
  readonly stack: string;
  readonly start: string;
  readonly end: string;
  /** Who declared or lifted it. */
  readonly by: string;
  readonly reason?: string;
  /** For a lift: when. */
  readonly liftedAt?: string;
}

/**
 * The detail of a freeze-declared / freeze-lifted event (the notifier adds the title and the stack: see
 * `messageOf` in src/notify/notifier.ts). Pure.
 */
export function freezeNoticeDetail(n: FreezeNotice): string {
  const what =
    n.event === "declared"
      ? `${n.start} – ${n.end} by ${clean(n.by)}`
      : `window ${n.start} – ${n.end} ended at ${n.liftedAt ?? "now"} by ${clean(n.by)}`;
  return `${what}${n.reason !== undefined ? ` — ${clean(n.reason)}` : ""}`;
}
