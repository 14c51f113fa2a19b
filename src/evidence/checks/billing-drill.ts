/**
 * The newest billing-drill log of the staging stack must be younger than the threshold (default 7 days), end with the
 * success marker {@link DRILL_SUCCESS_MARKER} and contain no failure line.
 */
import { BILLING_DRILL_CRONJOB, DEFAULT_EVIDENCE_DIR } from "../../contract";
import { type CheckResult } from "../model";
import { parseEvidenceTimestamp } from "../paths";
import { type LoadedArtifact, provenanceOf, result } from "./types";

const TITLE = "Billing drill ran on staging recently";

/** Default maximum drill age in days. */
export const DEFAULT_DRILL_MAX_AGE_DAYS = 7;

/**
 * When a drill log says it ran: an explicit line `completed_at: <ISO time>` (or `drill completed at <ISO>`) wins;
 * otherwise a `YYYYMMDDTHHMMSSZ` or `YYYY-MM-DD` stamp in the file name.
 */
export function drillTime(fileName: string, text: string): Date | undefined {
  const line =
    /^\s*(?:completed[_ ]at|drill completed at)\s*[:=]?\s*(\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2}))\s*$/im.exec(
      text,
    );
  if (line?.[1] !== undefined) {
    const t = new Date(line[1]);
    if (!Number.isNaN(t.getTime())) {
      return t;
    }
  }
  const stamp = /(\d{8}T\d{6}Z)/.exec(fileName);
  if (stamp?.[1] !== undefined) {
    return parseEvidenceTimestamp(stamp[1]);
  }
  const day = /(\d{4}-\d{2}-\d{2})/.exec(fileName);
  if (day?.[1] !== undefined) {
    const t = new Date(`${day[1]}T00:00:00Z`);
    return Number.isNaN(t.getTime()) ? undefined : t;
  }
  return undefined;
}

/**
 * The machine-readable success marker: the last non-empty line of a drill log that passed must be exactly this
 * (surrounding whitespace ignored). The drill writes it only after every step succeeded; a log without it (a drill
 * that was cut short, or an unrelated file) proves nothing and fails.
 */
export const DRILL_SUCCESS_MARKER = "NOVA-DRILL-RESULT: pass";

/**
 * Whether a log declares a failed drill: a `result:` / `status:` line saying `fail`, `failed` or `error`, or a
 * `NOVA-DRILL-RESULT:` line with anything but `pass`.
 */
export function drillFailed(text: string): boolean {
  return (
    /^\s*(?:result|status)\s*[:=]\s*(?:fail|failed|error)\b/im.test(text) ||
    /^[ \t]*NOVA-DRILL-RESULT[ \t]*:(?![ \t]*pass[ \t]*\r?$)/im.test(text)
  );
}

/** Whether the last non-empty line of a log is {@link DRILL_SUCCESS_MARKER}. */
export function drillPassedMarker(text: string): boolean {
  const last = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .at(-1);
  return last === DRILL_SUCCESS_MARKER;
}

/**
 * @param logs every billing-drill log found (name contains `billing-drill`), any order.
 */
export function checkBillingDrill(
  logs: readonly LoadedArtifact[],
  now: Date,
  maxAgeDays: number,
  stagingStack: string,
): CheckResult {
  const threshold = `newest drill log younger than ${maxAgeDays} days, last line "${DRILL_SUCCESS_MARKER}", no failure line`;
  const remedy = `run the billing drill on ${stagingStack} (the Nova RMS application's drill, the job of the ${BILLING_DRILL_CRONJOB} CronJob; this repository has no script for it) and keep its log as ${DEFAULT_EVIDENCE_DIR}/${stagingStack}/<timestamp>-billing-drill.log, with release:/commit: lines and the final line "${DRILL_SUCCESS_MARKER}" only when every step passed`;
  const dated = logs
    .map((a) => ({ a, t: drillTime(a.path, a.bytes.toString("utf8")) }))
    .filter((x): x is { a: LoadedArtifact; t: Date } => x.t !== undefined)
    .sort((x, y) => y.t.getTime() - x.t.getTime());
  const newest = dated[0];
  if (newest === undefined) {
    const found =
      logs.length === 0 ? "no billing-drill log" : `${logs.length} log(s) without a readable timestamp`;
    return result("billing-drill", TITLE, false, found, threshold, null, remedy);
  }
  const ageDays = (now.getTime() - newest.t.getTime()) / 86_400_000;
  const text = newest.a.bytes.toString("utf8");
  const failed = drillFailed(text);
  const marked = drillPassedMarker(text);
  const provenance = provenanceOf(text);
  const found = [
    `${newest.a.path} ran ${newest.t.toISOString()} (${ageDays.toFixed(1)} days ago)`,
    ...(failed ? ["result: fail"] : []),
    marked ? `ends with "${DRILL_SUCCESS_MARKER}"` : `no final "${DRILL_SUCCESS_MARKER}" line`,
    ...(provenance === "" ? [] : [provenance]),
  ].join(", ");
  const pass = ageDays >= -1 / 24 && ageDays < maxAgeDays && !failed && marked;
  return result("billing-drill", TITLE, pass, found, threshold, newest.a, remedy);
}
