import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  configuredBackend,
  engineEnvFor,
  fileBackendPath,
  isInside,
  productionReason,
  usesPassphraseProvider,
  type EngineEnvInput,
  withToolchainPath,
} from "../../../cli/backend";
import { EXIT, UserError } from "../../../cli/errors";
import { SANDBOX_PASSPHRASE, sandboxBackendUrl } from "../../../tools/toolchain";

/** A passphrase a user would set; no message may ever contain it. */
const USER_PASSPHRASE = "user-Secret-passphrase-7f3a";

const PASSPHRASE_STACK =
  "encryptionsalt: v1:QmNoQxqVRJ8=:v1:O8uNeBnAqKIUNpcm:HvmgxjuQ2ZLZQNbBfQ/12SrN48e8YA==\n";
const KMS_STACK =
  "secretsprovider: gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k\nencryptedkey: abc\n";

const roots: string[] = [];
afterAll(() => {
  for (const dir of roots) fs.rmSync(dir, { recursive: true, force: true });
});

interface Fixture {
  /** The project directory (Pulumi.yaml, stack files). */
  readonly projectDir: string;
  /** A directory outside the project (a home, a backend, a passphrase file). */
  readonly outside: string;
  /** The cache directory; its pulumi-home is the engine's PULUMI_HOME. */
  readonly cache: string;
  /** The environment of a user who set nothing Pulumi-related. */
  readonly env: NodeJS.ProcessEnv;
}

interface FixtureFiles {
  /** Pulumi.yaml text (a minimal project by default). */
  readonly pulumiYaml?: string;
  /** Stack files by stack name. */
  readonly stacks?: Readonly<Record<string, string>>;
  /** credentials.json text in the engine's PULUMI_HOME. */
  readonly credentials?: string;
}

function fixture(files: FixtureFiles = {}): Fixture {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "nova-backend-"));
  roots.push(root);
  const projectDir = path.join(root, "project");
  const outside = path.join(root, "outside");
  const cache = path.join(root, "cache");
  fs.mkdirSync(projectDir);
  fs.mkdirSync(outside);
  fs.mkdirSync(path.join(cache, "pulumi-home"), { recursive: true });
  fs.writeFileSync(
    path.join(projectDir, "Pulumi.yaml"),
    files.pulumiYaml ?? "name: nova-rollout\nruntime: nodejs\n",
  );
  for (const [stack, text] of Object.entries(files.stacks ?? {})) {
    fs.writeFileSync(path.join(projectDir, `Pulumi.${stack}.yaml`), text);
  }
  if (files.credentials !== undefined) {
    fs.writeFileSync(path.join(cache, "pulumi-home", "credentials.json"), files.credentials);
  }
  return { projectDir, outside, cache, env: { HOME: outside, NOVA_CACHE_DIR: cache, PATH: "/usr/bin" } };
}

function input(f: Fixture, stack: string, env: NodeJS.ProcessEnv = {}, production = false): EngineEnvInput {
  return { projectDir: f.projectDir, stack, baseEnv: { ...f.env, ...env }, production };
}

/** The UserError engineEnvFor throws (fails the test when it does not throw one). */
function refusal(i: EngineEnvInput): UserError {
  try {
    engineEnvFor(i);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    const e = err as UserError;
    expect(e.exitCode).toBe(EXIT.usage);
    expect(e.message.split("\n")).toHaveLength(1);
    expect(e.message).not.toContain(USER_PASSPHRASE);
    expect(e.message).not.toContain(SANDBOX_PASSPHRASE);
    return e;
  }
  throw new Error(`expected engineEnvFor to refuse stack "${i.stack}"`);
}

