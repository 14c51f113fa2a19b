// A production-shaped release whose evidence comes only from the Nova RMS checkout (the fixture app, `appDir`), with
// the playbook's own commands run by real pnpm: the preflight's drill check, then the post-deploy E2E and billing
// drill in the checkout, with the read-only account's password as a secret variable. The committed production
// enforcement, the real engine and the sandbox's Kubernetes API.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verificationFilesDir } from "../../src/evidence/paths";
import { preparedCheckout } from "../support/nova-rms-checkout";
import { grafanaAnnotations, grafanaChannel, REPO_ROOT } from "./harness";
import { ProductionWorld, publishRelease } from "./production-world";
import {
  deployments,
  type Digests,
  filesUnder,
  productionRegistry,
  sandboxApiRoute,
  signatory,
} from "./scenario";

const STACK = "it-prod-app";
const NS = "it-prod-app";
/** The release the fixture checkout is at (its package.json version; its STATUS, TODO and runbooks name it). */
const RELEASE = "2026.11.3";
const PASSWORD = `e2e-readonly-${crypto.randomBytes(12).toString("hex")}`;
const GRAFANA_TOKEN = `Bearer glsa_it_${crypto.randomBytes(8).toString("hex")}`;

let world: ProductionWorld;
let stack: Stack;
let app: string;
let digests: Digests;
let restorePath = () => undefined as void;

beforeAll(async () => {
  // pnpm, as the playbook runs the app's scripts: a dependency of this project's test layer.
  const pnpmBin = path.join(REPO_ROOT, "node_modules", ".bin");
  expect(fs.existsSync(path.join(pnpmBin, "pnpm")), "pnpm is a devDependency (npm ci installs it)").toBe(
    true,
  );
  const previousPath = process.env.PATH;
  process.env.PATH = [pnpmBin, previousPath ?? ""].join(path.delimiter);
  restorePath = () => void (process.env.PATH = previousPath);
  world = await ProductionWorld.create("nova-prod-app-it-", [NS]);
  digests = await publishRelease(RELEASE);
  app = preparedCheckout("nova-rms-app-it-");
  stack = await world.projectStack(
    STACK,
    world.prodConfig(NS, {
      imageTag: RELEASE,
      apiImageDigest: digests.api,
      workerImageDigest: digests.worker,
      appDir: app,
    }),
  );
  await stack.setConfig("nova-rollout:verificationEnvironment", {
    value: JSON.stringify({ E2E_READONLY_EMAIL: "readonly@nova.test", E2E_READONLY_PASSWORD: PASSWORD }),
    secret: true,
  });
  // Release events become Grafana annotations (the stand-in requires the channel's token).
  await stack.setConfig("nova-rollout:notifyChannels", {
    value: await grafanaChannel(GRAFANA_TOKEN),
    secret: true,
  });
}, 600_000);

afterAll(async () => {
  await world?.dispose();
  if (app !== undefined) fs.rmSync(app, { recursive: true, force: true });
  restorePath();
}, 600_000);

