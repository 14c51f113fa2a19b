// `rollout promote` on the sandbox, by the built CLI: a release deployed and verified on a staging stack (the real
// engine, the sandbox cluster) is copied by digest from the open sandbox registry into the token-protected one (the
// production registry's stand-in: 401 + Bearer challenge, tokens from its realm), read back there and pinned in the
// target stack file. Credentials come only from a docker-config auth file, as `skopeo login`/`docker login` write it.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { release } from "../../cli/actions/release";
import { describeFailure, EXIT } from "../../cli/errors";
import {
  createOrSelectProjectStack,
  ensureSandbox,
  freshNamespaces,
  REPO_ROOT,
  requireToolchainOrThrow,
  resetStandins,
  SANDBOX,
  sandboxStackFileFor,
  tempBackend,
  testEnv,
  useTestBackend,
} from "./harness";
import { publishRelease } from "./production-world";
import { destroyStacks } from "./protect";
import { type Digests, failApiFor, sandboxConfig, SECRETS } from "./scenario";

const execFileAsync = promisify(execFile);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "nova-promote-it-"));
const backend = tempBackend("nova-promote-backend-");
const STAGING = "it-promote-staging";
const TARGET = "it-promote-prod";
const targetFile = path.join(REPO_ROOT, `Pulumi.${TARGET}.yaml`);
const tag = `v7.${process.pid}.${Date.now() % 100000}`;
const stacks: Stack[] = [];
let staging: Stack;
let pushed: Digests;
let restoreEnv: () => void = () => undefined;