describe("the sandbox stack local", () => {
  const f = fixture({ stacks: { local: PASSPHRASE_STACK } });

  it.each<[string, NodeJS.ProcessEnv, Record<string, string | undefined>]>([
    [
      "gets both sandbox defaults",
      {},
      { PULUMI_BACKEND_URL: sandboxBackendUrl(f.projectDir), PULUMI_CONFIG_PASSPHRASE: SANDBOX_PASSPHRASE },
    ],
    [
      "keeps the user's backend",
      { PULUMI_BACKEND_URL: "s3://bucket/state" },
      { PULUMI_BACKEND_URL: "s3://bucket/state", PULUMI_CONFIG_PASSPHRASE: SANDBOX_PASSPHRASE },
    ],
    [
      "keeps the user's passphrase",
      { PULUMI_CONFIG_PASSPHRASE: USER_PASSPHRASE },
      { PULUMI_BACKEND_URL: sandboxBackendUrl(f.projectDir), PULUMI_CONFIG_PASSPHRASE: USER_PASSPHRASE },
    ],
    [
      "adds no passphrase over the user's passphrase file",
      { PULUMI_CONFIG_PASSPHRASE_FILE: path.join(f.outside, "missing") },
      { PULUMI_BACKEND_URL: sandboxBackendUrl(f.projectDir), PULUMI_CONFIG_PASSPHRASE: undefined },
    ],
  ])("%s", (_name, env, expected) => {
    const out = engineEnvFor(input(f, "local", env));
    expect({
      PULUMI_BACKEND_URL: out.PULUMI_BACKEND_URL,
      PULUMI_CONFIG_PASSPHRASE: out.PULUMI_CONFIG_PASSPHRASE,
    }).toEqual(expected);
    expect(out.PULUMI_HOME).toBe(path.join(f.cache, "pulumi-home"));
    expect(out.PULUMI_SKIP_UPDATE_CHECK).toBe("true");
  });

  it("is refused like any production stack when it is classified production", () => {
    expect(refusal(input(f, "local", {}, true)).message).toMatch(/production.*public sandbox passphrase/);
  });
});

describe.each(["staging", "production", "it-rollout"])("stack %s without a backend", (stack) => {
  const f = fixture({ stacks: { [stack]: PASSPHRASE_STACK } });

  it.each([
    ["nothing set", {}],
    ["only a passphrase set", { PULUMI_CONFIG_PASSPHRASE: USER_PASSPHRASE }],
    ["an empty PULUMI_BACKEND_URL", { PULUMI_BACKEND_URL: "" }],
  ])("is refused with %s, naming PULUMI_BACKEND_URL and pulumi login", (_name, env) => {
    const e = refusal(input(f, stack, env));
    expect(e.message).toContain(`Stack "${stack}" has no Pulumi backend configured`);
    expect(e.message).toContain("PULUMI_BACKEND_URL=");
    expect(e.message).toContain("pulumi login");
    expect(e.message).toContain(path.join(f.cache, "pulumi-home"));
  });
});

describe("backend sources of a stack other than local", () => {
  const backendYaml = "name: nova-rollout\nruntime: nodejs\nbackend:\n  url: gs://team-bucket/nova\n";

  it.each<[string, FixtureFiles, NodeJS.ProcessEnv, string | undefined]>([
    ["PULUMI_BACKEND_URL", {}, { PULUMI_BACKEND_URL: "gs://env-bucket" }, "PULUMI_BACKEND_URL"],
    ["Pulumi.yaml backend.url", { pulumiYaml: backendYaml }, {}, "Pulumi.yaml backend.url"],
    ["credentials.json current", { credentials: '{"current":"https://api.pulumi.com"}' }, {}, "pulumi login"],
    [
      "PULUMI_BACKEND_URL over Pulumi.yaml",
      { pulumiYaml: backendYaml },
      { PULUMI_BACKEND_URL: "s3://b" },
      "PULUMI_BACKEND_URL",
    ],
    ["an empty credentials current", { credentials: '{"current":""}' }, {}, undefined],
    ["malformed credentials", { credentials: "{not json" }, {}, undefined],
    ["a Pulumi.yaml without backend", { pulumiYaml: "name: nova-rollout\n" }, {}, undefined],
  ])("%s", (_name, files, env, source) => {
    const f = fixture({ ...files, stacks: { staging: KMS_STACK } });
    const run = input(f, "staging", env);
    if (source === undefined) {
      expect(refusal(run).message).toMatch(/has no Pulumi backend configured/);
    } else {
      const out = engineEnvFor(run);
      expect(configuredBackend(f.projectDir, { ...run.baseEnv, ...out })?.source).toContain(source);
      // No defaults leak in: the backend is the user's and no passphrase is invented.
      expect(out.PULUMI_BACKEND_URL).toBe(env.PULUMI_BACKEND_URL);
      expect(out.PULUMI_CONFIG_PASSPHRASE).toBeUndefined();
    }
  });
});

