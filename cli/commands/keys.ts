/**
 * `keys generate --name <n> --out <file>`: an ed25519 preflight signing key (private key 0600, public key next to it)
 * and the roster entry to add to `policy/trust/roster.json` by a reviewed commit.
 * `keys allowed-signers`: the `allowed_signers` file for `ssh-keygen -Y verify`, generated from the committed roster.
 */
import { Command } from "commander";
import { DEFAULT_ROSTER_PATH } from "../../src/evidence";
import { allowedSignersOf, generateKeyFiles } from "../actions/keys";
import { PROJECT_DIR_OPTION, resolveProjectDir } from "../options";

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
      const k = generateKeyFiles(o.out);
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
    .option(...PROJECT_DIR_OPTION)
    .action((o: { roster?: string; projectDir?: string }) => {
      process.stdout.write(allowedSignersOf(resolveProjectDir(o.projectDir), o.roster));
    });
  return keys;
}
