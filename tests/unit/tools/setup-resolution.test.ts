// `npm run setup` (tools/setup.sh + tools/lib/resolve.sh): which Pulumi toolchain it provides, and that with a Pulumi
// CLI on PATH it finishes without building the offline Pulumi pieces. Stub CLIs report a version; nothing is built
// for real (the full runs use a copy of tools/ whose build recipes only write stub binaries).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readVersions } from "../../../tools/toolchain";

const REPO = path.resolve(__dirname, "..", "..", "..");
const SETUP = path.join(REPO, "tools", "setup.sh");
const PULUMI_PIECES = ["pulumi", "language-nodejs", "kubernetes-provider", "command-provider"];
const OTHER_PIECES = [
  "etcd",
  "kubernetes",
  "kwok",
  "helm",
  "kube-score",
  "actionlint",
  "s3-standin",
  "registry-check",
];
const versions = readVersions(REPO);

/** The minimum CLI version the installed @pulumi/pulumi Automation API accepts, read the same way setup does. */
function sdkMinimum(): string {
  const text = fs.readFileSync(
    path.join(REPO, "node_modules", "@pulumi", "pulumi", "automation", "minimumVersion.js"),
    "utf8",
  );
  const m = /SemVer\("v?([^"]+)"\)/.exec(text);
  if (m?.[1] === undefined) throw new Error("minimumVersion.js has no SemVer");
  return m[1];
}

