// tools/sandbox/trust.mjs (run by `npm run sandbox:up`): the sandbox's throwaway keys and roster, kept across runs,
// and what uses them: `rollout preflight` signs a sandbox stack's bundle with the sandbox key by default, a sandbox
// person's ssh-keygen signature verifies against the sandbox roster with ssh-keygen alone.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Command } from "commander";
import { main } from "../../../cli/index";
import { keysCommand } from "../../../cli/commands/keys";
import { loadRoster, readSignedBundles, trustedPreflightKeys } from "../../../src/evidence";
import { makeProject, makeSandboxProject, type ProjectFixture } from "../../policy/fixtures";

const SCRIPT = path.resolve(__dirname, "../../../tools/sandbox/trust.mjs");
const made: string[] = [];
let p: ProjectFixture | undefined;
afterEach(() => {
  process.exitCode = undefined;
  p?.cleanup();
  p = undefined;
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  vi.restoreAllMocks();
});

function runScript(dir: string): string {
  return execFileSync(process.execPath, [SCRIPT, dir], { encoding: "utf8" });
}

function captureConsole(): string[] {
  const out: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  return out;
}

describe("tools/sandbox/trust.mjs", () => {
  it("makes the sandbox roster, a preflight key and one SSH key per person, private keys 0600 in a 0700 directory", () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nova-trust-")), "trust");
    made.push(path.dirname(dir));
    expect(runScript(dir)).toMatch(/^created 4 people, 1 preflight key: preflight key, ssh key/);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const roster = loadRoster(path.join(dir, "roster.json"));
    expect(roster.people.map((x) => [x.name, x.roles])).toEqual([
      ["sandbox-release-manager", ["release-manager"]],
      ["sandbox-cto", ["cto"]],
      ["sandbox-incident-commander", ["incident-commander"]],
      ["sandbox-engineer", ["engineer"]],
    ]);
    expect(trustedPreflightKeys(roster)).toHaveLength(1);
    for (const key of ["preflight.pem", ...roster.people.map((x) => x.name)]) {
      expect(fs.statSync(path.join(dir, key)).mode & 0o777, key).toBe(0o600);
    }
    // Kept on the next run: the keys people may have used stay valid.
    const before = fs.readFileSync(path.join(dir, "sandbox-cto"));
    expect(runScript(dir)).toBe("kept 4 people, 1 preflight key\n");
    expect(fs.readFileSync(path.join(dir, "sandbox-cto"))).toEqual(before);
    // A lost public key is made again with its private key (a pair never mixes).
    fs.rmSync(path.join(dir, "sandbox-cto.pub"));
    expect(runScript(dir)).toMatch(/created .*ssh key sandbox-cto, roster/);
    expect(fs.readFileSync(path.join(dir, "sandbox-cto"))).not.toEqual(before);
  });

  it("a sandbox person's ssh-keygen signature verifies against the sandbox roster with ssh-keygen alone", async () => {
    p = makeSandboxProject();
    const dir = path.join(p.dir, ".sandbox", "trust");
    runScript(dir);
    const doc = p.write("note.json", '{"what":"a record"}\n');
    execFileSync(
      "ssh-keygen",
      ["-Y", "sign", "-n", "nova-rollout", "-f", path.join(dir, "sandbox-cto"), doc],
      {
        stdio: "ignore",
      },
    );
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    await new Command("nova-rollout")
      .addCommand(keysCommand())
      .parseAsync(["keys", "allowed-signers", "--roster", path.join(dir, "roster.json")], { from: "user" });
    const allowed = write.mock.calls.map((c) => String(c[0])).join("");
    write.mockRestore();
    const allowedFile = p.write("allowed_signers", allowed);
    const verified = execFileSync(
      "ssh-keygen",
      ["-Y", "verify", "-f", allowedFile, "-I", "sandbox-cto", "-n", "nova-rollout", "-s", `${doc}.sig`],
      { input: fs.readFileSync(doc), encoding: "utf8" },
    );
    expect(verified).toMatch(/Good "nova-rollout" signature for sandbox-cto/);
  });
});

describe("rollout preflight on a sandbox stack", () => {
  const preflight = (stack: string, dir: string) =>
    main([
      "preflight",
      "--stack",
      stack,
      "--project-dir",
      dir,
      "--no-engine",
      "--registry",
      "127.0.0.1:9/nova",
    ]);

  it("signs with the sandbox key by default, and the sandbox roster trusts the envelope", async () => {
    p = makeSandboxProject();
    const dir = path.join(p.dir, ".sandbox", "trust");
    runScript(dir);
    const out = captureConsole();
    await preflight("local", p.dir);
    expect(out.join("\n")).toContain("signed with the sandbox's throwaway key .sandbox/trust/preflight.pem");
    const keys = trustedPreflightKeys(loadRoster(path.join(dir, "roster.json")));
    expect(readSignedBundles(p.evidenceDir, "local", keys).ok).toHaveLength(1);
  });

  it("never signs a production stack's bundle with the sandbox key", async () => {
    p = makeProject();
    runScript(path.join(p.dir, ".sandbox", "trust"));
    const out = captureConsole();
    await preflight("production", p.dir);
    expect(out.join("\n")).toMatch(/the bundle is unsigned/);
    expect(out.join("\n")).not.toContain("sandbox's throwaway key");
  });
});
