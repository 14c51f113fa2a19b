// The environment of each toolchain choice, in TypeScript (tools/toolchain.ts) and in bash (tools/env.sh): the
// offline build hides nothing it should not, and with the user's CLI the user's PULUMI_HOME and plugins apply.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  requireToolchain,
  selectedToolchain,
  toolchainEnv,
  toolchainRecordPath,
  ToolchainMissingError,
} from "../../../tools/toolchain";

const REPO = path.resolve(__dirname, "..", "..", "..");
const roots: string[] = [];
afterAll(() => {
  for (const dir of roots) fs.rmSync(dir, { recursive: true, force: true });
});
function tempCache(record?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-toolchain-env-"));
  roots.push(dir);
  if (record !== undefined) fs.writeFileSync(path.join(dir, "toolchain.env"), record);
  return dir;
}
const PATH_RECORD = "# x\nNOVA_TOOLCHAIN_RESOLVED=path\nNOVA_TOOLCHAIN_PULUMI=/opt/pulumi/bin/pulumi\n";
const OFFLINE_ONLY = [
  "PULUMI_HOME",
  "PULUMI_SKIP_UPDATE_CHECK",
  "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION",
  "PULUMI_DISABLE_REGISTRY_RESOLVE",
  "PULUMI_IGNORE_AMBIENT_PLUGINS",
];

describe("selectedToolchain", () => {
  it("follows NOVA_TOOLCHAIN, else the record of npm run setup, else offline", () => {
    const cache = tempCache(PATH_RECORD);
    expect(toolchainRecordPath({ NOVA_CACHE_DIR: cache })).toBe(path.join(cache, "toolchain.env"));
    expect(selectedToolchain({ NOVA_CACHE_DIR: cache })).toEqual({
      kind: "path",
      source: "setup",
      pulumi: "/opt/pulumi/bin/pulumi",
    });
    expect(selectedToolchain({ NOVA_CACHE_DIR: cache, NOVA_TOOLCHAIN: "offline" })).toEqual({
      kind: "offline",
      source: "NOVA_TOOLCHAIN",
    });
    expect(selectedToolchain({ NOVA_CACHE_DIR: tempCache() })).toEqual({
      kind: "offline",
      source: "default",
    });
    expect(selectedToolchain({ NOVA_CACHE_DIR: tempCache("NOVA_TOOLCHAIN_RESOLVED=offline\n") })).toEqual({
      kind: "offline",
      source: "setup",
    });
  });
});

describe("toolchainEnv", () => {
  const base = { NOVA_CACHE_DIR: "/c", PATH: "/c/bin:/usr/bin:/c/tools-bin", PULUMI_HOME: "/home/u/.pulumi" };

  it("offline (the default, what the integration harness uses): the cache's bin first and its PULUMI_HOME", () => {
    const env = toolchainEnv(REPO, base);
    expect(env.PATH).toBe("/c/bin:/usr/bin");
    expect(env.PULUMI_HOME).toBe("/c/pulumi-home");
    expect(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).toBe("true");
    expect(env.PULUMI_IGNORE_AMBIENT_PLUGINS).toBe("true");
  });

  it("path: tools-bin first (no pulumi-* there) and none of the offline Pulumi settings", () => {
    const env = toolchainEnv(REPO, base, { toolchain: "path" });
    expect(env.PATH).toBe("/c/tools-bin:/usr/bin");
    for (const name of OFFLINE_ONLY) expect(env).not.toHaveProperty(name);
    // Merged over the user's environment, their PULUMI_HOME stays.
    expect({ ...base, ...env }.PULUMI_HOME).toBe("/home/u/.pulumi");
    expect(env.NOVA_SANDBOX_KUBECONFIG).toBe(path.join(REPO, ".sandbox", "kubeconfig"));
  });
});

describe("requireToolchain", () => {
  it("names the missing offline Pulumi binaries and how to get them", () => {
    const cache = tempCache(PATH_RECORD);
    let err: unknown;
    try {
      requireToolchain(REPO, ["pulumi"], { NOVA_CACHE_DIR: cache });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ToolchainMissingError);
    expect((err as Error).message).toBe(
      `missing toolchain binary 'pulumi' in ${path.join(cache, "bin")}: run \`npm run setup\` (the pinned offline ` +
        "build is needed here: `NOVA_TOOLCHAIN=offline npm run setup`)",
    );
  });
});

/** Sources tools/env.sh in a clean bash (twice when `then` is given) and returns the resulting variables. */
function sourceEnv(env: Record<string, string>, then?: Record<string, string>): Record<string, string> {
  const names = ["PATH", "NOVA_TOOLCHAIN_ACTIVE", ...OFFLINE_ONLY];
  const second =
    then === undefined
      ? ""
      : `${Object.entries(then)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join("; ")}; source tools/env.sh`;
  const script = [
    "set -euo pipefail",
    "source tools/env.sh",
    second,
    ...names.map((n) => `printf '%s=%s\\n' ${n} "\${${n}-<unset>}"`),
  ].join("\n");
  const res = spawnSync("bash", ["-c", script], {
    cwd: REPO,
    encoding: "utf8",
    env: { HOME: os.tmpdir(), PATH: "/usr/bin:/bin", NOVA_STACK: "staging", ...env },
  });
  expect(res.stderr).toBe("");
  expect(res.status).toBe(0);
  return Object.fromEntries(
    res.stdout
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

describe("tools/env.sh", () => {
  it("offline: the cache's bin first, its PULUMI_HOME and the offline engine settings", () => {
    const cache = tempCache();
    const v = sourceEnv({ NOVA_CACHE_DIR: cache });
    expect(v.NOVA_TOOLCHAIN_ACTIVE).toBe("offline");
    expect(v.PATH).toBe(`${cache}/bin:/usr/bin:/bin`);
    expect(v.PULUMI_HOME).toBe(`${cache}/pulumi-home`);
    expect(v.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).toBe("true");
  });

  it("the user's CLI (recorded by setup): their PULUMI_HOME and plugins are not hidden", () => {
    const cache = tempCache(PATH_RECORD);
    const v = sourceEnv({ NOVA_CACHE_DIR: cache, PULUMI_HOME: "/home/u/.pulumi" });
    expect(v.NOVA_TOOLCHAIN_ACTIVE).toBe("path");
    expect(v.PATH).toBe(`${cache}/tools-bin:/usr/bin:/bin`);
    expect(v.PULUMI_HOME).toBe("/home/u/.pulumi");
    for (const name of OFFLINE_ONLY.slice(1)) expect(v[name]).toBe("<unset>");
  });

  it("switching to the user's CLI in the same shell drops what the offline source set", () => {
    const cache = tempCache();
    const v = sourceEnv({ NOVA_CACHE_DIR: cache }, { NOVA_TOOLCHAIN: "path" });
    expect(v.NOVA_TOOLCHAIN_ACTIVE).toBe("path");
    expect(v.PATH).toBe(`${cache}/tools-bin:/usr/bin:/bin`);
    for (const name of OFFLINE_ONLY) expect(v[name]).toBe("<unset>");
  });

  it("NOVA_TOOLCHAIN=offline wins over the record", () => {
    const cache = tempCache(PATH_RECORD);
    const v = sourceEnv({ NOVA_CACHE_DIR: cache, NOVA_TOOLCHAIN: "offline" });
    expect(v.NOVA_TOOLCHAIN_ACTIVE).toBe("offline");
    expect(v.PATH).toBe(`${cache}/bin:/usr/bin:/bin`);
  });
});
