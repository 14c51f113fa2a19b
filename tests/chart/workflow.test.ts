// The CI workflow is linted with actionlint (built by `npm run setup`); a missing binary fails, never skips.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { requireToolchain } from "../../tools/toolchain";

const REPO = path.resolve(__dirname, "..", "..");
const WORKFLOW = path.join(REPO, ".github", "workflows", "rollout.yml");

function actionlint(file: string): { status: number; out: string } {
  const bin = path.join(requireToolchain(REPO, ["actionlint"]), "actionlint");
  const r = spawnSync(bin, ["-no-color", file], { encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe(".github/workflows/rollout.yml", () => {
  it("passes actionlint", () => {
    const r = actionlint(WORKFLOW);
    expect(r.out).toBe("");
    expect(r.status).toBe(0);
  });

  it("maps the rollout CLI's exit codes (gate blocked, verification failed, rollback failed) to job outcomes", () => {
    const text = fs.readFileSync(WORKFLOW, "utf8");
    for (const code of ["5)", "6)", "8)"]) expect(text).toContain(code);
    expect(text).toMatch(/environment: \$\{\{ inputs\.stack \|\| 'production' \}\}/);
    expect(text).toMatch(/group: rollout-\$\{\{ inputs\.stack \|\| 'production' \}\}/);
  });

  it("fails on a broken workflow (the lint is real)", () => {
    const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nova-actionlint-")), "broken.yml");
    fs.writeFileSync(
      broken,
      fs.readFileSync(WORKFLOW, "utf8").replace("runs-on: ubuntu-latest", "runs-on: 42"),
    );
    fs.appendFileSync(
      broken,
      "      - run: echo ${{ github.event.nonexistent.field }}\n        uses: actions/checkout@v4\n",
    );
    const r = actionlint(broken);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/broken\.yml:\d+:\d+:/);
  });
});