describe("secrets provider of a stack other than local", () => {
  const backend = { PULUMI_BACKEND_URL: "gs://team-bucket/nova" };

  it.each<[string, string | undefined, NodeJS.ProcessEnv, RegExp | undefined]>([
    [
      "passphrase stack, no passphrase",
      PASSPHRASE_STACK,
      {},
      /neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set/,
    ],
    [
      "explicit passphrase provider, no passphrase",
      `secretsprovider: passphrase\n${PASSPHRASE_STACK}`,
      {},
      /neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set/,
    ],
    [
      "passphrase stack, PULUMI_CONFIG_PASSPHRASE",
      PASSPHRASE_STACK,
      { PULUMI_CONFIG_PASSPHRASE: USER_PASSPHRASE },
      undefined,
    ],
    [
      "passphrase stack, PULUMI_CONFIG_PASSPHRASE_FILE",
      PASSPHRASE_STACK,
      { PULUMI_CONFIG_PASSPHRASE_FILE: "FILE" },
      undefined,
    ],
    [
      "passphrase stack, unreadable PULUMI_CONFIG_PASSPHRASE_FILE",
      PASSPHRASE_STACK,
      { PULUMI_CONFIG_PASSPHRASE_FILE: "MISSING" },
      /cannot read PULUMI_CONFIG_PASSPHRASE_FILE/,
    ],
    [
      "passphrase stack, empty PULUMI_CONFIG_PASSPHRASE",
      PASSPHRASE_STACK,
      { PULUMI_CONFIG_PASSPHRASE: "" },
      /is empty/,
    ],
    ["KMS stack, no passphrase", KMS_STACK, {}, undefined],
    ["no stack file, no passphrase", undefined, {}, undefined],
  ])("%s", (_name, stackFile, env, refused) => {
    const f = fixture(stackFile === undefined ? {} : { stacks: { staging: stackFile } });
    const file = path.join(f.outside, "passphrase");
    fs.writeFileSync(file, `${USER_PASSPHRASE}\n`);
    const resolved: NodeJS.ProcessEnv = { ...backend, ...env };
    if (resolved.PULUMI_CONFIG_PASSPHRASE_FILE === "FILE") resolved.PULUMI_CONFIG_PASSPHRASE_FILE = file;
    if (resolved.PULUMI_CONFIG_PASSPHRASE_FILE === "MISSING") {
      resolved.PULUMI_CONFIG_PASSPHRASE_FILE = path.join(f.outside, "missing");
    }
    const run = input(f, "staging", resolved);
    if (refused !== undefined) {
      expect(refusal(run).message).toMatch(refused);
    } else {
      const out = engineEnvFor(run);
      expect(out.PULUMI_CONFIG_PASSPHRASE).toBe(resolved.PULUMI_CONFIG_PASSPHRASE);
      expect(out.PULUMI_CONFIG_PASSPHRASE_FILE).toBe(resolved.PULUMI_CONFIG_PASSPHRASE_FILE);
    }
  });

  it("never falls back to the sandbox passphrase", () => {
    const f = fixture({ stacks: { staging: KMS_STACK } });
    expect(engineEnvFor(input(f, "staging", backend)).PULUMI_CONFIG_PASSPHRASE).toBeUndefined();
  });
});

