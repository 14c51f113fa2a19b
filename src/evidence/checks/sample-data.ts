/** Sample data was seeded: a seed run log (or marker) with a success line. */
import { type CheckResult } from "../model";
import { type LoadedArtifact, result } from "./types";

const TITLE = "Sample data seeded";
const SUCCESS = /^.*\b(?:seed(?:ing)?\s+(?:completed|complete|succeeded|ok)|sample data seeded)\b.*$/im;

export function checkSampleData(artifact: LoadedArtifact | undefined, stagingStack: string): CheckResult {
  const threshold = 'a seed log with a success line ("seed completed" / "sample data seeded")';
  const remedy = `npm run seed:sample-data -- --stack ${stagingStack}`;
  if (artifact === undefined) {
    return result("sample-data", TITLE, false, "no seed log", threshold, null, remedy);
  }
  const text = artifact.bytes.toString("utf8");
  const line = SUCCESS.exec(text)?.[0]?.trim();
  const failed = /\b(?:error|failed)\b/i.test(text) && line === undefined;
  const found =
    line !== undefined
      ? `${artifact.path}: "${line}"`
      : `${artifact.path} has no success line${failed ? " (errors logged)" : ""}`;
  return result("sample-data", TITLE, line !== undefined, found, threshold, artifact, remedy);
}
