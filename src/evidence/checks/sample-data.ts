/**
 * Sample data was seeded recently and cleanly: the newest seed log `<YYYYMMDDTHHMMSSZ>-seed-sample-data.log` of the
 * staging stack is younger than the threshold (default 7 days, from the time stamp in its file name), has a success
 * line and reports zero errors.
 */
import { DEFAULT_EVIDENCE_DIR, DEFAULT_GATE_THRESHOLDS } from "../../contract";
import { type CheckResult } from "../model";
import { parseEvidenceTimestamp } from "../paths";
import { PLAYBOOK_COMMANDS } from "../../contract";
import { type LoadedArtifact, provenanceOf, result } from "./types";

const TITLE = "Sample data seeded";
const SUCCESS = /^.*\b(?:seed(?:ing)?\s+(?:completed|complete|succeeded|ok)|sample data seeded)\b.*$/im;

/** Default maximum seed-log age in days. */
export const DEFAULT_SAMPLE_DATA_MAX_AGE_DAYS: number = DEFAULT_GATE_THRESHOLDS.sampleDataMaxAgeDays;

/** When a seed log was written: the `YYYYMMDDTHHMMSSZ` stamp its file name starts with (any directory). */
export function seedLogTime(fileName: string): Date | undefined {
  const stamp = /(?:^|\/)(\d{8}T\d{6}Z)-[^/]*$/.exec(fileName.replace(/\\/g, "/"));
  return stamp?.[1] === undefined ? undefined : parseEvidenceTimestamp(stamp[1]);
}

/** What a seed log says about errors. */
export interface SeedErrors {
  /** Every `errors: <n>` / `errors=<n>` / `<n> error(s)` count the log reports, in order. */
  readonly counts: readonly number[];
  /** Lines with the word `error`, `fatal` or `failed` (a count line is not one). */
  readonly errorLines: readonly string[];
}

/**
 * Reads the error evidence of a seed log. The zero-errors rule: every `errors: <n>` (or `<n> errors`) count is 0 **and** no line
 * contains the word `error`, `fatal` or `failed` (case-insensitive; `errors: 0` itself is a count, not an error
 * line). A log with neither counts nor error lines has zero errors.
 */
export function seedErrors(text: string): SeedErrors {
  const counts: number[] = [];
  const errorLines: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    for (const m of line.matchAll(/\berrors\s*[:=]\s*(\d+)|\b(\d+)\s+errors?\b/gi)) {
      counts.push(Number(m[1] ?? m[2]));
    }
    if (/\b(?:error|fatal|failed)\b/i.test(line)) {
      errorLines.push(line.trim());
    }
  }
  return { counts, errorLines };
}

/**
 * @param artifact the newest seed log (file name `<YYYYMMDDTHHMMSSZ>-seed-sample-data.log`), or undefined.
 * @param now the preflight clock.
 * @param maxAgeDays the log must be younger than this many days (from the stamp in its file name).
 */
export function checkSampleData(
  artifact: LoadedArtifact | undefined,
  now: Date,
  maxAgeDays: number,
  stagingStack: string,
  remedy: string = `seed the sample data on ${stagingStack} with the Nova RMS application's seeder (\`${PLAYBOOK_COMMANDS.seed}\` in its checkout, which writes tests/drills/logs/${stagingStack}/<timestamp>-seed-sample-data.log) and set nova-rollout:appDir to that checkout, or keep the log as ${DEFAULT_EVIDENCE_DIR}/${stagingStack}/<timestamp>-seed-sample-data.log here`,
): CheckResult {
  const threshold = `a seed log <YYYYMMDDTHHMMSSZ>-seed-sample-data.log younger than ${maxAgeDays} days with a success line ("seed completed" / "sample data seeded"), every "errors: <n>" 0 and no error/fatal/failed line`;
  if (artifact === undefined) {
    return result("sample-data", TITLE, false, "no seed log", threshold, null, remedy);
  }
  const text = artifact.bytes.toString("utf8");
  const when = seedLogTime(artifact.path);
  const ageDays = when === undefined ? undefined : (now.getTime() - when.getTime()) / 86_400_000;
  const line = SUCCESS.exec(text)?.[0]?.trim();
  const errors = seedErrors(text);
  const nonZero = errors.counts.filter((n) => n > 0);
  const provenance = provenanceOf(text);
  const found = [
    `${artifact.path} ${when === undefined || ageDays === undefined ? "has no YYYYMMDDTHHMMSSZ stamp in its file name" : `written ${when.toISOString()} (${ageDays.toFixed(1)} days ago)`}`,
    line === undefined ? "no success line" : `"${line}"`,
    errors.counts.length === 0 ? "no errors count" : `errors: ${errors.counts.join(", ")}`,
    ...(errors.errorLines.length === 0
      ? []
      : [`${errors.errorLines.length} error line(s), first "${errors.errorLines[0] ?? ""}"`]),
    ...(provenance === "" ? [] : [provenance]),
  ].join(", ");
  const pass =
    ageDays !== undefined &&
    ageDays >= -1 / 24 &&
    ageDays < maxAgeDays &&
    line !== undefined &&
    nonZero.length === 0 &&
    errors.errorLines.length === 0;
  return result("sample-data", TITLE, pass, found, threshold, artifact, remedy);
}
