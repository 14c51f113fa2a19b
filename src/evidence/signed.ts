/**
 * What production trusts: bundles in DSSE envelopes signed by a preflight key of the committed roster (newest by the
 * signed `createdAt`), and records signed (SSHSIG) by the roster person they name. Plus the rules on people: an
 * approval counts only from a leadership role, never from the deployer or the preflight's signer/runner; an override
 * only from a roster incident commander who is not the deployer, bounded in lifetime, never waiving the registry or
 * staging checks, and bound to the release's digests and bundle.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type ApprovalRecord,
  CHECK_IDS,
  type EvidenceBundle,
  type Finding,
  type FreezeRecord,
  type ImageDigests,
  NEVER_WAIVABLE,
  type OverrideRecord,
  serializeBundle,
} from "./model";
import { BUNDLE_SUFFIX, preflightRemedy, stackEvidenceDir } from "./paths";
import { readNewestBundle, type StackRecords } from "./reader";
import { ENVELOPE_SUFFIX, type TrustedKey, verifyEnvelope } from "./signing";
import { hasRole, INCIDENT_COMMANDER_ROLE, recordSignatureProblem, type Roster, rosterPerson } from "./trust";
import { overrideProblem } from "./verifier";

/** The newest signed bundle of a stack that verifies against the trusted keys. */
export type SignedBundleLookup =
  | { readonly status: "missing"; readonly expectedPath: string }
  | { readonly status: "invalid"; readonly path: string; readonly error: string }
  | {
      readonly status: "ok";
      readonly path: string;
      readonly bundle: EvidenceBundle;
      /** The canonical bytes of the predicate (the verifier's byte check then holds by construction). */
      readonly bytes: Buffer;
      /** The trust-list name of the key that signed it. */
      readonly signer: string;
      readonly keyid: string;
      /** Newer envelopes that did not verify, and why (they are reported, never used). */
      readonly rejected: readonly { readonly path: string; readonly error: string }[];
    };

function files(dir: string, suffix: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((n) => n.endsWith(suffix))
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/** The re-run command for a signed bundle. */
export function signedPreflightRemedy(stack: string): string {
  return `${preflightRemedy(stack)} --signing-key <ed25519 key in the trust roster> (or NOVA_SIGNING_KEY_FILE)`;
}

/** Every verified envelope of a stack, newest signed `createdAt` first, and the ones that did not verify. */
export function readSignedBundles(
  evidenceDir: string,
  stack: string,
  trusted: readonly TrustedKey[],
): {
  ok: { path: string; bundle: EvidenceBundle; signer: string; keyid: string }[];
  bad: { path: string; error: string; createdAt?: string }[];
} {
  const ok: { path: string; bundle: EvidenceBundle; signer: string; keyid: string }[] = [];
  const bad: { path: string; error: string; createdAt?: string }[] = [];
  for (const file of files(stackEvidenceDir(evidenceDir, stack), ENVELOPE_SUFFIX)) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      bad.push({ path: file, error: (e as Error).message });
      continue;
    }
    const v = verifyEnvelope(text, trusted);
    if (v.ok) ok.push({ path: file, bundle: v.bundle, signer: v.signer, keyid: v.keyid });
    else
      bad.push({
        path: file,
        error: v.error,
        ...(v.createdAt !== undefined ? { createdAt: v.createdAt } : {}),
      });
  }
  ok.sort((a, b) => Date.parse(b.bundle.createdAt) - Date.parse(a.bundle.createdAt));
  return { ok, bad };
}

/**
 * Finds the newest verified envelope of a stack. Fails closed with the reason when none verifies. `read`: the
 * envelopes already verified against `trusted` (the gate verifies each once per evaluation).
 */
export function readNewestSignedBundle(
  evidenceDir: string,
  stack: string,
  trusted: readonly TrustedKey[],
  read: ReturnType<typeof readSignedBundles> = readSignedBundles(evidenceDir, stack, trusted),
): SignedBundleLookup {
  const ok = read.ok;
  const bad = [...read.bad];
  const newest = ok[0];
  if (newest !== undefined) {
    const t = Date.parse(newest.bundle.createdAt);
    return {
      status: "ok",
      path: newest.path,
      bundle: newest.bundle,
      bytes: Buffer.from(serializeBundle(newest.bundle), "utf8"),
      signer: newest.signer,
      keyid: newest.keyid,
      rejected: bad.filter((b) => b.createdAt === undefined || Date.parse(b.createdAt) > t),
    };
  }
  const firstBad = bad.sort((a, b) => b.path.localeCompare(a.path))[0];
  if (firstBad !== undefined) {
    return { status: "invalid", path: firstBad.path, error: firstBad.error };
  }
  const legacy = files(stackEvidenceDir(evidenceDir, stack), BUNDLE_SUFFIX).sort().at(-1);
  if (legacy !== undefined) {
    return {
      status: "invalid",
      path: legacy,
      error: `it is an unsigned bundle (no ${ENVELOPE_SUFFIX} envelope signed by a key in the trust roster); re-run the preflight with a signing key`,
    };
  }
  return {
    status: "missing",
    expectedPath: `${path.join(stackEvidenceDir(evidenceDir, stack), `<YYYYMMDDTHHMMSSZ>${BUNDLE_SUFFIX}`)} with its signed envelope <YYYYMMDDTHHMMSSZ>${ENVELOPE_SUFFIX}`,
  };
}

