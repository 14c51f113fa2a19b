#!/usr/bin/env node
// The sandbox's own trust material, so the signed release can be rehearsed without real keys:
//   node tools/sandbox/trust.mjs <dir>        (default .sandbox/trust; run by tools/sandbox/up.sh)
// writes, once (kept on later runs; remove the directory to start over):
//   preflight.pem / preflight.pem.pub        ed25519 key that signs `rollout preflight` bundles of sandbox stacks
//   <person> / <person>.pub                  an SSH ed25519 key per sandbox person (ssh-keygen, no passphrase)
//   roster.json                              the sandbox roster: these people with their roles, the preflight key
// The sandbox enforcement (policy/config/local.json) judges sandbox stacks' bundles against this roster; production
// never reads it (its roster is the committed policy/trust/roster.json, and a production roster path inside .sandbox/
// is refused). Every private key is 0600 in a 0700 directory; .sandbox/ is never committed.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** The sandbox people: one per role the signed flow needs (freeze, approval, break-glass, the one who deploys). */
export const SANDBOX_PEOPLE = [
  { name: "sandbox-release-manager", roles: ["release-manager"] },
  { name: "sandbox-cto", roles: ["cto"] },
  { name: "sandbox-incident-commander", roles: ["incident-commander"] },
  { name: "sandbox-engineer", roles: ["engineer"] },
];
export const SANDBOX_PREFLIGHT_KEY_NAME = "sandbox-preflight";

function writePrivate(file, data) {
  fs.writeFileSync(file, data, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

/** Creates what is missing under `dir`; returns what it did, one line each. */
export function ensureSandboxTrust(dir) {
  const done = [];
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const preflight = path.join(dir, "preflight.pem");
  if (!fs.existsSync(preflight)) {
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
    writePrivate(preflight, privateKey.export({ type: "pkcs8", format: "pem" }));
    fs.writeFileSync(`${preflight}.pub`, publicKey.export({ type: "spki", format: "pem" }));
    done.push("preflight key");
  }
  for (const p of SANDBOX_PEOPLE) {
    const key = path.join(dir, p.name);
    if (fs.existsSync(key) && fs.existsSync(`${key}.pub`)) continue;
    fs.rmSync(key, { force: true });
    fs.rmSync(`${key}.pub`, { force: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", p.name, "-f", key], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    fs.chmodSync(key, 0o600);
    done.push(`ssh key ${p.name}`);
  }
  const roster = {
    people: SANDBOX_PEOPLE.map((p) => ({
      name: p.name,
      roles: p.roles,
      sshPublicKey: fs.readFileSync(path.join(dir, `${p.name}.pub`), "utf8").trim(),
    })),
    preflightKeys: [
      { name: SANDBOX_PREFLIGHT_KEY_NAME, publicKey: fs.readFileSync(`${preflight}.pub`, "utf8") },
    ],
  };
  const rosterFile = path.join(dir, "roster.json");
  const text = `${JSON.stringify(roster, null, 2)}\n`;
  const before = fs.existsSync(rosterFile) ? fs.readFileSync(rosterFile, "utf8") : undefined;
  if (before !== text) {
    fs.writeFileSync(rosterFile, text);
    done.push("roster");
  }
  return done;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = path.resolve(process.argv[2] ?? ".sandbox/trust");
  try {
    const done = ensureSandboxTrust(dir);
    const what = `${SANDBOX_PEOPLE.length} people, 1 preflight key`;
    process.stdout.write(done.length === 0 ? `kept ${what}\n` : `created ${what}: ${done.join(", ")}\n`);
  } catch (e) {
    process.stderr.write(`sandbox trust: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