describe("production stacks", () => {
  const f = fixture({ stacks: { production: PASSPHRASE_STACK } });
  const sandboxFile = path.join(f.outside, "sandbox-passphrase");
  fs.writeFileSync(sandboxFile, `${SANDBOX_PASSPHRASE}\n`);
  const userFile = path.join(f.outside, "user-passphrase");
  fs.writeFileSync(userFile, `${USER_PASSPHRASE}\n`);
  fs.writeFileSync(path.join(f.projectDir, "sandbox-passphrase.txt"), SANDBOX_PASSPHRASE);
  const own = { PULUMI_CONFIG_PASSPHRASE: USER_PASSPHRASE };
  const remote = { PULUMI_BACKEND_URL: "gs://team-bucket/nova" };

  it.each<[string, NodeJS.ProcessEnv, RegExp | undefined]>([
    ["own passphrase, remote backend", { ...remote, ...own }, undefined],
    [
      "own passphrase file, remote backend",
      { ...remote, PULUMI_CONFIG_PASSPHRASE_FILE: userFile },
      undefined,
    ],
    [
      "sandbox passphrase in PULUMI_CONFIG_PASSPHRASE",
      { ...remote, PULUMI_CONFIG_PASSPHRASE: SANDBOX_PASSPHRASE },
      /is production and PULUMI_CONFIG_PASSPHRASE is the public sandbox passphrase/,
    ],
    [
      "sandbox passphrase in PULUMI_CONFIG_PASSPHRASE_FILE",
      { ...remote, PULUMI_CONFIG_PASSPHRASE_FILE: sandboxFile },
      /the file in PULUMI_CONFIG_PASSPHRASE_FILE \(.*sandbox-passphrase\) holds the public sandbox passphrase/,
    ],
    [
      "sandbox passphrase in a relative PULUMI_CONFIG_PASSPHRASE_FILE",
      { ...remote, PULUMI_CONFIG_PASSPHRASE_FILE: "sandbox-passphrase.txt" },
      /public sandbox passphrase/,
    ],
    [
      "sandbox passphrase file beside an own PULUMI_CONFIG_PASSPHRASE",
      { ...remote, ...own, PULUMI_CONFIG_PASSPHRASE_FILE: sandboxFile },
      /public sandbox passphrase/,
    ],
    [
      "the sandbox file backend",
      { ...own, PULUMI_BACKEND_URL: sandboxBackendUrl(f.projectDir) },
      /is production and its backend \(PULUMI_BACKEND_URL\) is a file backend inside the project/,
    ],
    [
      "a file backend at the project root",
      { ...own, PULUMI_BACKEND_URL: `file://${f.projectDir}` },
      /inside the project/,
    ],
    [
      "a file backend inside the project with a query",
      { ...own, PULUMI_BACKEND_URL: `file://${f.projectDir}/state?no_tmp_dir=true` },
      /inside the project/,
    ],
    ["a relative file backend", { ...own, PULUMI_BACKEND_URL: "file://./state" }, /inside the project/],
    [
      "a file backend outside the project",
      { ...own, PULUMI_BACKEND_URL: `file://${f.outside}/state` },
      undefined,
    ],
    ["a file backend in the home directory", { ...own, PULUMI_BACKEND_URL: "file://~" }, undefined],
    [
      "a sibling directory sharing the project's name prefix",
      { ...own, PULUMI_BACKEND_URL: `file://${f.projectDir}-state` },
      undefined,
    ],
  ])("%s", (_name, env, refused) => {
    const run = input(f, "production", env, true);
    if (refused !== undefined) expect(refusal(run).message).toMatch(refused);
    else expect(() => engineEnvFor(run)).not.toThrow();
  });

  it.each<[string, FixtureFiles]>([
    [
      "Pulumi.yaml backend.url",
      { pulumiYaml: "name: nova-rollout\nbackend:\n  url: file://.pulumi-local/state\n" },
    ],
    ["pulumi login", { credentials: '{"current":"file://PROJECT/.pulumi-local/state"}' }],
  ])("refuses a file backend inside the project configured by %s", (_name, files) => {
    const g = fixture({ stacks: { production: KMS_STACK } });
    if (files.credentials !== undefined) {
      fs.writeFileSync(
        path.join(g.cache, "pulumi-home", "credentials.json"),
        files.credentials.replace("PROJECT", g.projectDir),
      );
    }
    if (files.pulumiYaml !== undefined)
      fs.writeFileSync(path.join(g.projectDir, "Pulumi.yaml"), files.pulumiYaml);
    expect(refusal(input(g, "production", {}, true)).message).toMatch(/file backend inside the project/);
  });

  it("allows the sandbox passphrase for a stack that is not production (only production refuses it)", () => {
    const g = fixture({ stacks: { staging: PASSPHRASE_STACK } });
    const out = engineEnvFor(
      input(g, "staging", { ...remote, PULUMI_CONFIG_PASSPHRASE: SANDBOX_PASSPHRASE }),
    );
    expect(out.PULUMI_BACKEND_URL).toBe(remote.PULUMI_BACKEND_URL);
  });
});

