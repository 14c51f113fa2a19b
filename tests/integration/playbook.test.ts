// The README's whole playbook on the sandbox (`npm run demo:playbook`, scripts/playbook.sh), run as a person runs it:
// the fixture Nova RMS checkout at its release → pin → staging deployed first → preflight in the app checkout →
// freeze and approval signed with the sandbox keys → up → post-launch. Every step must pass; the release is then live
// on its digests, its evidence is in the app checkout, and the E2E account's password is nowhere in the output.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureSandbox,
  freshNamespaces,
  REPO_ROOT,
  requireToolchainOrThrow,
  sandboxImageDigests,
  SANDBOX,
  tempBackend,
  testEnv,
} from "./harness";
import { SANDBOX_PASSPHRASE } from "../../tools/toolchain";
import { destroyStacks } from "./protect";
import { deployments, filesUnder } from "./scenario";

const execFileAsync = promisify(execFile);
const STACK = "it-playbook";
const STAGING = `${STACK}-staging`;
const APP = path.join(REPO_ROOT, ".sandbox", STACK, "nova-rms");
const RELEASE = (
  JSON.parse(
    fs.readFileSync(path.join(REPO_ROOT, "tests", "fixtures", "nova-rms", "package.json"), "utf8"),
  ) as {
    version: string;
  }
).version;
const backend = tempBackend("nova-playbook-backend-");
/** A stack's evidence directory in this repository (not the app checkout). */
const repoEvidence = (stack: string) => path.join(REPO_ROOT, "tests", "drills", "logs", stack);
const env = testEnv({
  NOVA_PLAYBOOK_STACK: STACK,
  // The suite built dist/ before the integration layer; other files may be reading it while this one runs.
  NOVA_PLAYBOOK_BUILT: "1",
  PULUMI_BACKEND_URL: backend.url,
  // The stack files are the sandbox stack's, encrypted with the public sandbox passphrase.
  PULUMI_CONFIG_PASSPHRASE: SANDBOX_PASSPHRASE,
});
let output = "";

async function openStacks(): Promise<Stack[]> {
  const out: Stack[] = [];
  for (const stackName of [STAGING, STACK]) {
    try {
      out.push(await LocalWorkspace.selectStack({ stackName, workDir: REPO_ROOT }, { envVars: env }));
    } catch {
      // not created: nothing to destroy
    }
  }
  return out;
}

beforeAll(async () => {
  requireToolchainOrThrow();
  expect(fs.existsSync(path.join(REPO_ROOT, "dist", "cli", "index.js")), "run `npm run build` first").toBe(
    true,
  );
  await ensureSandbox();
  await freshNamespaces(`nova-${STACK}`, `nova-${STAGING}`);
  // Left by an earlier run: this program's own evidence directory must stay empty of the stacks' evidence.
  for (const s of [STACK, STAGING]) fs.rmSync(repoEvidence(s), { recursive: true, force: true });
}, 600_000);

afterAll(async () => {
  await destroyStacks(await openStacks(), REPO_ROOT);
  for (const s of [STACK, STAGING]) fs.rmSync(path.join(REPO_ROOT, `Pulumi.${s}.yaml`), { force: true });
  fs.rmSync(path.join(REPO_ROOT, ".sandbox", STACK), { recursive: true, force: true });
  backend.cleanup();
}, 900_000);

describe("the whole playbook on the sandbox (npm run demo:playbook)", () => {
  it("passes every step, from the app checkout to post-launch", async () => {
    try {
      const run = await execFileAsync("bash", [path.join(REPO_ROOT, "scripts", "playbook.sh")], {
        cwd: REPO_ROOT,
        env,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 900_000,
      });
      output = `${run.stdout}${run.stderr}`;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `scripts/playbook.sh failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`.slice(-20_000),
      );
    }
    for (const step of [
      "0. the Nova RMS checkout",
      "1. pin",
      "staging:",
      "2. preflight",
      "3. freeze",
      "4. approve",
      "5. up",
      "6. post-launch",
      "done:",
    ]) {
      expect(output, step).toContain(`==> ${step.startsWith("staging") ? "   " : ""}${step}`);
    }
    // The preflight judged the app checkout and ran the playbook's command in it: every check passed.
    expect(output).toContain(`stack ${STACK} is ready for release ${RELEASE}`);
    expect(output).toMatch(/ran `pnpm drill:check:staging` in the app checkout: exited 0/);
    expect(output).not.toMatch(/^FAIL /m);
    // The release is live on its digests.
    const digests = sandboxImageDigests();
    const live = await deployments(`nova-${STACK}`);
    expect(live["nova-api"]).toMatchObject({
      image: `${SANDBOX.imageRegistry}/nova-rms-api@${digests.api}`,
      ready: 2,
    });
    expect(live["nova-worker"]).toMatchObject({
      image: `${SANDBOX.imageRegistry}/nova-rms-worker@${digests.worker}`,
      ready: 2,
    });
    // The evidence is in the app checkout, where the playbook keeps it; the launch is written into its STATUS and TODO.
    const evidence = path.join(APP, "tests", "drills", "logs", STACK);
    const files = filesUnder(evidence).map((f) => path.relative(evidence, f));
    expect(files.some((f) => f.startsWith("artifacts/"))).toBe(true);
    // None of it in this repository: the preflight's artifact copies too went to the app.
    for (const s of [STACK, STAGING]) expect(fs.existsSync(repoEvidence(s)), repoEvidence(s)).toBe(false);
    for (const kind of [
      /-preflight\.json$/,
      /-launch\.md$/,
      /^records\/freeze-/,
      /^records\/approval-/,
      /^records\/post-launch\/freeze-lift-/,
    ]) {
      expect(
        files.some((f) => kind.test(f)),
        String(kind),
      ).toBe(true);
    }
    expect(fs.readFileSync(path.join(APP, "STATUS.md"), "utf8")).toContain(
      `<!-- nova-rollout:launch ${STACK} ${RELEASE} -->`,
    );
    expect(fs.readFileSync(path.join(APP, "TODO.md"), "utf8")).toMatch(/- \[ \] billing drill after release/);
    // The read-only account's password (a stack secret the E2E received) is in no output and no evidence file.
    const { stdout } = await execFileAsync(
      "pulumi",
      ["config", "get", "nova-rollout:verificationEnvironment", "--stack", STACK, "--cwd", REPO_ROOT],
      { env },
    );
    const password = (JSON.parse(stdout) as { E2E_READONLY_PASSWORD: string }).E2E_READONLY_PASSWORD;
    expect(password).toMatch(/^[0-9a-f]{32}$/);
    expect(output).not.toContain(password);
    for (const f of filesUnder(evidence)) expect(fs.readFileSync(f, "utf8"), f).not.toContain(password);
  }, 1_200_000);
});
