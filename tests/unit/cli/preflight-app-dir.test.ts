/**
 * `rollout preflight` against the Nova RMS fixture checkout: the checkout is found through `--app-dir` or
 * `nova-rollout:appDir`, the stack's `nova-rollout:readinessCommands` run in it, and the app's checks are judged from
 * the checkout alone (the project keeps no artifact of its own).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type PreflightReport, runPreflight } from "../../../cli/actions/preflight";
import { UserError } from "../../../cli/errors";
import { makeProject, type ProjectFixture } from "../../policy/fixtures";
import { DRILL_CHECK, preparedCheckout } from "../../support/nova-rms-checkout";

const APP_CHECKS = ["coverage", "e2e-smoke", "billing-drill", "sample-data"];

let app: string;
beforeAll(() => {
  app = preparedCheckout("nova-rms-cli-");
});
afterAll(() => fs.rmSync(app, { recursive: true, force: true }));

let project: ProjectFixture | undefined;
afterEach(() => {
  project?.cleanup();
  project = undefined;
  vi.restoreAllMocks();
});

/** A project with no artifact of its own; `appDir` in its stack file when given. */
function bareProject(appDir?: string): ProjectFixture {
  const p = makeProject({
    extraConfig: {
      "nova-rollout:readinessCommands": JSON.stringify({ "billing-drill": DRILL_CHECK }),
      ...(appDir === undefined ? {} : { "nova-rollout:appDir": appDir }),
    },
  });
  for (const own of [
    "coverage",
    "playwright-report",
    "docs",
    "STATUS.md",
    "TODO.md",
    "tests/drills/logs/staging",
  ]) {
    fs.rmSync(path.join(p.dir, own), { recursive: true, force: true });
  }
  return p;
}

async function preflight(
  p: ProjectFixture,
  appDir?: string,
  staging: { stagingStack?: string; stagingEnv?: string } = {},
): Promise<{ report: PreflightReport; text: string }> {
  const out: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const report: PreflightReport = {};
  const now = new Date();
  await runPreflight(
    {
      stack: "production",
      projectDir: p.dir,
      engine: false,
      registry: "127.0.0.1:9/nova",
      releaseCut: new Date(now.getTime() - 3_600_000).toISOString(),
      ...(appDir === undefined ? {} : { appDir }),
      ...staging,
    },
    now,
    report,
  );
  return { report, text: out.join("\n") };
}

const verdicts = (report: PreflightReport) =>
  Object.fromEntries(APP_CHECKS.map((id) => [id, report.checks?.find((c) => c.id === id)?.verdict]));

describe("rollout preflight reads the Nova RMS checkout", () => {
  it("with --app-dir: the app's checks pass from the checkout and the command that ran is named", async () => {
    project = bareProject();
    const { report, text } = await preflight(project, app);
    expect(verdicts(report)).toEqual(Object.fromEntries(APP_CHECKS.map((id) => [id, "pass"])));
    expect(text).toContain(DRILL_CHECK);
  });

  it("with nova-rollout:appDir in the stack file (relative to the project): the same", async () => {
    project = bareProject();
    const relative = path.relative(project.dir, app);
    fs.rmSync(project.dir, { recursive: true, force: true });
    project = bareProject(relative);
    const { report } = await preflight(project);
    expect(verdicts(report)).toEqual(Object.fromEntries(APP_CHECKS.map((id) => [id, "pass"])));
    // The stack's evidence is the app's: the artifact copies the bundle names are there, none in the project.
    const copies = path.join(app, "tests", "drills", "logs", "production", "artifacts");
    expect(fs.readdirSync(copies).length).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(project.dir, "tests", "drills", "logs", "production", "artifacts"))).toBe(
      false,
    );
  });

  it("without a checkout the same project fails those checks", async () => {
    project = bareProject();
    const { report } = await preflight(project);
    for (const id of ["coverage", "e2e-smoke", "billing-drill"])
      expect(verdicts(report)[id], id).toBe("fail");
  });

  it("a staging stack named otherwise reads the app's logs of the environment --staging-env names", async () => {
    // The app writes its logs per environment (tests/drills/logs/staging/); the staging stack may be named otherwise.
    project = bareProject();
    const other = await preflight(project, app, { stagingStack: "staging-eu" });
    expect(verdicts(other.report)["billing-drill"]).toBe("fail");
    expect(verdicts(other.report)["sample-data"]).toBe("fail");
    expect(other.text).toMatch(/tests\/drills\/logs\/staging-eu\//);
    const named = await preflight(project, app, { stagingStack: "staging-eu", stagingEnv: "staging" });
    expect(verdicts(named.report)["billing-drill"]).toBe("pass");
    expect(verdicts(named.report)["sample-data"]).toBe("pass");
  });

  it("a production stack may not read another environment's logs: --staging-env is refused, nothing written", async () => {
    project = bareProject();
    const before = fs.readdirSync(project.evidenceDir, { recursive: true });
    const err = await preflight(project, app, { stagingEnv: "dev" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(
      /^--staging-env dev: a production stack is judged on the app's logs of the committed staging environment \(staging\); nothing was collected/,
    );
    expect(fs.readdirSync(project.evidenceDir, { recursive: true })).toEqual(before);
  });
});
