// `rollout pin` against the sandbox's real registry: a release tag pushed there is resolved to the digests that were
// pushed and written into a copy of the sandbox stack file, by the built CLI.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ensureSandbox, REPO_ROOT, SANDBOX } from "./harness";
import { publishRelease } from "./production-world";

const execFileAsync = promisify(execFile);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "nova-pin-it-"));
const stackFile = path.join(work, "Pulumi.it-pin.yaml");

/** The environment without a registry Authorization header: the sandbox registry answers anonymous reads. */
function withoutRegistryAuthorization(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env["NOVA_REGISTRY_AUTHORIZATION"];
  return env;
}

/** Runs the built CLI; resolves with its exit code and output (never rejects on a non-zero exit). */
async function rollout(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [path.join(REPO_ROOT, "dist", "cli", "index.js"), ...args],
      { cwd: work, env: withoutRegistryAuthorization() },
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
});
