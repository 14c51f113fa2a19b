/**
 * The newest billing-drill log of the staging environment must be younger than the threshold (default 7 days) and
 * contain no failure line. The collector also judges the playbook's check command (`pnpm drill:check:staging`) by
 * its exit status when one is configured.
 */
import { BILLING_DRILL_CRONJOB, DEFAULT_EVIDENCE_DIR, DEFAULT_GATE_THRESHOLDS } from "../../contract";
import { type CheckResult } from "../model";
import { parseEvidenceTimestamp } from "../paths";
import { PLAYBOOK_COMMANDS } from "../../contract";
import { type LoadedArtifact, provenanceOf, result } from "./types";

const TITLE = "Billing drill ran on staging recently";

/** Default maximum drill age in days. */
export const DEFAULT_DRILL_MAX_AGE_DAYS: number = DEFAULT_GATE_THRESHOLDS.drillMaxAgeDays;

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
 * Whether a log declares a failed drill: a `result:` / `status:` line (optionally after an ISO time stamp, as the
 * drill writes its lines) saying `fail`, `failed` or `error`.
 */
export function drillFailed(text: string): boolean {
  return /^\s*(?:\d{4}-\d{2}-\d{2}T\S*\s+)?(?:result|status)\s*[:=]\s*(?:fail|failed|error)\b/im.test(text);
}

/**
 * @param logs every billing-drill log found (name contains `billing-drill`), any order.
 */
export function checkBillingDrill(
  logs: readonly LoadedArtifact[],
  now: Date,
  maxAgeDays: number,
  stagingStack: string,
  remedy: string = `run the billing drill on ${stagingStack} (the Nova RMS application's \`${PLAYBOOK_COMMANDS.stagingDrill}\`, the job of the ${BILLING_DRILL_CRONJOB} CronJob) and keep its log as ${DEFAULT_EVIDENCE_DIR}/${stagingStack}/<timestamp>-billing-drill.log, or set nova-rollout:appDir to the Nova RMS checkout that holds it`,
): CheckResult {
  const threshold = `newest drill log younger than ${maxAgeDays} days, no failure line (result: fail)`;
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
  const provenance = provenanceOf(text);
  const found = [
    `${newest.a.path} ran ${newest.t.toISOString()} (${ageDays.toFixed(1)} days ago)`,
    ...(failed ? ["result: fail"] : []),
    ...(provenance === "" ? [] : [provenance]),
  ].join(", ");
  const pass = ageDays >= -1 / 24 && ageDays < maxAgeDays && !failed;
  return result("billing-drill", TITLE, pass, found, threshold, newest.a, remedy);
}
