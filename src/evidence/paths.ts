/** File names and locations of evidence, shared by the collector, the CLI and the policy pack. */
import * as fs from "node:fs";
import * as path from "node:path";

/** Default evidence directory, relative to the project directory (defined in `src/contract`). */
export { DEFAULT_EVIDENCE_DIR } from "../contract";

/** The command that produces a fresh bundle for a stack. */
export function preflightRemedy(stack: string): string {
  return `npm run preflight -- --stack ${stack}`;
}

/** `20261125T183000Z` for 2026-11-25T18:30:00.123Z. */
export function evidenceTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
}

/** Parses an evidence timestamp (`20261125T183000Z`) back into a date, or undefined. */
export function parseEvidenceTimestamp(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s] = m;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * The name stem of an evidence file written at `date`: its evidence timestamp, and for the second and later files of
 * the same kind in the same second `<timestamp>.001`, `<timestamp>.002`, … Stems sort by name in the order they were
 * written (`20261125T183000Z-preflight.json` before `20261125T183000Z.001-preflight.json`).
 */
export function evidenceStem(date: Date, attempt = 0): string {
  const ts = evidenceTimestamp(date);
  return attempt === 0 ? ts : `${ts}.${String(attempt).padStart(3, "0")}`;
}

/** Parses an evidence stem (`20261125T183000Z` or `20261125T183000Z.001`) into its time and sequence number. */
export function parseEvidenceStem(text: string): { date: Date; seq: number } | undefined {
  const m = /^(\d{8}T\d{6}Z)(?:\.(\d{3,}))?$/.exec(text);
  const date = m?.[1] === undefined ? undefined : parseEvidenceTimestamp(m[1]);
  return date === undefined ? undefined : { date, seq: m?.[2] === undefined ? 0 : Number(m[2]) };
}

/** `<evidenceDir>/<stack>` */
export function stackEvidenceDir(evidenceDir: string, stack: string): string {
  return path.join(evidenceDir, stack);
}

/**
 * `<evidenceDir>/<stack>/verification`: what the post-deploy verification commands left (reports, drill logs,
 * screenshots), redacted, under content-addressed names; the launch log links them.
 */
export function verificationFilesDir(evidenceDir: string, stack: string): string {
  return path.join(evidenceDir, stack, VERIFICATION_FILES_DIRNAME);
}

/** The name of {@link verificationFilesDir} under the stack's evidence directory (where the launch logs are). */
export const VERIFICATION_FILES_DIRNAME = "verification";

/** `<evidenceDir>/<stack>/records` */
export function recordsDir(evidenceDir: string, stack: string): string {
  return path.join(evidenceDir, stack, "records");
}

export const BUNDLE_SUFFIX = "-preflight.json";
export const REPORT_SUFFIX = "-preflight.md";

/** The pair of files one preflight run writes (`attempt`: see {@link evidenceStem}). */
export function bundlePaths(
  evidenceDir: string,
  stack: string,
  createdAt: Date,
  attempt = 0,
): { json: string; markdown: string } {
  const base = path.join(stackEvidenceDir(evidenceDir, stack), evidenceStem(createdAt, attempt));
  return { json: `${base}${BUNDLE_SUFFIX}`, markdown: `${base}${REPORT_SUFFIX}` };
}

/** File name of a record: `<kind>-<release or stack>-<timestamp>.json` (`attempt`: see {@link evidenceStem}). */
export function recordFileName(
  kind: "freeze" | "approval" | "override" | "rollback",
  label: string,
  at: Date,
  attempt = 0,
): string {
  const safe = label.replace(/[^A-Za-z0-9._-]/g, "_");
  return `${kind}-${safe}-${evidenceStem(at, attempt)}.json`;
}

/** Path relative to the project directory with forward slashes (what bundles store). */
export function toProjectRelative(projectDir: string, file: string): string {
  return path.relative(projectDir, path.resolve(projectDir, file)).split(path.sep).join("/");
}

/** The record files (`*.json`, no hidden temp files) of a records directory, sorted by name; none when it is absent. */
export function jsonRecordFiles(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".json") && !e.name.startsWith("."))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}
