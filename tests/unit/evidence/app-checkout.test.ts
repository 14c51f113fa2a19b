/**
 * The readiness checks against the Nova RMS fixture checkout (tests/fixtures/nova-rms): its own scripts write the
 * real formats (istanbul coverage-summary.json, Playwright JSON, drill and seed logs), the collector runs its check
 * command, and the bundle keeps content-addressed copies that the deploy-time check verifies.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type CommandOutcome,
  DEFAULT_READINESS_COMMANDS,
  keepArtifactCopy,
  redact,
  spawnCommand,
} from "../../../src/evidence/app-checkout";
import { resolveAppDir } from "../../../src/config/project";
import { type CollectorOptions, collectEvidence } from "../../../src/evidence/collector";
import { projectFileReader } from "../../../src/evidence/preflight-files";
import { type CheckResult, type EvidenceBundle, sha256 } from "../../../src/evidence/model";
import { verifyReadiness } from "../../../src/evidence/verifier";
import { rawStackConfigSchema } from "../../../src/config/schema";
import { makeProject, passingOptions, type ProjectFixture, RELEASE } from "../../policy/fixtures";
import { DRILL_CHECK, npmRun, preparedCheckout } from "../../support/nova-rms-checkout";

const DAY = 86_400_000;
const npm = npmRun;

/** A copy of the fixture checkout after the playbook's commands ran in it (generated outputs excluded). */
let template: string;
beforeAll(() => {
  template = preparedCheckout("nova-rms-template-");
});
afterAll(() => fs.rmSync(template, { recursive: true, force: true }));

interface Setup {
  project: ProjectFixture;
  app: string;
  now: Date;
  options(overrides?: Partial<CollectorOptions>): CollectorOptions;
}
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A project without any artifact of its own and a fresh copy of the checkout next to it (`appDir: ../nova-rms`). */
function setup(): Setup {
  const project = makeProject();
  for (const own of [
    "coverage",
    "playwright-report",
    "docs",
    "STATUS.md",
    "TODO.md",
    "tests/drills/logs/staging",
  ]) {
    fs.rmSync(path.join(project.dir, own), { recursive: true, force: true });
  }
  const app = fs.mkdtempSync(path.join(os.tmpdir(), "nova-rms-"));
  fs.cpSync(template, app, { recursive: true });
  cleanups.push(() => {
    project.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  });
  const now = new Date();
  return {
    project,
    app,
    now,
    options: (overrides = {}) =>
      passingOptions(project, {
        appDir: path.relative(project.dir, app),
        readinessCommands: { "billing-drill": DRILL_CHECK },
        now,
        releaseCut: new Date(now.getTime() - 3_600_000),
        // When files were written: their mtime (the checkout copy is no git repository).
        updatedAt: (abs) => ({ date: fs.statSync(abs).mtime, how: "mtime" }),
        stagingHistory: () =>
          Promise.resolve([
            {
              kind: "update",
              result: "succeeded",
              version: 7,
              endTime: new Date(now.getTime() - DAY),
              config: {
                "nova-rollout:apiImageDigest": {
                  value: passingOptions(project).settings.digests.api,
                  secret: false,
                },
                "nova-rollout:workerImageDigest": {
                  value: passingOptions(project).settings.digests.worker,
                  secret: false,
                },
              },
            },
          ]),
        ...overrides,
      }),
  };
}

const check = (bundle: EvidenceBundle, id: string): CheckResult => {
  const c = bundle.checks.find((x) => x.id === id);
  if (c === undefined) throw new Error(`no check ${id}`);
  return c;
};

function verify(s: Setup, bundle: EvidenceBundle) {
  return verifyReadiness({
    bundle: { status: "ok", path: "(memory)", bundle, bytes: Buffer.from(JSON.stringify(bundle)) },
    expected: { stack: bundle.stack, release: bundle.release, digests: bundle.imageDigests },
    now: s.now,
    maxAgeHours: 24,
    readFile: projectFileReader(s.project.dir),
  }).filter((f) => f.checkId !== "bundle");
}

