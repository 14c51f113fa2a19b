// The record and preflight commands sign with the caller's keys, and the gate counts what they wrote: keys generate →
// roster → preflight --signing-key → freeze / approve --ssh-key (ssh-keygen -Y sign) → the production gate.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Command } from "commander";
import { main as rolloutMain } from "../../../cli/index";
import { keysCommand } from "../../../cli/commands/keys";

/** The rollout CLI with `keys` (registered in cli/index.ts by the lead; see the report). */
async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] !== "keys") return rolloutMain(argv);
  await new Command("nova-rollout").addCommand(keysCommand()).parseAsync([...argv], { from: "user" });
  return typeof process.exitCode === "number" ? process.exitCode : 0;
}
import {
  evaluateGate,
  gateInputFor,
  readSignedBundles,
  readStackConfigFile,
  type Roster,
} from "../../../src/evidence";
import { makeProject, type ProjectFixture } from "../../policy/fixtures";

let p: ProjectFixture | undefined;
afterEach(() => {
  process.exitCode = undefined;
  p?.cleanup();
  vi.restoreAllMocks();
});

function sshKey(dir: string, name: string): { file: string; pub: string } {
  const file = path.join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
  return { file, pub: fs.readFileSync(`${file}.pub`, "utf8").trim() };
}

describe("the CLI signs what it writes", () => {
  it("keys generate, preflight --signing-key, freeze and approve --ssh-key: the production gate counts them", async () => {
    p = makeProject();
    const out: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
    const keys = path.join(p.dir, ".keys");
    fs.mkdirSync(keys);
    expect(
      await main(["keys", "generate", "--name", "ci-preflight", "--out", path.join(keys, "ci.key")]),
    ).toBe(0);
    expect(fs.statSync(path.join(keys, "ci.key")).mode & 0o777).toBe(0o600);
    const entry = JSON.parse(out.find((l) => l.startsWith("{")) ?? "{}") as {
      name: string;
      publicKey: string;
    };
    expect(entry.name).toBe("ci-preflight");
    const dana = sshKey(keys, "dana");
    const rae = sshKey(keys, "rae");
    const roster: Roster = {
      people: [
        { name: "Dana Lee", roles: ["cto"], sshPublicKey: dana.pub },
        { name: "Rae Manager", roles: ["release-manager"], sshPublicKey: rae.pub },
        { name: "Riley Deployer", roles: ["engineer"], sshPublicKey: rae.pub },
      ],
      preflightKeys: [entry],
    };
    p.write("policy/trust/roster.json", JSON.stringify(roster));
    const dir = ["--project-dir", p.dir];
    await main([
      "preflight",
      "--stack",
      "production",
      ...dir,
      "--no-engine",
      "--registry",
      "127.0.0.1:9/nova",
      "--signing-key",
      path.join(keys, "ci.key"),
      "--ran-by",
      "Riley Deployer",
    ]);
    process.exitCode = undefined; // not ready (no registry, no engine) is expected; the bundle is what matters
    const signed = readSignedBundles(p.evidenceDir, "production", roster.preflightKeys).ok;
    expect(signed).toHaveLength(1);
    expect(signed[0]?.bundle.ranBy).toBe("Riley Deployer");
    const common = ["--stack", "production", ...dir];
    expect(
      await main([
        "freeze",
        ...common,
        "--end",
        "+2h",
        "--reason",
        "r",
        "--declared-by",
        "Rae Manager",
        "--ssh-key",
        rae.file,
      ]),
    ).toBe(0);
    expect(
      await main([
        "approve",
        ...common,
        "--approved-by",
        "Dana Lee",
        "--deployer",
        "Riley Deployer",
        "--role",
        "intern",
        "--ssh-key",
        dana.file,
      ]),
    ).toBe(0);
    expect(out.join("\n")).toMatch(/--role intern is ignored/);
    const input = gateInputFor({
      stack: "production",
      config: readStackConfigFile(p.dir, "production") ?? {},
      projectDir: p.dir,
      now: new Date(),
    });
    if ("enforcementError" in input) throw new Error(input.enforcementError);
    const gate = evaluateGate(input);
    expect(gate.freeze).toEqual([]);
    expect(gate.approval).toEqual([]);
    expect(gate.readiness.map((f) => f.checkId)).not.toContain("signature");

    // The allowed_signers the CLI prints verifies the approval with ssh-keygen alone.
    out.length = 0;
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    expect(await main(["keys", "allowed-signers", ...dir])).toBe(0);
    const allowed = write.mock.calls.map((c) => String(c[0])).join("");
    write.mockRestore();
    fs.writeFileSync(path.join(keys, "allowed_signers"), allowed);
    const records = path.join(p.evidenceDir, "production", "records");
    const approval = fs.readdirSync(records).find((n) => n.startsWith("approval-") && n.endsWith(".json"))!;
    const verified = execFileSync(
      "ssh-keygen",
      [
        "-Y",
        "verify",
        "-f",
        path.join(keys, "allowed_signers"),
        "-I",
        "Dana_Lee",
        "-n",
        "nova-rollout",
        "-s",
        path.join(records, `${approval}.sig`),
      ],
      { input: fs.readFileSync(path.join(records, approval)), encoding: "utf8" },
    );
    expect(verified).toMatch(/Good "nova-rollout" signature for Dana_Lee/);
  });

  it("override refuses registry-digests and a lifetime over the committed maximum", async () => {
    p = makeProject();
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const base = [
      "override",
      "--stack",
      "production",
      "--project-dir",
      p.dir,
      "--hotfix",
      "--incident-commander",
      "Sam",
      "--reason",
      "INC",
    ];
    expect(await main([...base, "--waive", "registry-digests"])).toBe(2);
    expect(await main([...base, "--waive", "billing-drill", "--expires-in-hours", "720"])).toBe(2);
  });
});
