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

  it("rolls out as the CI identity with its key in a 0600 file, and opens the rollback pull request after exit 6", () => {
    const text = fs.readFileSync(WORKFLOW, "utf8");
    expect(text).toContain("secrets.NOVA_CI_ROLLOUT_SSH_KEY");
    expect(text).toMatch(/umask 077/);
    expect(text).toMatch(/chmod 600 "\$key"/);
    expect(text).toMatch(/NOVA_OPERATOR: ci-rollout/);
    expect(text).toMatch(/rollout -- up --stack "\$STACK" --as ci-rollout "\$\{key\[@\]\}"/);
    expect(text).toMatch(/key=\(--ssh-key "\$NOVA_SSH_KEY_FILE"\)/);
    expect(text).toMatch(
      /if: always\(\) && steps\.up\.outputs\.code == '6'\n\s+uses: peter-evans\/create-pull-request@v7/,
    );
    expect(text).toMatch(/Pulumi\.\$\{\{ inputs\.stack \|\| 'production' \}\}\.yaml/);
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
