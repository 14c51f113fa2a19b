/**
 * `keys generate --name <n> --out <file>`: an ed25519 preflight signing key (private key 0600, public key next to it)
 * and the roster entry to add to `policy/trust/roster.json` by a reviewed commit.
 * `keys allowed-signers`: the `allowed_signers` file for `ssh-keygen -Y verify`, generated from the committed roster.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import {
  allowedSigners,
  DEFAULT_ROSTER_PATH,
  findProjectDir,
  generateSigningKey,
  loadProductionEnforcement,
  loadRoster,
} from "../../src/evidence";

/** The committed roster file of a project (from production.json, else the default path). */
export function rosterFileOf(projectDir: string): string {
  try {
    return loadProductionEnforcement(projectDir).rosterFile;
  } catch {
    return path.join(projectDir, DEFAULT_ROSTER_PATH);
  }
}

export function keysCommand(): Command {
  const keys = new Command("keys").description("Signing keys and the committed trust roster.");
  keys
    .command("generate")
    .description("Generate an ed25519 preflight signing key; prints the roster entry for its public key.")
    .requiredOption("--name <name>", "name of the key in the roster (e.g. ci-preflight)")
    .requiredOption(
      "--out <file>",
      "private key file to write (mode 0600); the public key goes to <file>.pub",
    )
    .action((o: { name: string; out: string }) => {
      const k = generateSigningKey();
      fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
      fs.writeFileSync(o.out, k.privatePem, { mode: 0o600, flag: "wx" });
      fs.chmodSync(o.out, 0o600);
      fs.writeFileSync(`${o.out}.pub`, k.publicPem);
      console.error(`wrote ${o.out} (0600) and ${o.out}.pub; key id ${k.keyid}`);
      console.error(`add this entry to "preflightKeys" of ${DEFAULT_ROSTER_PATH} (a reviewed commit):`);
      console.log(JSON.stringify({ name: o.name, publicKey: k.publicPem }, null, 2));
    });
  keys
    .command("allowed-signers")
    .description(
      "Print the allowed_signers file for ssh-keygen -Y verify, generated from the committed roster.",
    )
    .option("--roster <file>", "roster file (default: the one policy/config/production.json names)")
    .option("--project-dir <dir>", "project directory")
    .action((o: { roster?: string; projectDir?: string }) => {
      const projectDir = path.resolve(o.projectDir ?? findProjectDir([process.cwd()]) ?? process.cwd());
      process.stdout.write(allowedSigners(loadRoster(o.roster ?? rosterFileOf(projectDir))));
    });
  return keys;
}