const roots: string[] = [];
afterAll(() => {
  for (const dir of roots) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  roots.push(dir);
  return dir;
}

function writeScript(file: string, body: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

/** A directory with a stub `pulumi` whose `pulumi version` prints `version` (and, by default, a language host). */
function stubCli(version: string, opts: { languageHost?: boolean; banner?: string } = {}): string {
  const dir = tempDir("nova-stub-pulumi-");
  const banner = opts.banner === undefined ? "" : `echo '${opts.banner}'\n  `;
  writeScript(
    path.join(dir, "pulumi"),
    `case "$1" in\nversion)\n  ${banner}echo ${version} ;;\n*) echo "stub pulumi: $*" >&2; exit 3 ;;\nesac`,
  );
  if (opts.languageHost !== false) writeScript(path.join(dir, "pulumi-language-nodejs"), "exit 0");
  return dir;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** `key=value` lines of `--resolve-only`. */
  readonly values: Record<string, string>;
}

/** Runs a setup script with exactly this environment (nothing inherited but what a shell needs). */
function runSetup(
  script: string,
  args: readonly string[],
  opts: { pathDirs: readonly string[]; cache: string; env?: Record<string, string> },
): Run {
  const res = spawnSync("bash", [script, ...args], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 60_000,
    env: {
      HOME: path.dirname(opts.cache),
      PATH: [...opts.pathDirs, "/usr/bin", "/bin"].join(":"),
      NOVA_CACHE_DIR: opts.cache,
      NOVA_SETUP_APT: "0",
      ...(opts.env ?? {}),
    },
  });
  const values: Record<string, string> = {};
  for (const line of res.stdout.split("\n")) {
    const m = /^([a-z_]+)=(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) values[m[1]] = m[2];
  }
  return { code: res.status, stdout: res.stdout, stderr: res.stderr, values };
}

function resolve(pathDirs: readonly string[], env: Record<string, string> = {}): Run {
  const cache = path.join(tempDir("nova-setup-home-"), "cache");
  return runSetup(SETUP, ["--resolve-only"], { pathDirs, cache, env });
}

describe("setup.sh --resolve-only", () => {
  it("uses a Pulumi CLI on PATH that the SDK accepts and would not build the offline Pulumi pieces", () => {
    const dir = stubCli("v3.300.0");
    const r = resolve([dir]);
    expect(r.code, r.stderr).toBe(0);
    const first = r.stdout.split("\n")[0] ?? "";
    expect(first).toBe(
      `toolchain: using pulumi v3.300.0 from ${dir}/pulumi (>= ${sdkMinimum()} required by @pulumi/pulumi ` +
        `${readSdkVersion()}); the offline Pulumi build is skipped — NOVA_TOOLCHAIN=offline forces it`,
    );
    expect(r.values.toolchain).toBe("path");
    expect(r.values.pulumi).toBe(`${dir}/pulumi`);
    expect(r.values.pulumi_version).toBe("3.300.0");
    expect(r.values.min_cli_version).toBe(sdkMinimum());
    expect((r.values.pieces ?? "").split(" ")).toEqual(OTHER_PIECES);
  });

  it("builds offline when the CLI on PATH is older than the SDK's minimum", () => {
    const dir = stubCli("v3.0.0");
    const r = resolve([dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`toolchain: pulumi v3.0.0 from ${dir}/pulumi is too old (>= ${sdkMinimum()}`);
    expect(r.stdout).toContain(`the offline build is used (pulumi v${versions.PULUMI_VERSION}`);
    expect(r.values.toolchain).toBe("offline");
    expect((r.values.pieces ?? "").split(" ")).toEqual([...PULUMI_PIECES, ...OTHER_PIECES]);
  });

  it("builds offline when NOVA_TOOLCHAIN=offline, whatever is on PATH", () => {
    const r = resolve([stubCli("v3.300.0")], { NOVA_TOOLCHAIN: "offline" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("toolchain: NOVA_TOOLCHAIN=offline: the offline build is used");
    expect(r.values.toolchain).toBe("offline");
    expect(r.values.pieces).toContain("pulumi ");
  });

  it("builds offline when there is no pulumi on PATH, or only the cache's own", () => {
    const home = tempDir("nova-setup-home-");
    const cache = path.join(home, "cache");
    // A pulumi inside the cache (e.g. $NOVA_CACHE_DIR/bin from `source tools/env.sh`) is ours, not the user's.
    writeScript(path.join(cache, "bin", "pulumi"), "echo v3.300.0");
    writeScript(path.join(cache, "bin", "pulumi-language-nodejs"), "exit 0");
    const r = runSetup(SETUP, ["--resolve-only"], { pathDirs: [path.join(cache, "bin")], cache });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("toolchain: no pulumi CLI on PATH: the offline build is used");
    expect(r.values.toolchain).toBe("offline");
  });

  it("builds offline when the CLI has no Node.js language host", () => {
    const dir = stubCli("v3.300.0", { languageHost: false });
    const r = resolve([dir]);
    expect(r.stdout).toContain(`pulumi v3.300.0 from ${dir}/pulumi has no pulumi-language-nodejs`);
    expect(r.values.toolchain).toBe("offline");
  });

  it("reads the version after other output and accepts a pre-release above the minimum", () => {
    const dir = stubCli("v3.301.0-alpha.1+dirty", {
      banner: "warning: a new version of Pulumi is available",
    });
    const r = resolve([dir]);
    expect(r.values.toolchain).toBe("path");
    expect(r.values.pulumi_version).toBe("3.301.0-alpha.1+dirty");
  });

  it("does not build the control plane for a bring-your-own cluster, unless NOVA_TOOLCHAIN=offline", () => {
    const byo = resolve([], { NOVA_SANDBOX_CLUSTER_CONTEXT: "kind-dev" });
    expect(byo.stdout).toContain(
      "sandbox: your cluster (NOVA_SANDBOX_CLUSTER_*): etcd, kubernetes and kwok are not built",
    );
    expect((byo.values.pieces ?? "").split(" ")).toEqual([
      ...PULUMI_PIECES,
      "helm",
      "kube-score",
      "actionlint",
      "s3-standin",
      "registry-check",
    ]);
    const both = resolve([stubCli("v3.300.0")], { NOVA_SANDBOX_CLUSTER_KUBECONFIG: "/tmp/kubeconfig" });
    expect((both.values.pieces ?? "").split(" ")).toEqual([
      "helm",
      "kube-score",
      "actionlint",
      "s3-standin",
      "registry-check",
    ]);
    const forced = resolve([stubCli("v3.300.0")], {
      NOVA_SANDBOX_CLUSTER_CONTEXT: "kind-dev",
      NOVA_TOOLCHAIN: "offline",
    });
    expect((forced.values.pieces ?? "").split(" ")).toEqual([...PULUMI_PIECES, ...OTHER_PIECES]);
  });

  it("NOVA_TOOLCHAIN=path insists on a usable CLI; other values are refused", () => {
    const old = resolve([stubCli("v3.0.0")], { NOVA_TOOLCHAIN: "path" });
    expect(old.code).not.toBe(0);
    expect(old.stderr).toContain("NOVA_TOOLCHAIN=path, but pulumi v3.0.0");
    const ok = resolve([stubCli("v3.300.0")], { NOVA_TOOLCHAIN: "path" });
    expect(ok.values.toolchain).toBe("path");
    const bad = resolve([], { NOVA_TOOLCHAIN: "online" });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("NOVA_TOOLCHAIN=online: expected offline, path or auto");
  });
});

describe("nova_semver_cmp", () => {
  it("orders versions by semver precedence", () => {
    const pairs: [string, string, number][] = [
      ["3.300.0", "3.2.0-alpha", 1],
      ["v3.0.0", "3.2.0-alpha", -1],
      ["3.2.0", "3.2.0-alpha", 1],
      ["3.2.0-alpha", "3.2.0-alpha", 0],
      ["3.2.0-alpha.1", "3.2.0-alpha", 1],
      ["3.2.0-alpha.2", "3.2.0-alpha.10", -1],
      ["3.2.0-1", "3.2.0-alpha", -1],
      ["3.2.0-beta", "3.2.0-alpha.9", 1],
      ["3.10.0", "3.9.9", 1],
      ["3.274.1+dirty", "v3.274.1", 0],
      ["4.0.0", "3.999.999", 1],
    ];
    const script = [
      `source ${JSON.stringify(path.join(REPO, "tools", "lib", "common.sh"))}`,
      `source ${JSON.stringify(path.join(REPO, "tools", "lib", "resolve.sh"))}`,
      ...pairs.map(([a, b]) => `nova_semver_cmp ${a} ${b}`),
    ].join("\n");
    const res = spawnSync("bash", ["-c", script], { encoding: "utf8" });
    expect(res.stderr).toBe("");
    expect(res.stdout.trim().split("\n").map(Number)).toEqual(pairs.map((p) => p[2]));
  });
});

function readSdkVersion(): string {
  const pkg = JSON.parse(
    fs.readFileSync(path.join(REPO, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8"),
  ) as { version: string };
  return pkg.version;
}

/**
 * A copy of the setup scripts in a temp "repository" whose build recipes only write stub binaries and log when they
 * start and end, so a whole `setup.sh` run takes a second.
 */
function fakeRepo(): { root: string; log: string; bin: string } {
  const root = tempDir("nova-setup-repo-");
  const copy = (rel: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.copyFileSync(path.join(REPO, rel), path.join(root, rel));
  };
  for (const rel of [
    "tools/setup.sh",
    "tools/env.sh",
    "tools/versions.env",
    "tools/lib/common.sh",
    "tools/lib/resolve.sh",
    "node_modules/@pulumi/pulumi/automation/minimumVersion.js",
    "node_modules/@pulumi/pulumi/package.json",
  ]) {
    copy(rel);
  }
  for (const own of ["language-nodejs", "command-provider", "s3-standin", "registry-check"]) {
    fs.mkdirSync(path.join(root, "tools", own), { recursive: true });
    fs.writeFileSync(path.join(root, "tools", own, "main.go"), "package main\n");
  }
  const log = path.join(root, "builds.log");
  const bins: Record<string, string[]> = {
    pulumi: ["pulumi"],
    "language-nodejs": ["pulumi-language-nodejs"],
    "kubernetes-provider": ["pulumi-resource-kubernetes"],
    "command-provider": ["pulumi-resource-command"],
    etcd: ["etcd"],
    kubernetes: ["kube-apiserver", "kube-controller-manager", "kube-scheduler"],
    kwok: ["kwok"],
    helm: ["helm"],
    "kube-score": ["kube-score"],
    actionlint: ["actionlint"],
    "s3-standin": ["s3-standin"],
    "registry-check": ["nova-registry-check"],
  };
  const recipes = Object.entries(bins).map(
    ([piece, names]) =>
      `build_${piece.replace(/-/g, "_")}() {\n  echo "start ${piece}" >>${JSON.stringify(log)}\n  sleep 0.3\n` +
      names.map((n) => `  printf '#!/bin/sh\\nexit 0\\n' >"$1/bin/${n}"; chmod +x "$1/bin/${n}"\n`).join("") +
      `  echo "end ${piece}" >>${JSON.stringify(log)}\n}\n`,
  );
  fs.writeFileSync(
    path.join(root, "tools", "lib", "build.sh"),
    `# shellcheck shell=bash\n${recipes.join("\n")}`,
  );
  // `go` must exist for setup to start a build; these recipes never call it.
  const bin = path.join(root, "fake-go");
  writeScript(path.join(bin, "go"), "exit 0");
  return { root, log, bin };
}

function logLines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
}

describe("setup.sh end to end (stub build recipes)", () => {
  it("with a Pulumi CLI on PATH finishes without building the CLI, the language host or the plugins", () => {
    const repo = fakeRepo();
    const cli = stubCli("v3.300.0");
    const cache = path.join(repo.root, "home", "cache");
    const setup = path.join(repo.root, "tools", "setup.sh");
    const r = runSetup(setup, [], { pathDirs: [cli, repo.bin], cache });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`toolchain: using pulumi v3.300.0 from ${cli}/pulumi`);
    const started = logLines(repo.log)
      .filter((l) => l.startsWith("start "))
      .map((l) => l.slice(6));
    expect([...started].sort()).toEqual([...OTHER_PIECES].sort());
    for (const piece of PULUMI_PIECES) {
      expect(r.stdout).toMatch(new RegExp(`^  ${piece} +\\d+\\.\\d  skipped \\(PATH CLI\\)$`, "m"));
    }
    expect(fs.readdirSync(cache).filter((d) => d.startsWith("pulumi-v"))).toEqual([]);
    expect(fs.existsSync(path.join(cache, "bin", "pulumi"))).toBe(false);
    expect(fs.existsSync(path.join(cache, "tools-bin", "kube-apiserver"))).toBe(true);
    expect(fs.readdirSync(path.join(cache, "tools-bin")).some((b) => b.startsWith("pulumi"))).toBe(false);
    expect(fs.readFileSync(path.join(cache, "toolchain.env"), "utf8")).toContain(
      "NOVA_TOOLCHAIN_RESOLVED=path\n",
    );
    expect(r.stdout).toContain(
      "note: the integration tests need the offline build: NOVA_TOOLCHAIN=offline npm run setup",
    );

    // Warm: everything cached, nothing started.
    fs.rmSync(repo.log);
    const warm = runSetup(setup, [], { pathDirs: [cli, repo.bin], cache });
    expect(warm.code, warm.stderr).toBe(0);
    expect(logLines(repo.log)).toEqual([]);
    for (const piece of OTHER_PIECES) {
      expect(warm.stdout).toMatch(new RegExp(`^  ${piece} +\\d+\\.\\d  cached$`, "m"));
    }
  });

  it("cold offline build: longest piece first, two at a time, our Go pieces after the CLI, a timing table", () => {
    const repo = fakeRepo();
    const cache = path.join(repo.root, "home", "cache");
    const setup = path.join(repo.root, "tools", "setup.sh");
    const r = runSetup(setup, [], { pathDirs: [repo.bin], cache, env: { NOVA_SETUP_JOBS: "2" } });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const events = logLines(repo.log);
    const starts = events.filter((l) => l.startsWith("start ")).map((l) => l.slice(6));
    expect(starts).toHaveLength(PULUMI_PIECES.length + OTHER_PIECES.length);
    // kubernetes-provider (~3860 s cold) and pulumi (~2290 s) first, then the control plane (~2060 s).
    expect(starts.slice(0, 3)).toEqual(["kubernetes-provider", "pulumi", "kubernetes"]);
    // The language host and command provider share sdk/v3 with the CLI: they start after it ends.
    for (const own of ["language-nodejs", "command-provider"]) {
      expect(events.indexOf(`start ${own}`)).toBeGreaterThan(events.indexOf("end pulumi"));
    }
    // Never more than two at a time.
    let running = 0;
    for (const e of events) {
      running += e.startsWith("start ") ? 1 : -1;
      expect(running).toBeLessThanOrEqual(2);
    }
    expect(r.stdout).toMatch(/^ {2}piece +seconds {2}result$/m);
    for (const piece of [...PULUMI_PIECES, ...OTHER_PIECES]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${piece} +\\d+\\.\\d  built$`, "m"));
    }
    expect(r.stdout).toMatch(/^ {2}plugin kubernetes +\d+\.\d {2}installed$/m);
    expect(r.stdout).toMatch(/^ {2}total \(wall\) +\d+\.\d$/m);
    expect(fs.readFileSync(path.join(cache, "toolchain.env"), "utf8")).toContain(
      "NOVA_TOOLCHAIN_RESOLVED=offline\n",
    );
    // Measured build times are kept for the next cold build's order.
    expect(fs.readFileSync(path.join(cache, "logs", "timings.tsv"), "utf8")).toMatch(
      new RegExp(`^pulumi\\t${versions.PULUMI_VERSION}\\t\\d+$`, "m"),
    );
    expect(fs.realpathSync(path.join(cache, "bin", "pulumi"))).toBe(
      path.join(fs.realpathSync(cache), `pulumi-v${versions.PULUMI_VERSION}`, "bin", "pulumi"),
    );
  });
});