/** Findings when a bundle does not hold every check id exactly once. */
export function checkIdFindings(bundle: EvidenceBundle, stack: string): Finding[] {
  const out: Finding[] = [];
  for (const id of CHECK_IDS) {
    const n = bundle.checks.filter((c) => c.id === id).length;
    if (n !== 1) {
      out.push({
        checkId: "bundle",
        message: `The signed bundle holds check "${id}" ${n} times; threshold: every required check exactly once.`,
        remedy: signedPreflightRemedy(stack),
      });
    }
  }
  return out;
}

/** Who acts in a record (the roster name its signature must belong to). */
function actorOf(r: { kind: string } & Record<string, unknown>): string {
  const key =
    r.kind === "freeze"
      ? "declaredBy"
      : r.kind === "approval"
        ? "approvedBy"
        : r.kind === "override"
          ? "incidentCommander"
          : "requestedBy";
  return String(r[key]);
}

/** A record not counted in production, and why. */
export interface RejectedRecord {
  readonly path: string;
  readonly kind: string;
  readonly why: string;
}

/** Why a record file is not signed by `name` of the roster, or undefined (default: {@link recordSignatureProblem}). */
export type RecordSignatureCheck = (file: string, name: string, roster: Roster) => string | undefined;

/** The records whose SSH signature is by the roster person they name; the others with the reason. */
export function signedRecords(
  records: StackRecords,
  roster: Roster,
  check: RecordSignatureCheck = recordSignatureProblem,
): { records: StackRecords; rejected: RejectedRecord[] } {
  const rejected: RejectedRecord[] = [];
  const keep = <T extends { kind: string; path: string }>(list: readonly T[]): T[] =>
    list.filter((r) => {
      const who = actorOf(r);
      const why = check(r.path, who, roster);
      if (why !== undefined) rejected.push({ path: r.path, kind: r.kind, why });
      return why === undefined;
    });
  return {
    records: {
      freezes: keep(records.freezes),
      approvals: keep(records.approvals),
      overrides: keep(records.overrides),
      rollbacks: keep(records.rollbacks),
      invalid: records.invalid,
    },
    rejected,
  };
}

function sameDigests(a: ImageDigests | undefined, b: ImageDigests): boolean {
  return a !== undefined && a.api === b.api && a.worker === b.worker;
}

/** What a production approval or override is judged against. */
export interface ReleaseBinding {
  readonly stack: string;
  readonly release: string;
  readonly digests: ImageDigests;
  /** The newest signed bundle (undefined: none, so nothing can be bound to it). */
  readonly bundle?: { readonly contentSha256: string; readonly ranBy?: string; readonly signer: string };
}

/**
 * Why a (signed) production approval does not count, or undefined when it does. `ignoreExpiry` judges an approval
 * that admitted an earlier release (a rollback target): every rule but its expiry still applies.
 */
export function approvalProblem(
  a: ApprovalRecord,
  roster: Roster,
  approverRoles: readonly string[],
  binding: ReleaseBinding,
  now: Date,
  opts: { readonly ignoreExpiry?: boolean } = {},
): string | undefined {
  if (a.stack !== binding.stack) return `it is for stack ${a.stack}`;
  if (a.release !== binding.release) return `it is for release ${a.release}`;
  if (opts.ignoreExpiry !== true && Date.parse(a.expiresAt) <= now.getTime())
    return `it expired at ${a.expiresAt}`;
  if (Date.parse(a.approvedAt) > now.getTime() + 5 * 60_000)
    return `it is dated in the future (${a.approvedAt})`;
  const person = rosterPerson(roster, a.approvedBy);
  if (person === undefined) return `${a.approvedBy} is not in the committed roster`;
  if (!hasRole(person, approverRoles)) {
    return `${a.approvedBy}'s roster roles [${person.roles.join(", ")}] include no leadership role [${approverRoles.join(", ")}]`;
  }
  if (a.deployer === undefined) return "it names no deployer (--deployer)";
  if (a.deployer === a.approvedBy)
    return `${a.approvedBy} approves their own release (they are the deployer)`;
  if (binding.bundle !== undefined) {
    if (a.approvedBy === binding.bundle.ranBy || a.approvedBy === binding.bundle.signer) {
      return `${a.approvedBy} ran or signed the preflight of this release; the approver must be someone else`;
    }
  }
  return bindingProblem(a, binding);
}

