/**
 * Unit-test coverage from the `coverage-summary.json` that istanbul's `json-summary` reporter (vitest, jest, nyc)
 * writes: the `total` percentages, and (when the collector knows when the file was written) its age.
 */
import { z } from "zod";
import { DEFAULT_GATE_THRESHOLDS } from "../../contract";
import { type CheckResult } from "../model";
import { type LoadedArtifact, result } from "./types";

export interface CoverageThresholds {
  readonly statements: number;
  readonly branches: number;
  readonly functions: number;
  readonly lines: number;
}

/** The playbook's thresholds: 60/50/70/60. */
export const DEFAULT_COVERAGE_THRESHOLDS: CoverageThresholds = DEFAULT_GATE_THRESHOLDS.coverage;

const metric = z.object({ pct: z.union([z.number(), z.literal("Unknown")]) });
const summarySchema = z.object({
  total: z.object({ statements: metric, branches: metric, functions: metric, lines: metric }),
});

const KEYS = ["statements", "branches", "functions", "lines"] as const;
const TITLE = "Unit-test coverage meets the thresholds";
const DEFAULT_REMEDY = "npm run test:unit -- --coverage (then re-run preflight)";

/** Default maximum age of the coverage summary, in days. */
export const DEFAULT_COVERAGE_MAX_AGE_DAYS = 7;

/** When the summary was written and how old it may be; without it the age is not judged. */
export interface CoverageAge {
  readonly writtenAt: Date;
  readonly now: Date;
  readonly maxAgeDays: number;
}

/**
 * @param remedy the command that writes the summary (default: this repository's `npm run test:unit -- --coverage`;
 *   for the app checkout, the playbook's).
 */
export function checkCoverage(
  artifact: LoadedArtifact | undefined,
  thresholds: CoverageThresholds,
  age?: CoverageAge,
  remedy: string = DEFAULT_REMEDY,
): CheckResult {
  const threshold = [
    ...KEYS.map((k) => `${k} >= ${thresholds[k]}%`),
    ...(age === undefined ? [] : [`written less than ${age.maxAgeDays} days ago`]),
  ].join(", ");
  if (artifact === undefined) {
    return result("coverage", TITLE, false, "no coverage-summary.json", threshold, null, remedy);
  }
  let parsed: z.infer<typeof summarySchema>;
  try {
    parsed = summarySchema.parse(JSON.parse(artifact.bytes.toString("utf8")));
  } catch {
    return result(
      "coverage",
      TITLE,
      false,
      `${artifact.path} is not an istanbul summary`,
      threshold,
      artifact,
      remedy,
    );
  }
  const pct = (k: (typeof KEYS)[number]): number => {
    const v = parsed.total[k].pct;
    return typeof v === "number" ? v : 0;
  };
  const ageDays = age === undefined ? undefined : (age.now.getTime() - age.writtenAt.getTime()) / 86_400_000;
  const found = [
    ...KEYS.map((k) => `${k} ${pct(k)}%`),
    ...(age === undefined || ageDays === undefined
      ? []
      : [`${artifact.path} written ${age.writtenAt.toISOString()} (${ageDays.toFixed(1)} days ago)`]),
  ].join(", ");
  const fresh = age === undefined || ageDays === undefined || ageDays < age.maxAgeDays;
  const pass = KEYS.every((k) => pct(k) >= thresholds[k]) && fresh;
  return result("coverage", TITLE, pass, found, threshold, artifact, remedy);
}