describe("messages never contain a passphrase", () => {
  const f = fixture({ stacks: { staging: PASSPHRASE_STACK, production: PASSPHRASE_STACK } });
  const sandboxFile = path.join(f.outside, "sandbox");
  fs.writeFileSync(sandboxFile, SANDBOX_PASSPHRASE);

  it.each<[string, string, NodeJS.ProcessEnv, boolean]>([
    ["no backend", "staging", { PULUMI_CONFIG_PASSPHRASE: USER_PASSPHRASE }, false],
    ["no passphrase", "staging", { PULUMI_BACKEND_URL: "gs://b" }, false],
    [
      "sandbox passphrase",
      "production",
      { PULUMI_BACKEND_URL: "gs://b", PULUMI_CONFIG_PASSPHRASE: SANDBOX_PASSPHRASE },
      true,
    ],
    [
      "sandbox passphrase file",
      "production",
      { PULUMI_BACKEND_URL: "gs://b", PULUMI_CONFIG_PASSPHRASE_FILE: sandboxFile },
      true,
    ],
    [
      "file backend in the project",
      "production",
      { PULUMI_BACKEND_URL: sandboxBackendUrl(f.projectDir), PULUMI_CONFIG_PASSPHRASE: USER_PASSPHRASE },
      true,
    ],
    ["sandbox defaults on a production local", "local", {}, true],
  ])("%s", (_name, stack, env, production) => {
    const message = refusal(input(f, stack, env, production)).message;
    expect(message).not.toContain(USER_PASSPHRASE);
    expect(message).not.toContain(SANDBOX_PASSPHRASE);
  });
});