/**
 * Why a (signed) production freeze window does not count, or undefined when it does: declared by a roster person
 * holding one of `roles`, and no longer than `maxDays`.
 */
export function freezeProblem(
  f: FreezeRecord,
  roster: Roster,
  roles: readonly string[],
  maxDays: number,
): string | undefined {
  const person = rosterPerson(roster, f.declaredBy);
  if (person === undefined) return `${f.declaredBy} is not in the committed roster`;
  if (!hasRole(person, roles)) {
    return `${f.declaredBy}'s roster roles [${person.roles.join(", ")}] include no role that may declare a freeze [${roles.join(", ")}]`;
  }
  const days = (Date.parse(f.end) - Date.parse(f.start)) / 86_400_000;
  if (days > maxDays) {
    return `the window lasts ${days.toFixed(1)} days; threshold: at most ${maxDays} days (policy/config/production.json)`;
  }
  return undefined;
}

/** Why a (signed) production override waives nothing, or undefined when it is valid. */
export function productionOverrideProblem(
  o: OverrideRecord,
  roster: Roster,
  maxHours: number,
  binding: ReleaseBinding,
  now: Date,
): string | undefined {
  const basic = overrideProblem(o, binding, now);
  if (basic !== undefined) return basic;
  const person = rosterPerson(roster, o.incidentCommander);
  if (person === undefined) return `incident commander ${o.incidentCommander} is not in the committed roster`;
  if (!hasRole(person, [INCIDENT_COMMANDER_ROLE])) {
    return `${o.incidentCommander} has no ${INCIDENT_COMMANDER_ROLE} role in the committed roster`;
  }
  if (o.deployer === undefined) return "it names no deployer (--deployer)";
  if (o.deployer === o.incidentCommander)
    return `the incident commander ${o.incidentCommander} is the deployer`;
  const forbidden = o.waivedChecks.filter((c) => NEVER_WAIVABLE.includes(c));
  if (forbidden.length > 0) {
    return `it waives ${forbidden.join(", ")}, which no override may waive (${NEVER_WAIVABLE.join(", ")})`;
  }
  const hours = (Date.parse(o.expiresAt) - Date.parse(o.createdAt)) / 3_600_000;
  if (hours > maxHours) {
    return `it is valid for ${hours.toFixed(1)} h; threshold: at most ${maxHours} h (policy/config/production.json)`;
  }
  return bindingProblem(o, binding);
}

/** Why a record is not bound to exactly the digests and the newest signed bundle of the release, or undefined. */
function bindingProblem(
  r: { readonly imageDigests?: ImageDigests; readonly bundleSha256?: string },
  binding: ReleaseBinding,
): string | undefined {
  if (!sameDigests(r.imageDigests, binding.digests))
    return "it is not bound to the digests the stack deploys";
  if (binding.bundle === undefined || r.bundleSha256 !== binding.bundle.contentSha256) {
    return `it is bound to bundle ${r.bundleSha256 ?? "(none)"}, not the newest signed bundle ${binding.bundle?.contentSha256 ?? "(none)"}`;
  }
  return undefined;
}

/**
 * The bundle a new approval or override binds to: the newest bundle signed by a key of the project's committed roster,
 * else (no roster key signed one) the newest signed or plain bundle, with a warning for the caller.
 */
export function bundleToBind(
  evidenceDir: string,
  stack: string,
  trusted: readonly TrustedKey[],
): { bundle?: EvidenceBundle; warning?: string } {
  const signed = readSignedBundles(evidenceDir, stack, trusted).ok[0];
  if (signed !== undefined) return { bundle: signed.bundle };
  const legacy = readNewestBundle(evidenceDir, stack);
  if (legacy.status === "ok") {
    return {
      bundle: legacy.bundle,
      warning: `the newest bundle ${legacy.path} is not signed by a key of the committed roster; production will not accept it`,
    };
  }
  return { warning: `no bundle of stack ${stack} to bind to; run the preflight first` };
}
