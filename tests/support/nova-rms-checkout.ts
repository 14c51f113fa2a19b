/**
 * The Nova RMS fixture checkout (tests/fixtures/nova-rms) as the readiness tests use it: a copy in which the
 * playbook's own commands ran, so its artifacts are in the formats those tools write.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const FIXTURE = path.resolve(__dirname, "../fixtures/nova-rms");

/** The drill check as the tests run it: npm runs the same package.json script pnpm would. */
export const DRILL_CHECK = "npm run --silent drill:check:staging";

/** Runs a package.json script of the checkout (`npm run --silent <args>`); returns its standard output. */
export const npmRun = (cwd: string, ...args: string[]): string =>
  execFileSync("npm", ["run", "--silent", ...args], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });

/**
 * A temporary copy of the fixture (its generated outputs left out) after the staging drill, the seeder, the coverage
 * run and the E2E smoke ran in it. The caller removes it.
 */
export function preparedCheckout(prefix = "nova-rms-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.cpSync(FIXTURE, dir, {
    recursive: true,
    filter: (src) =>
      !/[\\/](coverage|playwright-report|node_modules)$|[\\/]tests[\\/]drills[\\/]logs[\\/].+/.test(src),
  });
  npmRun(dir, "drill:billing", "--", "--env-file", "tests/drills/staging.drill.env");
  npmRun(dir, "seed:sample-data");
  npmRun(dir, "test:coverage");
  npmRun(dir, "test:e2e", "--", "--project=chromium");
  return dir;
}