/** Runs the built CLI with a registry auth file (or none) and an empty HOME: no other credentials can be found. */
async function rollout(
  authFile: string | undefined,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = fs.mkdtempSync(path.join(work, "home-"));
  const env = testEnv({
    HOME: home,
    XDG_RUNTIME_DIR: home,
    REGISTRY_AUTH_FILE: authFile ?? path.join(home, "no-credentials.json"),
  });
  delete env["DOCKER_CONFIG"];
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [path.join(REPO_ROOT, "dist", "cli", "index.js"), ...args],
      { cwd: work, env, maxBuffer: 16 * 1024 * 1024 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** The digest the token-protected registry answers for a reference, read with the pull-only account. */
async function digestInAuthRegistry(ref: string): Promise<string> {
  const { stdout } = await execFileAsync(
    "skopeo",
    ["inspect", "--tls-verify=false", "--format", "{{.Digest}}", `docker://${ref}`],
    { env: { ...process.env, REGISTRY_AUTH_FILE: SANDBOX.authRegistry.readerAuthFile } },
  );
  return stdout.trim();
}

const targetConfig = () =>
  (parseYaml(fs.readFileSync(targetFile, "utf8")) as { config: Record<string, unknown> }).config;
const promoteArgs = ["promote", "--from", STAGING, "--to", TARGET, "--project-dir", REPO_ROOT];

beforeAll(async () => {
  requireToolchainOrThrow();
  expect(fs.existsSync(path.join(REPO_ROOT, "dist", "cli", "index.js")), "run `npm run build` first").toBe(
    true,
  );
  await ensureSandbox();
  for (const f of [SANDBOX.authRegistry.pusherAuthFile, SANDBOX.authRegistry.readerAuthFile]) {
    expect(fs.existsSync(f), `${f}: the sandbox makes it (npm run sandbox:up)`).toBe(true);
  }
  await freshNamespaces(STAGING);
  await resetStandins();
  restoreEnv = useTestBackend(backend.url);
  pushed = await publishRelease(tag);
  fs.rmSync(path.join(REPO_ROOT, `Pulumi.${STAGING}.yaml`), { force: true });
  staging = await createOrSelectProjectStack({
    stackName: STAGING,
    backendUrl: backend.url,
    config: sandboxConfig({
      namespace: STAGING,
      resolver: "pinned",
      tag,
      digests: pushed,
      backups: path.join(work, "backups"),
      evidenceDir: path.join(work, "evidence"),
    }),
    secrets: SECRETS,
  });
  stacks.push(staging);
  // The target: the sandbox stack file aimed at the token-protected registry, still pinning the sandbox release.
  sandboxStackFileFor(REPO_ROOT, TARGET, SANDBOX.authRegistry.imageRegistry);
  expect(targetConfig()["nova-rollout:imageRegistry"]).toBe(SANDBOX.authRegistry.imageRegistry);
}, 600_000);

afterAll(async () => {
  await destroyStacks(stacks, REPO_ROOT, () => undefined);
  restoreEnv();
  await resetStandins().catch(() => undefined);
  fs.rmSync(targetFile, { force: true });
  fs.rmSync(path.join(REPO_ROOT, `Pulumi.${STAGING}.yaml`), { force: true });
  backend.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
}, 600_000);

describe.sequential("rollout promote on the sandbox", () => {
  it("copies the verified staging release into the token-protected registry by digest and pins it", async () => {
    await release(REPO_ROOT, STAGING, { policy: true, autoRollback: false });
    const original = fs.readFileSync(targetFile, "utf8");

    // Without credentials, and with an account that may only pull, the registry refuses: nothing is pinned.
    for (const authFile of [undefined, SANDBOX.authRegistry.readerAuthFile]) {
      const refused = await rollout(authFile, ...promoteArgs);
      expect(refused.code, refused.stderr).toBe(EXIT.usage);
      expect(refused.stderr).toMatch(/requested access to the resource is denied|authentication required/);
      expect(refused.stderr).toContain(
        "Fix: log in to 127.0.0.1:35001 with push rights (skopeo login 127.0.0.1:35001",
      );
      expect(fs.readFileSync(targetFile, "utf8")).toBe(original);
    }

    const dry = await rollout(SANDBOX.authRegistry.pusherAuthFile, ...promoteArgs, "--dry-run");
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`+  nova-rollout:apiImageDigest: ${pushed.api}`);
    expect(fs.readFileSync(targetFile, "utf8")).toBe(original);

    const run = await rollout(SANDBOX.authRegistry.pusherAuthFile, ...promoteArgs);
    expect(run.code, run.stderr).toBe(0);
    // Progress on stderr, one line as each copy starts and ends; the report on stdout names the staging update.
    expect(run.stderr).toMatch(
      /^copying api: 127\.0\.0\.1:35000\/nova\/nova-rms-api@sha256:[0-9a-f]{64} -> 127\.0\.0\.1:35001\/nova\/nova-rms-api:/m,
    );
    expect(run.stderr).toMatch(/^copied worker: /m);
    expect(run.stdout).toMatch(
      new RegExp(
        `^${STAGING} update \\d+: release ${tag.replace(/\./g, "\\.")}, deployed and verified there, promoted`,
      ),
    );
    // The registry holds both images under the release tag, with the digests staging ran.
    expect(await digestInAuthRegistry(`${SANDBOX.authRegistry.imageRegistry}/nova-rms-api:${tag}`)).toBe(
      pushed.api,
    );
    expect(await digestInAuthRegistry(`${SANDBOX.authRegistry.imageRegistry}/nova-rms-worker:${tag}`)).toBe(
      pushed.worker,
    );
    expect(targetConfig()).toMatchObject({
      "nova-rollout:imageTag": tag,
      "nova-rollout:apiImageDigest": pushed.api,
      "nova-rollout:workerImageDigest": pushed.worker,
      "nova-rollout:promotedFrom": expect.stringMatching(new RegExp(`^${STAGING} update \\d+$`)),
    });
    // The token realm was asked for push rights and gave them to the pushing account only; no secret was printed.
    const realm = (await (await fetch(`${SANDBOX.authRegistry.realm}/__requests`)).json()) as {
      user: string;
      granted: { actions: string[] }[];
    }[];
    expect(realm.some((r) => r.user === "nova-ci" && r.granted.some((g) => g.actions.includes("push")))).toBe(
      true,
    );
    expect(
      realm.some((r) => r.user === "nova-reader" && r.granted.some((g) => g.actions.includes("push"))),
    ).toBe(false);
    const secret = JSON.parse(fs.readFileSync(SANDBOX.authRegistry.pusherAuthFile, "utf8")) as {
      auths: Record<string, { auth: string }>;
    };
    const password =
      Buffer.from(Object.values(secret.auths)[0]?.auth ?? "", "base64")
        .toString()
        .split(":")[1] ?? "";
    expect(password.length).toBeGreaterThan(8);
    expect(`${run.stdout}${run.stderr}${fs.readFileSync(targetFile, "utf8")}`).not.toContain(password);
  });

  it("refuses a staging update whose post-deploy verification failed, copying and pinning nothing", async () => {
    const before = fs.readFileSync(targetFile, "utf8");
    await failApiFor(1000);
    await staging.setConfig("nova-rollout:verifyAttempts", { value: "2" }); // a change that re-runs verification
    let error: unknown;
    try {
      await release(REPO_ROOT, STAGING, { policy: true, autoRollback: false });
    } catch (e) {
      error = e;
    }
    expect(describeFailure(error).code).toBe(EXIT.verificationFailed);
    await resetStandins();

    const refused = await rollout(SANDBOX.authRegistry.pusherAuthFile, ...promoteArgs);
    expect(refused.code, refused.stderr).toBe(EXIT.notReady);
    expect(refused.stderr).toMatch(
      new RegExp(
        `Cannot promote ${STAGING} update \\d+ \\(release ${tag.replace(/\./g, "\\.")}\\): it was a failed update`,
      ),
    );
    expect(refused.stderr).toContain("Nothing was copied or pinned");
    expect(refused.stderr).not.toMatch(/^copying /m);
    expect(fs.readFileSync(targetFile, "utf8")).toBe(before);
  });
});
