// The CI workflow is linted with actionlint (built by `npm run setup`); a missing binary fails, never skips.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseDocument } from "yaml";
import { requireToolchain } from "../../tools/toolchain";
import { workflowProblems } from "./workflow-structure";

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

describe(".github/workflows/rollout.yml structure", () => {
  const text = fs.readFileSync(WORKFLOW, "utf8");
  /** The workflow with one change applied to its parsed document, as text. */
  const mutated = (change: (doc: ReturnType<typeof parseDocument>) => void): string => {
    const doc = parseDocument(text);
    change(doc);
    return doc.toString();
  };

  /** Index of the first step of a job that uses `action` (or whose `with.command` is `command`). */
  const stepOf = (job: string, action: string, command?: string): number => {
    const steps = (
      parse(text) as { jobs: Record<string, { steps: { uses?: string; with?: { command?: string } }[] }> }
    ).jobs[job]?.steps;
    const i = (steps ?? []).findIndex(
      (s) =>
        s.uses?.startsWith(`${action}@`) === true && (command === undefined || s.with?.command === command),
    );
    if (i < 0) throw new Error(`job ${job} has no step using ${action}`);
    return i;
  };

  it("keeps every rule: WIF only, secret-free read-only PR preview with a comment, preflight, protected up", () => {
    expect(workflowProblems(text)).toEqual([]);
  });

  it("authenticates every GCP job through Workload Identity Federation with the auth plugin", () => {
    for (const job of ["preview", "preflight", "rollout"]) {
      expect(parseDocument(text).getIn(["jobs", job, "permissions", "id-token"])).toBe("write");
    }
    expect(text).not.toMatch(/credentials_json|PULUMI_CONFIG_PASSPHRASE/);
    expect(text).toMatch(/PULUMI_BACKEND_URL: \$\{\{ vars\.PULUMI_BACKEND_URL \}\}/);
    expect(text).toMatch(/gs:\/\/\?\*\)/);
    expect(text).toMatch(/\^secretsprovider: gcpkms:\/\//);
  });

  it.each<[string, (doc: ReturnType<typeof parseDocument>) => void, RegExp]>([
    [
      "no id-token on the preview job",
      (d) => d.deleteIn(["jobs", "preview", "permissions", "id-token"]),
      /job preview authenticates to GCP without permissions id-token: write/,
    ],
    [
      "no id-token on the rollout job",
      (d) => d.setIn(["jobs", "rollout", "permissions", "id-token"], "none"),
      /job rollout authenticates to GCP without permissions id-token: write/,
    ],
    [
      "a secret in the pull-request job",
      (d) =>
        d.setIn(["jobs", "preview", "env"], { PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" }),
      /pull-request job preview references secrets/,
    ],
    [
      "the pull-request job in the production environment",
      (d) => d.setIn(["jobs", "preview", "environment"], "production"),
      /pull-request job preview runs in an environment/,
    ],
    [
      "the rollout identity in the pull-request job",
      (d) =>
        d.setIn(
          [
            "jobs",
            "preview",
            "steps",
            stepOf("preview", "google-github-actions/auth"),
            "with",
            "service_account",
          ],
          "${{ vars.GCP_ROLLOUT_SERVICE_ACCOUNT }}",
        ),
      /does not use the read-only preview identity/,
    ],
    [
      "a JSON key",
      (d) =>
        d.setIn(
          [
            "jobs",
            "rollout",
            "steps",
            stepOf("rollout", "google-github-actions/auth"),
            "with",
            "credentials_json",
          ],
          "${{ secrets.GCP_KEY }}",
        ),
      /JSON service account key/,
    ],
    [
      "a passphrase",
      (d) => d.setIn(["env", "PULUMI_CONFIG_PASSPHRASE"], "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"),
      /PULUMI_CONFIG_PASSPHRASE is referenced/,
    ],
    [
      "up without the environment",
      (d) => d.deleteIn(["jobs", "rollout", "environment"]),
      /job rollout runs an update outside the protected production environment/,
    ],
    [
      "up without the preflight",
      (d) => d.deleteIn(["jobs", "rollout", "needs"]),
      /job rollout runs an update without needing the preflight job/,
    ],
    [
      "no auth plugin",
      (d) =>
        d.deleteIn([
          "jobs",
          "preflight",
          "steps",
          stepOf("preflight", "google-github-actions/setup-gcloud"),
          "with",
        ]),
      /job preflight does not install gke-gcloud-auth-plugin/,
    ],
    [
      "no PR comment",
      (d) =>
        d.setIn(
          [
            "jobs",
            "preview",
            "steps",
            stepOf("preview", "pulumi/actions", "preview"),
            "with",
            "comment-on-pr",
          ],
          false,
        ),
      /does not post the preview with pulumi\/actions comment-on-pr/,
    ],
  ])("fails on a copy with %s", (_name, change, problem) => {
    const copy = mutated(change);
    expect(copy).not.toBe(text);
    expect(workflowProblems(copy).join("\n")).toMatch(problem);
  });

  it("the copy without id-token is still actionlint-clean: only the structure test catches it", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nova-actionlint-")), "no-id-token.yml");
    fs.writeFileSync(
      file,
      mutated((d) => d.deleteIn(["jobs", "preview", "permissions", "id-token"])),
    );
    expect(actionlint(file).status).toBe(0);
    expect(workflowProblems(fs.readFileSync(file, "utf8"))).not.toEqual([]);
  });
});