describe("helpers", () => {
  it.each<[string, Parameters<typeof productionReason>[0], string | undefined]>([
    ["not production", { production: false, protectedTargets: [] }, undefined],
    [
      "declared",
      { production: true, protectedTargets: [], declaredEnvironment: "production" },
      "it declares environment production",
    ],
    [
      "protected target",
      { production: true, protectedTargets: ["namespace nova-prod"], declaredEnvironment: "sandbox" },
      "it targets namespace nova-prod",
    ],
    [
      "fail closed",
      { production: true, protectedTargets: [] },
      "its stack file or policy/config/production.json cannot be read, so it counts as production",
    ],
  ])("productionReason: %s", (_name, cls, expected) => {
    expect(productionReason(cls)).toBe(expected);
  });

  it("names the production reason in a refusal", () => {
    const f = fixture();
    const run = {
      ...input(f, "local", {}, true),
      productionReason: "it targets namespace nova-prod",
    };
    expect(refusal(run).message).toMatch(
      /^Stack "local" is production \(it targets namespace nova-prod\) and PULUMI_CONFIG_PASSPHRASE is the public sandbox passphrase/,
    );
  });

  it("reads files only through the injected reader", () => {
    const files: Record<string, string> = {
      "/p/Pulumi.yaml": "name: x\nbackend:\n  url: s3://b\n",
      "/p/Pulumi.staging.yaml": PASSPHRASE_STACK,
    };
    const readFile = (file: string): string | undefined => files[file];
    expect(configuredBackend("/p", {}, readFile)).toEqual({
      url: "s3://b",
      source: "Pulumi.yaml backend.url",
    });
    expect(usesPassphraseProvider("/p", "staging", readFile)).toBe(true);
    const e = (() => {
      try {
        engineEnvFor({
          projectDir: "/p",
          stack: "staging",
          baseEnv: { NOVA_CACHE_DIR: "/c" },
          production: false,
          readFile,
        });
      } catch (err) {
        return err as Error;
      }
      return undefined;
    })();
    expect(e?.message).toMatch(/neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE/);
  });

  it.each<[string, string | undefined]>([
    ["file:///abs/state", "/abs/state"],
    ["file:///abs/state?no_tmp_dir=true", "/abs/state"],
    ["file://rel/state", "/work/rel/state"],
    ["file://~", "/home/u"],
    ["file://~/state", "/home/u/state"],
    ["file:///with%20space", "/with space"],
    ["gs://bucket", undefined],
    ["https://api.pulumi.com", undefined],
  ])("fileBackendPath(%s)", (url, expected) => {
    expect(fileBackendPath(url, "/work", "/home/u")).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    ["/a/b", "/a/b", true],
    ["/a/b", "/a/b/c/d", true],
    ["/a/b", "/a/bc", false],
    ["/a/b", "/a", false],
    ["/a/b", "/x", false],
  ])("isInside(%s, %s) is %s", (dir, p, expected) => {
    expect(isInside(dir, p)).toBe(expected);
  });

  it.each<[string, string | undefined, boolean]>([
    ["salt only", PASSPHRASE_STACK, true],
    ["salt and secretsprovider passphrase", `secretsprovider: passphrase\n${PASSPHRASE_STACK}`, true],
    ["KMS", KMS_STACK, false],
    ["KMS with a leftover salt", `${KMS_STACK}${PASSPHRASE_STACK}`, false],
    ["no salt", "config: {}\n", false],
    ["missing file", undefined, false],
  ])("usesPassphraseProvider: %s", (_name, text, expected) => {
    const readFile = (file: string) => (file === "/p/Pulumi.s.yaml" ? text : undefined);
    expect(usesPassphraseProvider("/p", "s", readFile)).toBe(expected);
  });
});

describe("withToolchainPath", () => {
  it("puts the toolchain's binaries first on PATH and changes nothing else", () => {
    const base = {
      PATH: "/usr/bin:/bin",
      NOVA_CACHE_DIR: "/opt/nova-cache",
      NOVA_TOOLCHAIN: "offline",
      HOME: "/h",
    };
    const env = withToolchainPath("/repo", base);
    expect(env.PATH).toBe("/opt/nova-cache/bin:/usr/bin:/bin");
    expect({ ...env, PATH: base.PATH }).toEqual(base);
    // A toolchain whose Pulumi CLI comes from PATH: the tools-only directory (setup links nova-registry-check there).
    expect(withToolchainPath("/repo", { ...base, NOVA_TOOLCHAIN: "path" }).PATH).toMatch(
      /^\/opt\/nova-cache\/tools-bin:\/usr\/bin:\/bin$/,
    );
  });
});
