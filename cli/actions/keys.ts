/** The key actions (`rollout keys`): a new preflight signing key, and the allowed_signers file of the roster. */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  allowedSigners,
  DEFAULT_ROSTER_PATH,
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

/** Writes a new ed25519 key (private 0600 at `out`, public at `<out>.pub`, never over an existing file). */
export function generateKeyFiles(out: string): { keyid: string; publicPem: string } {
  const k = generateSigningKey();
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, k.privatePem, { mode: 0o600, flag: "wx" });
  fs.chmodSync(out, 0o600);
  fs.writeFileSync(`${out}.pub`, k.publicPem);
  return { keyid: k.keyid, publicPem: k.publicPem };
}

/** The allowed_signers text of a roster file (default: the project's committed one). */
export function allowedSignersOf(projectDir: string, roster?: string): string {
  return allowedSigners(loadRoster(roster ?? rosterFileOf(projectDir)));
}