describe("preflight against the Nova RMS fixture checkout", () => {
  it("passes with the formats the tools write, naming the command it ran and where each artifact came from", async () => {
    const s = setup();
    const bundle = await collectEvidence(s.options());
    expect(bundle.checks.filter((c) => c.verdict !== "pass").map((c) => `${c.id}: ${c.found}`)).toEqual([]);
    const appRel = path.relative(s.project.dir, s.app).split(path.sep).join("/");
    expect(check(bundle, "coverage").found).toMatch(
      /^statements 75\.54%, branches 62\.5%, functions 83\.33%, lines 76\.92%/,
    );
    expect(check(bundle, "e2e-smoke").found).toMatch(
      new RegExp(
        `^${appRel}/playwright-report/results\\.json: .*2 chromium test\\(s\\) ran, stats\\.expected 2, stats\\.unexpected 0`,
      ),
    );
    const drill = check(bundle, "billing-drill");
    expect(drill.found).toMatch(
      new RegExp(`^${appRel}/tests/drills/logs/staging/\\d{8}T\\d{6}Z-billing-drill\\.log ran`),
    );
    expect(drill.found).toMatch(/release 2026\.11\.3, commit 3f9c2e1a/);
    expect(drill.found).toMatch(
      /ran `npm run --silent drill:check:staging` in the app checkout: exited 0 \(\d+\.\d s, output tests\/drills\/logs\/production\/artifacts\/[0-9a-f]{64}-billing-drill-command\.log\)/,
    );
    expect(check(bundle, "sample-data").found).toMatch(/seed completed: 3 tenants, 120 invoices, errors: 0/);
    expect(check(bundle, "status-updated").found).toMatch(
      new RegExp(`^${appRel}/STATUS\\.md updated .*names ${RELEASE}`),
    );
    // The command's output is kept, as printed.
    const output = /output (\S+)\)/.exec(drill.found)?.[1] ?? "";
    expect(fs.readFileSync(path.join(s.project.dir, output), "utf8")).toMatch(
      /^\$ npm run --silent drill:check:staging\ndrill check staging: \d{8}T\d{6}Z-billing-drill\.log ran .*result pass\ndrill check staging: ok\n$/,
    );
  });

  it("records content-addressed copies, so the deploy-time check holds after git-ignored outputs are deleted", async () => {
    const s = setup();
    const bundle = await collectEvidence(s.options());
    const judged = bundle.checks.filter((c) => c.artifact !== null);
    expect(judged.map((c) => c.id).sort()).toEqual(
      [
        "billing-drill",
        "coverage",
        "e2e-smoke",
        "runbooks-updated",
        "sample-data",
        "status-updated",
        "todo-updated",
      ].sort(),
    );
    for (const c of judged) {
      const ref = c.artifact;
      expect(ref?.path, c.id).toMatch(/^tests\/drills\/logs\/production\/artifacts\/[0-9a-f]{64}-[^/]+$/);
      expect(ref?.path.includes(ref.sha256), c.id).toBe(true);
      expect(sha256(fs.readFileSync(path.join(s.project.dir, ref?.path ?? ""))), c.id).toBe(ref?.sha256);
    }
    fs.rmSync(path.join(s.app, "coverage"), { recursive: true });
    fs.rmSync(path.join(s.app, "playwright-report"), { recursive: true });
    expect(verify(s, bundle)).toEqual([]);
    // The copy is what counts: an edited copy is caught.
    const copy = path.join(s.project.dir, check(bundle, "coverage").artifact?.path ?? "");
    fs.writeFileSync(copy, fs.readFileSync(copy, "utf8").replace("75.54", "95.54"));
    expect(verify(s, bundle).map((f) => f.message)).toEqual([
      expect.stringMatching(
        /^Artifact tests\/drills\/logs\/production\/artifacts\/[0-9a-f]{64}-coverage-summary\.json of check "coverage" changed since preflight/,
      ),
    ]);
  });

  it.each<[string, (s: Setup) => Partial<CollectorOptions> | void, string, RegExp, RegExp]>([
    [
      "the drill log removed",
      (s) => {
        const logs = path.join(s.app, "tests/drills/logs/staging");
        for (const f of fs.readdirSync(logs).filter((n) => n.endsWith("-billing-drill.log"))) {
          fs.rmSync(path.join(logs, f));
        }
      },
      "billing-drill",
      /`npm run --silent drill:check:staging` in the app checkout: exited 1 .*last line "drill check staging: no billing drill log in tests\/drills\/logs\/staging\/.*; no billing-drill log$/,
      /`pnpm drill:billing --env-file tests\/drills\/staging\.drill\.env`.*check it with `pnpm drill:check:staging`/,
    ],
    [
      "a failed staging drill (the check command fails on it)",
      (s) => {
        // A second later than the passing run, so this log is the newest.
        execFileSync("sleep", ["1"]);
        try {
          npm(
            s.app,
            "drill:billing",
            "--",
            "--env-file",
            "tests/drills/staging.drill.env",
            "--fail-step",
            "reconcile-invoices",
          );
        } catch {
          // the drill exits 1 when a step failed
        }
      },
      "billing-drill",
      /exited 1 .*last line "drill check staging: FAILED.*; .*billing-drill\.log ran .*, result: fail/,
      /fix what `npm run --silent drill:check:staging` reports.*`pnpm drill:check:staging`/,
    ],
    [
      "a drill check command that exits non-zero although the log is fine",
      () => ({ readinessCommands: { "billing-drill": "node -e process.exit(3)" } }),
      "billing-drill",
      /^ran `node -e process\.exit\(3\)` in the app checkout: exited 3 .*billing-drill\.log ran/,
      /fix what `node -e process\.exit\(3\)` reports/,
    ],
    [
      "a coverage summary 8 days old",
      (s) => {
        const old = new Date(s.now.getTime() - 8 * DAY);
        fs.utimesSync(path.join(s.app, "coverage/coverage-summary.json"), old, old);
      },
      "coverage",
      /coverage\/coverage-summary\.json written .* \(8\.0 days ago\)/,
      /^in the Nova RMS checkout \(nova-rollout:appDir\): `pnpm test:coverage` \(writes coverage\/coverage-summary\.json\), then re-run npm run preflight -- --stack production$/,
    ],
    [
      "a STATUS.md that does not name the release",
      (s) => fs.writeFileSync(path.join(s.app, "STATUS.md"), "# Status\n\nRelease 2026.11.30 is cut.\n"),
      "status-updated",
      /STATUS\.md updated .*, does not name release 2026\.11\.3$/,
      /^update STATUS\.md in the Nova RMS checkout for release 2026\.11\.3 \(name the tag 2026\.11\.3\), commit it, then re-run npm run preflight -- --stack production$/,
    ],
    [
      "a Playwright run with an unexpected failure",
      (s) => {
        try {
          npm(s.app, "test:e2e", "--", "--project=chromium", "--fail");
        } catch {
          // Playwright exits 1 when a test failed
        }
      },
      "e2e-smoke",
      /stats\.expected 1, stats\.unexpected 1/,
      /`pnpm test:e2e --project=chromium` \(writes playwright-report\/results\.json\)/,
    ],
  ])(
    "fails with %s, with a fix line naming the playbook command",
    async (_what, spoil, id, found, remedy) => {
      const s = setup();
      const overrides = spoil(s) ?? {};
      const bundle = await collectEvidence(s.options(overrides));
      const c = check(bundle, id);
      expect(c.verdict).toBe("fail");
      expect(c.found).toMatch(found);
      expect(c.remedy).toMatch(remedy);
      // Only that check fails.
      expect(bundle.checks.filter((x) => x.verdict !== "pass").map((x) => x.id)).toEqual([id]);
      // …and the deploy-time check reports it with the same fix.
      expect(verify(s, bundle)).toContainEqual(expect.objectContaining({ checkId: id, remedy: c.remedy }));
    },
  );

  it("runs the playbook's default command, and says how to get pnpm when it is missing", async () => {
    const s = setup();
    const ran: string[] = [];
    const bundle = await collectEvidence(
      s.options({
        readinessCommands: undefined,
        runCommand: (command, cwd) => {
          ran.push(`${command} @ ${cwd}`);
          return spawnCommand(60_000, { PATH: path.join(s.app, "no-such-bin") })(command, cwd);
        },
      }),
    );
    expect(ran).toEqual([`pnpm drill:check:staging @ ${s.app}`]);
    expect(DEFAULT_READINESS_COMMANDS).toEqual({ "billing-drill": "pnpm drill:check:staging" });
    const drill = check(bundle, "billing-drill");
    expect(drill.verdict).toBe("fail");
    expect(drill.found).toMatch(
      /^ran `pnpm drill:check:staging` in the app checkout: did not finish: pnpm is not installed \(not on PATH\); install pnpm \(corepack enable pnpm\) or set nova-rollout:readinessCommands to npm run … commands/,
    );
  });

  it("runs no command without an app checkout", async () => {
    const project = makeProject();
    cleanups.push(() => project.cleanup());
    const ran: string[] = [];
    const bundle = await collectEvidence(
      passingOptions(project, {
        runCommand: (command): CommandOutcome => {
          ran.push(command);
          return { command, exitCode: 0, output: "", durationMs: 0 };
        },
      }),
    );
    expect(ran).toEqual([]);
    expect(bundle.checks.filter((c) => c.verdict !== "pass")).toEqual([]);
    // Without an app checkout the bundle names the project's own files, not copies.
    expect(check(bundle, "coverage").artifact?.path).toBe("coverage/coverage-summary.json");
  });
});

