/**
 * The committed trust roster (`policy/trust/roster.json`, referenced from `policy/config/production.json`): the people
 * who may sign records (name, roles, SSH public key) and the preflight keys whose signed bundles the gate accepts.
 * Roles come from here, never from a flag. Public keys only.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { describeZodError } from "./model";
import { parseSshPublicKey, SSHSIG_NAMESPACE, verifySshSignature } from "./sshsig";
import { parseTrustedPublicKey, type TrustedKey } from "./signing";

/** Default project-relative location of the roster. */
export const DEFAULT_ROSTER_PATH = "policy/trust/roster.json";
/** The roster role that may act as incident commander of a break-glass override. */
export const INCIDENT_COMMANDER_ROLE = "incident-commander";

export const rosterSchema = z
  .object({
    people: z
      .array(
        z
          .object({
            name: z.string().min(1),
            roles: z.array(z.string().min(1)),
            sshPublicKey: z.string().min(1),
          })
          .strict(),
      )
      .default([]),
    preflightKeys: z
      .array(z.object({ name: z.string().min(1), publicKey: z.string().min(1) }).strict())
      .default([]),
  })
  .strict();
export type Roster = z.output<typeof rosterSchema>;
export type RosterPerson = Roster["people"][number];

/** The wire blob of an ssh-ed25519 key: string "ssh-ed25519" (4 + 11 bytes), string key (4 + 32 bytes). */
const SSH_ED25519_BLOB_LENGTH = 4 + "ssh-ed25519".length + 4 + 32;

/**
 * Why an SSH public key line cannot sign records, or undefined when it is an `ssh-ed25519 AAAA… [comment]` line whose
 * blob holds a 32-byte key. Never repeats the text (a private key pasted by mistake must not be printed).
 */
export function sshPublicKeyProblem(line: string): string | undefined {
  if (/PRIVATE KEY/.test(line)) {
    return "is a private key; the roster holds public keys only (remove it, rotate the key, and list its .pub line)";
  }
  const [type, b64] = line.trim().split(/\s+/);
  if (type === undefined || b64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    return "is not an SSH public key line (expected `ssh-ed25519 AAAA… comment`, the content of a .pub file)";
  }
  let parsed: { type: string; blob: Buffer };
  try {
    parsed = parseSshPublicKey(line);
  } catch (e) {
    return `cannot be read (${(e as Error).message}): the key line is damaged`;
  }
  if (parsed.type !== "ssh-ed25519") {
    return `is a ${parsed.type} key; records are signed with ssh-ed25519 keys only`;
  }
  if (parsed.blob.length !== SSH_ED25519_BLOB_LENGTH || parsed.blob.readUInt32BE(15) !== 32) {
    return "is a malformed ssh-ed25519 key (its blob does not hold one 32-byte key): the key line is damaged";
  }
  return undefined;
}

/** Every key of a schema-valid roster that cannot be used, as `people[i] (name) sshPublicKey …` lines. */
function rosterKeyProblems(roster: Roster): string[] {
  const problems: string[] = [];
  roster.people.forEach((p, i) => {
    const problem = sshPublicKeyProblem(p.sshPublicKey);
    if (problem !== undefined) problems.push(`people[${i}] (${p.name}) sshPublicKey ${problem}`);
  });
  roster.preflightKeys.forEach((k, i) => {
    const parsed = parseTrustedPublicKey(k.publicKey);
    if ("problem" in parsed) problems.push(`preflightKeys[${i}] (${k.name}) publicKey ${parsed.problem}`);
  });
  return problems;
}

/**
 * Reads and validates a roster file; throws with every problem: its shape, then each key that cannot be used (an SSH
 * line that is not ssh-ed25519, a preflight key that is not a PEM ed25519 public key), naming the person or key.
 */
