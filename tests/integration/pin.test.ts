// `rollout pin` against the sandbox's real registries, by the built CLI (skopeo underneath): a release tag pushed there
// is resolved to the digests that were pushed and written into a copy of the sandbox stack file. The token-protected
// registry is read with the credentials of a docker-config auth file only, as `skopeo login` writes it.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ensureSandbox, REPO_ROOT, SANDBOX, sandboxStackFileFor } from "./harness";
import { publishRelease } from "./production-world";

const execFileAsync = promisify(execFile);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "nova-pin-it-"));
const stackFile = path.join(work, "Pulumi.it-pin.yaml");

/**
 * The environment of a user with no registry credentials but `authFile` (an empty HOME, no docker config): the open
 * sandbox registry answers anonymous reads, the token-protected one only a login.
 */
function registryEnv(authFile?: string): NodeJS.ProcessEnv {
  const home = fs.mkdtempSync(path.join(work, "home-"));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_RUNTIME_DIR: home };
  delete env["NOVA_REGISTRY_AUTHORIZATION"];
  delete env["DOCKER_CONFIG"];
  env["REGISTRY_AUTH_FILE"] = authFile ?? path.join(home, "no-credentials.json");
  return env;
}

/** Runs the built CLI; resolves with its exit code and output (never rejects on a non-zero exit). */
async function rollout(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return rolloutWith(undefined, ...args);
}

async function rolloutWith(
  authFile: string | undefined,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [path.join(REPO_ROOT, "dist", "cli", "index.js"), ...args],
      { cwd: work, env: registryEnv(authFile) },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const pinned = () =>
  (parseYaml(fs.readFileSync(stackFile, "utf8")) as { config: Record<string, unknown> }).config;

beforeAll(async () => {
  await ensureSandbox();
  fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.local.yaml"), stackFile);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe("rollout pin on the sandbox registry", () => {
  it("pins the digests of a pushed tag into the stack file, after a dry run that writes nothing", async () => {
    const tag = `v9.${process.pid}.${Date.now() % 100000}`;
    const pushed = await publishRelease(tag);
    const original = fs.readFileSync(stackFile, "utf8");
    expect(pinned()["nova-rollout:imageRegistry"]).toBe(SANDBOX.imageRegistry);
    expect(pinned()["nova-rollout:apiImageDigest"]).not.toBe(pushed.api);
    const base = ["pin", "--stack", "it-pin", "--tag", tag, "--project-dir", work];

    const dry = await rollout(...base, "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`+  nova-rollout:apiImageDigest: ${pushed.api}`);
    expect(dry.stdout).toContain(`+  nova-rollout:workerImageDigest: ${pushed.worker}`);
    expect(dry.stdout).toContain("Docker v2 manifest");
    expect(fs.readFileSync(stackFile, "utf8")).toBe(original);

    const missing = await rollout(
      "pin",
      "--stack",
      "it-pin",
      "--tag",
      `${tag}-missing`,
      "--project-dir",
      work,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      `tag ${tag}-missing not found in repository ${SANDBOX.imageRegistry}/nova-rms-api`,
    );
    expect(fs.readFileSync(stackFile, "utf8")).toBe(original);

    const run = await rollout(...base);
    expect(run.code).toBe(0);
    expect(pinned()["nova-rollout:imageTag"]).toBe(tag);
    expect(pinned()["nova-rollout:apiImageDigest"]).toBe(pushed.api);
    expect(pinned()["nova-rollout:workerImageDigest"]).toBe(pushed.worker);
    // Only the three pinned lines changed; the header comment and every other line are as committed.
    const before = original.split("\n");
    const after = fs.readFileSync(stackFile, "utf8").split("\n");
    expect(after).toHaveLength(before.length);
    expect(before.filter((line, i) => line !== after[i])).toHaveLength(3);
  });

  it("pins a tag of the token-protected registry with a login's credentials, and names the login without one", async () => {
    const tag = `v8.${process.pid}.${Date.now() % 100000}`;
    const pushed = await publishRelease(tag);
    // The release pushed on to the token-protected registry with the pushing account, digests preserved.
    for (const repo of ["nova-rms-api", "nova-rms-worker"]) {
      await execFileAsync(
        "skopeo",
        [
          "copy",
          "--preserve-digests",
          "--src-tls-verify=false",
          "--dest-tls-verify=false",
          `docker://${SANDBOX.imageRegistry}/${repo}:${tag}`,
          `docker://${SANDBOX.authRegistry.imageRegistry}/${repo}:${tag}`,
        ],
        { env: { ...process.env, REGISTRY_AUTH_FILE: SANDBOX.authRegistry.pusherAuthFile } },
      );
    }
    const authStack = sandboxStackFileFor(work, "it-pin-auth", SANDBOX.authRegistry.imageRegistry);
    const original = fs.readFileSync(authStack, "utf8");
    const args = ["pin", "--stack", "it-pin-auth", "--tag", tag, "--project-dir", work];

    const anonymous = await rolloutWith(undefined, ...args);
    expect(anonymous.code, anonymous.stderr).toBe(2);
    expect(anonymous.stderr).toMatch(/requested access to the resource is denied|authentication required/);
    expect(anonymous.stderr).toContain("Fix: log in to 127.0.0.1:35001 (skopeo login 127.0.0.1:35001");
    expect(fs.readFileSync(authStack, "utf8")).toBe(original);

    const run = await rolloutWith(SANDBOX.authRegistry.readerAuthFile, ...args);
    expect(run.code, run.stderr).toBe(0);
    const config = (parseYaml(fs.readFileSync(authStack, "utf8")) as { config: Record<string, unknown> })
      .config;
    expect(config["nova-rollout:apiImageDigest"]).toBe(pushed.api);
    expect(config["nova-rollout:workerImageDigest"]).toBe(pushed.worker);
    expect(config["nova-rollout:imageTag"]).toBe(tag);
  });
});
