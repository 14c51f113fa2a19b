/**
 * Smoke E2E from a Playwright JSON report (`--reporter=json`): the project ran at least one test, and the report's
 * `stats` (`expected`, `unexpected`, `flaky`, `skipped`) count no unexpected result. Flaky tests (passed on retry)
 * are named, not failed.
 */
import { type CheckResult } from "../model";
import { describeProvenance, type LoadedArtifact, result } from "./types";

const TITLE = "Smoke E2E suite ran and passed";
const REMEDY = "npx playwright test --project smoke --reporter=json (then re-run preflight)";

interface PwTest {
  projectName?: unknown;
  status?: unknown;
}
interface PwSuite {
  specs?: { tests?: PwTest[] }[];
  suites?: PwSuite[];
}

function collectTests(suites: readonly PwSuite[] | undefined, out: PwTest[]): void {
  for (const s of suites ?? []) {
    for (const spec of s.specs ?? []) {
      out.push(...(spec.tests ?? []));
    }
    collectTests(s.suites, out);
  }
}

/**
 * @param project the Playwright project the suite runs (the playbook's `--project=chromium`; `smoke` for this
 *   repository's own layout).
 * @param remedy the command that writes the report.
 */
export function checkE2eSmoke(
  artifact: LoadedArtifact | undefined,
  project = "smoke",
  remedy: string = REMEDY,
): CheckResult {
  const threshold = `project "${project}" ran >= 1 test, stats.unexpected == 0`;
  if (artifact === undefined) {
    return result("e2e-smoke", TITLE, false, "no Playwright JSON report", threshold, null, remedy);
  }
  let report: {
    config?: { projects?: { name?: unknown }[]; metadata?: Record<string, unknown> };
    suites?: PwSuite[];
    stats?: { expected?: unknown; unexpected?: unknown; flaky?: unknown };
  };
  try {
    report = JSON.parse(artifact.bytes.toString("utf8")) as typeof report;
  } catch {
    return result("e2e-smoke", TITLE, false, `${artifact.path} is not JSON`, threshold, artifact, remedy);
  }
  const projects = (report.config?.projects ?? []).map((p) => p.name);
  const tests: PwTest[] = [];
  collectTests(report.suites, tests);
  const ran = tests.filter((t) => t.projectName === project && t.status !== "skipped").length;
  const unexpected = report.stats?.unexpected;
  // The release/commit the run belongs to, when the report's `config.metadata` (Playwright `metadata`) says so.
  const meta = report.config?.metadata ?? {};
  const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);
  const provenance = describeProvenance(str(meta["release"]), str(meta["commit"]));
  const flaky = report.stats?.flaky;
  const stats = [
    ...(typeof report.stats?.expected === "number" ? [`stats.expected ${report.stats.expected}`] : []),
    `stats.unexpected ${String(unexpected)}`,
    ...(typeof flaky === "number" && flaky > 0 ? [`stats.flaky ${flaky}`] : []),
  ].join(", ");
  const found = `${artifact.path}: projects [${projects.map(String).join(", ")}], ${ran} ${project} test(s) ran, ${stats}${provenance === "" ? "" : `, ${provenance}`}`;
  const pass = projects.includes(project) && ran >= 1 && unexpected === 0;
  return result("e2e-smoke", TITLE, pass, found, threshold, artifact, remedy);
}