export function loadRoster(file: string): Roster {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`Cannot read the trust roster ${file}: ${(e as Error).message}`);
  }
  const r = rosterSchema.safeParse(doc);
  if (!r.success) throw new Error(`The trust roster ${file} is invalid: ${describeZodError(r.error)}`);
  const problems = rosterKeyProblems(r.data);
  if (problems.length > 0) {
    throw new Error(`The trust roster ${file} is invalid: ${problems.join("; ")}`);
  }
  return r.data;
}

/** The roster person of a name (exact). */
export function rosterPerson(roster: Roster, name: string): RosterPerson | undefined {
  return roster.people.find((p) => p.name === name);
}

/** Whether a person holds one of `roles` (compared without regard to case). */
export function hasRole(person: RosterPerson, roles: readonly string[]): boolean {
  return person.roles.some((r) => roles.some((x) => x.toLowerCase() === r.toLowerCase()));
}

/** The preflight keys of the roster, as the envelope verifier takes them. */
export function trustedPreflightKeys(roster: Roster): TrustedKey[] {
  return roster.preflightKeys.map((k) => ({ name: k.name, publicKey: k.publicKey }));
}

/** The `allowed_signers` file for `ssh-keygen -Y verify` generated from the roster. */
export function allowedSigners(roster: Roster): string {
  return roster.people
    .map((p) => {
      const { type, blob } = parseSshPublicKey(p.sshPublicKey);
      return `${p.name.replace(/\s+/g, "_")} namespaces="${SSHSIG_NAMESPACE}" ${type} ${blob.toString("base64")}\n`;
    })
    .join("");
}

/** Why a record file is not signed by `name` of the roster, or undefined when `<file>.sig` verifies. */
export function recordSignatureProblem(file: string, name: string, roster: Roster): string | undefined {
  const person = rosterPerson(roster, name);
  if (person === undefined) return `${name} is not in the committed roster`;
  let sig: string;
  try {
    sig = fs.readFileSync(`${file}.sig`, "utf8");
  } catch {
    return `it has no SSH signature (${path.basename(file)}.sig)`;
  }
  const problem = verifySshSignature(fs.readFileSync(file), sig, person.sshPublicKey);
  return problem === undefined ? undefined : `its signature is not ${name}'s: ${problem}`;
}

/**
 * The sandbox's own trust material (`.sandbox/trust`, made by `npm run sandbox:up` with `tools/sandbox/trust.mjs`,
 * never committed): throwaway keys for a release manager, a CTO, an incident commander and an engineer, a preflight
 * key, and their roster. The sandbox enforcement (`policy/config/local.json`) names this roster, so the signed release
 * can be rehearsed on sandbox stacks; production never reads it.
 */
export const SANDBOX_TRUST_DIR = ".sandbox/trust";
/** The sandbox preflight key, the default signing key of `rollout preflight` for a sandbox stack. */
export const SANDBOX_PREFLIGHT_KEY = `${SANDBOX_TRUST_DIR}/preflight.pem`;

/** A roster and where it was read from, or why it could not be read. */
export interface RosterSource {
  readonly file: string;
  readonly roster: Roster | { readonly error: string };
}

/** Reads a roster without throwing: the error becomes part of the source (the gate reports it). */
export function readRosterSource(file: string): RosterSource {
  try {
    return { file, roster: loadRoster(file) };
  } catch (e) {
    return { file, roster: { error: (e as Error).message } };
  }
}

/** Whether `file` lies in the project's sandbox directory (`.sandbox/`), whose keys are throwaway. */
export function isSandboxPath(projectDir: string, file: string): boolean {
  const rel = path.relative(path.join(projectDir, ".sandbox"), path.resolve(projectDir, file));
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** The sandbox preflight key of a project when `npm run sandbox:up` has made it, else undefined. */
export function sandboxPreflightKey(projectDir: string): string | undefined {
  const file = path.join(projectDir, SANDBOX_PREFLIGHT_KEY);
  return fs.existsSync(file) ? file : undefined;
}