describe("a production release judged on the Nova RMS checkout's own evidence and commands", () => {
  it("deploys with nothing of the app in this repository, runs the playbook's E2E and drill, and leaks no secret", async () => {
    // Preflight: the real collector on the app checkout (its coverage summary, Playwright report, drill and seed logs,
    // docs), the default check command `pnpm drill:check:staging` run in it; signed by the roster's preflight key.
    await world.stage(digests);
    const evidence = world.evidence(STACK, false, app);
    const { bundle } = await evidence.preflight(RELEASE, digests, world.stagingHistory, {
      appDir: app,
      registry: productionRegistry(),
    });
    expect(bundle.checks.filter((c) => c.verdict !== "pass").map((c) => `${c.id}: ${c.found}`)).toEqual([]);
    expect(JSON.stringify(bundle)).toContain("pnpm drill:check:staging");
    evidence.authorise(RELEASE, { bundle, deployer: signatory(world.sre) });

    // No artifact of the app lives in this repository; the app's git-ignored outputs are gone before `up`.
    for (const rel of ["coverage", "playwright-report", "STATUS.md", "TODO.md", "docs/runbooks"])
      expect(fs.existsSync(path.join(world.checkout, rel)), rel).toBe(false);
    for (const ignored of ["coverage", "playwright-report"])
      fs.rmSync(path.join(app, ignored), { recursive: true, force: true });

    const up = await world.rollout(["up", "--stack", STACK], {
      NOVA_OPERATOR: world.sre.name,
      NOVA_SSH_KEY_FILE: world.sre.keyFile,
      PATH: process.env.PATH ?? "",
    });
    expect(up.code, up.out).toBe(0);
    expect((await deployments(NS))["nova-api"]?.image).toContain(digests.api);

    // The playbook's commands ran in the checkout and passed.
    const results = (await stack.outputs())["verificationResults"]?.value as
      { check: string; ok: boolean; output?: string; kept?: { path: string; copy: string }[] }[] | undefined;
    const byCheck = new Map((results ?? []).map((r) => [r.check, r]));
    expect(byCheck.get("synthetic-e2e")?.ok, up.out).toBe(true);
    expect(byCheck.get("billing-drill-dry-run")?.ok, up.out).toBe(true);
    // The E2E runs against the release's API address: the host its Ingress serves.
    expect(byCheck.get("synthetic-e2e")?.output).toContain(
      `E2E against ${sandboxApiRoute(NS).apiBaseUrl} as [secret] (password [secret])`,
    );

    // The E2E saw the password (its report records the hash) and the release's API address.
    const kept = verificationFilesDir(evidence.evidenceDir, STACK);
    const reportCopy = byCheck
      .get("synthetic-e2e")
      ?.kept?.find((k) => k.path === "playwright-report/results.json");
    expect(reportCopy).toBeDefined();
    const report = JSON.parse(fs.readFileSync(path.join(kept, reportCopy?.copy ?? ""), "utf8")) as {
      config: { metadata: { baseURL?: string; passwordSha256?: string } };
    };
    expect(report.config.metadata.passwordSha256).toBe(
      crypto.createHash("sha256").update(PASSWORD).digest("hex"),
    );
    expect(report.config.metadata.baseURL).toBe(sandboxApiRoute(NS).apiBaseUrl);

    // The launch log embeds the drill's output and links the files the commands left.
    // The rollout's own evidence (bundle, records, launch log) is in the app's tests/drills/logs/, not here.
    expect(evidence.evidenceDir).toBe(path.join(app, "tests", "drills", "logs"));
    expect(fs.existsSync(path.join(world.checkout, "tests", "drills", "logs", STACK))).toBe(false);
    const launch = filesUnder(path.join(evidence.evidenceDir, STACK))
      .filter((f) => f.endsWith("-launch.md"))
      .sort()
      .pop();
    const md = fs.readFileSync(launch ?? "", "utf8");
    expect(md).toContain("### billing-drill-dry-run (pass)");
    expect(md).toMatch(/step reconcile-invoices ok[\s\S]*result: pass/);
    expect(md).toMatch(
      /- `tests\/drills\/logs\/production\/\d{8}T\d{6}Z-billing-drill\.log`: \[[0-9a-f]{16}-/,
    );
    expect(md).toMatch(
      /- `playwright-report\/results\.json`: \[[0-9a-f]{16}-results\.json\]\(verification\//,
    );

    // Grafana shows when the release started and succeeded, and which images it deployed.
    const annotations = await grafanaAnnotations([`stack:${STACK}`, `release:${RELEASE}`], GRAFANA_TOKEN);
    expect(annotations.map((a) => a.tags.find((t) => t.startsWith("event:")))).toEqual([
      "event:release-succeeded",
      "event:release-started",
    ]);
    expect(annotations[0]?.text).toContain(`nova-rms-api@${digests.api}`);
    expect(annotations[0]?.text).toMatch(/launch summary \d{8}T\d{6}Z-launch\.md/);

    // `rollout verify` runs the same commands with the stack's decrypted variables (the E2E fails without them).
    const verify = await world.rollout(["verify", "--stack", STACK], { PATH: process.env.PATH ?? "" });
    expect(verify.code, verify.out).toBe(0);
    expect(verify.out).toMatch(/pass {2}synthetic-e2e/);
    expect(verify.out).toMatch(/pass {2}billing-drill-dry-run/);

    // The password is nowhere: not in the CLI's output, the state backend, the evidence, or the app checkout.
    expect(up.out).not.toContain(PASSWORD);
    expect(up.out).not.toContain(GRAFANA_TOKEN);
    expect(verify.out).not.toContain(PASSWORD);
    const everywhere = [...world.backendFiles(), ...filesUnder(world.checkout), ...filesUnder(app)];
    const leaks = everywhere.filter((f) => fs.readFileSync(f).includes(PASSWORD));
    expect(leaks).toEqual([]);
  }, 900_000);
});