describe("the app checkout", () => {
  it.each([
    ["configured, relative to the project", "/repo/ops/rollout", "../../app", "/repo/app"],
    ["unset, program in the app's infra/", "<app>/infra/rollout", undefined, "<app>"],
    ["unset, program elsewhere", "<other>/rollout", undefined, undefined],
  ])("%s", (_what, projectDir, configured, expected) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "nova-appdir-"));
    cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
    const at = (p: string) =>
      p.replace("<app>", path.join(root, "app")).replace("<other>", path.join(root, "other"));
    fs.mkdirSync(at("<app>/infra/rollout"), { recursive: true });
    fs.writeFileSync(at("<app>/pnpm-workspace.yaml"), "packages: []\n");
    fs.mkdirSync(at("<other>/rollout"), { recursive: true });
    expect(resolveAppDir(at(projectDir), configured)).toBe(expected === undefined ? undefined : at(expected));
  });

  it("is stack config: appDir and readinessCommands, every problem named", () => {
    const base = rawStackConfigSchema.safeParse({});
    const problems = base.success ? [] : base.error.issues.map((i) => i.path.join("."));
    expect(problems).not.toContain("appDir");
    expect(problems).not.toContain("readinessCommands");
    const bad = rawStackConfigSchema.safeParse({
      appDir: " ",
      readinessCommands: '{"billing-drill": "", "lint": "x"}',
    });
    expect(bad.success).toBe(false);
    const messages = bad.success ? [] : bad.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^appDir: expected a directory/),
        expect.stringMatching(/^readinessCommands\.billing-drill: expected a command line/),
        expect.stringMatching(/^readinessCommands: unknown check id lint; expected a map of check id/),
      ]),
    );
  });

  it("runs commands without a shell and without the rollout's own secrets in their environment", () => {
    const outcome = spawnCommand(60_000, {
      PATH: process.env["PATH"],
      PULUMI_CONFIG_PASSPHRASE: "state-passphrase-1",
      NOVA_REGISTRY_AUTHORIZATION: "Bearer registry-token-1",
      FIXTURE_MODE: "check",
    })(
      'node -e console.log(process.env.PULUMI_CONFIG_PASSPHRASE??"withheld",process.env.NOVA_REGISTRY_AUTHORIZATION??"withheld",process.env.FIXTURE_MODE,"$HOME")',
      os.tmpdir(),
    );
    expect(outcome).toMatchObject({ exitCode: 0, output: "withheld withheld check $HOME\n" });
  });

  it("keeps one copy per content", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "nova-copies-"));
    cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
    const a = keepArtifactCopy(
      root,
      path.join(root, "logs"),
      "production",
      "../app/STATUS.md",
      Buffer.from("x"),
    );
    const b = keepArtifactCopy(
      root,
      path.join(root, "logs"),
      "production",
      "elsewhere/STATUS.md",
      Buffer.from("x"),
    );
    expect(a).toBe(b);
    expect(a).toBe(`logs/production/artifacts/${sha256(Buffer.from("x"))}-STATUS.md`);
  });
});

describe.each([
  [
    "a URL password",
    "connecting to postgres://nova:s3cr3t-pw@db:5432/nova",
    "connecting to postgres://nova:[redacted]@db:5432/nova",
  ],
  [
    "a secret-looking pair",
    "BILLING_API_KEY=sk_live_abcdef123 tenants=3",
    "BILLING_API_KEY=[redacted] tenants=3",
  ],
  ["a bearer token", "Authorization: Bearer abc.def.ghi123", "Authorization: Bearer [redacted]"],
  ["an environment secret's value", "using key fixture-billing-key-xyz", "using key [redacted]"],
  ["ordinary output", "drill check staging: ok (3/3 tenants)", "drill check staging: ok (3/3 tenants)"],
])("redacting %s", (_what, text, expected) => {
  it("keeps the output readable and the secret out", () => {
    expect(redact(text, { NOVA_BILLING_TOKEN: "fixture-billing-key-xyz", HOME: "/root" })).toBe(expected);
  });
});
