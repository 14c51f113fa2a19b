/** Unit-test coverage from an istanbul `coverage-summary.json` (the `json-summary` reporter). */
import { z } from "zod";
import { type CheckResult } from "../model";
import { type LoadedArtifact, result } from "./types";

export interface CoverageThresholds {
  readonly statements: number;
  readonly branches: number;
  readonly functions: number;
  readonly lines: number;
}

/** The playbook's thresholds: 60/50/70/60. */
export const DEFAULT_COVERAGE_THRESHOLDS: CoverageThresholds = {
  statements: 60,
  branches: 50,
  functions: 70,
  lines: 60,
};

const metric = z.object({ pct: z.union([z.number(), z.literal("Unknown")]) });
const summarySchema = z.object({
  total: z.object({ statements: metric, branches: metric, functions: metric, lines: metric }),
});

const KEYS = ["statements", "branches", "functions", "lines"] as const;
const TITLE = "Unit-test coverage meets the thresholds";
const REMEDY = "npm run test:unit -- --coverage (then re-run preflight)";

export function checkCoverage(
  artifact: LoadedArtifact | undefined,
  thresholds: CoverageThresholds,
): CheckResult {
  const threshold = KEYS.map((k) => `${k} >= ${thresholds[k]}%`).join(", ");
  if (artifact === undefined) {
    return result("coverage", TITLE, false, "no coverage-summary.json", threshold, null, REMEDY);
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
      REMEDY,
    );
  }
  const pct = (k: (typeof KEYS)[number]): number => {
    const v = parsed.total[k].pct;
    return typeof v === "number" ? v : 0;
  };
  const found = KEYS.map((k) => `${k} ${pct(k)}%`).join(", ");
  const pass = KEYS.every((k) => pct(k) >= thresholds[k]);
  return result("coverage", TITLE, pass, found, threshold, artifact, REMEDY);
}
