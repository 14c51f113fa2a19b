/**
 * The trusted view of one gate evaluation, made once: the stack's records as read, the roster its signatures are
 * judged against, the records whose signatures verify, the signed bundles, the freeze lifts and the rejections. Every
 * part is read and verified at most once, when first asked for; the sections and the rollback decision share it (a
 * view judged as a new release and the one judged as a rollback share one state).
 */
import * as path from "node:path";
import { type Finding, type RollbackRecord } from "../model";
import { readBundles, readNewestBundle, readRecords, type BundleLookup, type StackRecords } from "../reader";
import {
  readNewestSignedBundle,
  readSignedBundles,
  type RecordSignatureCheck,
  type RejectedRecord,
  type ReleaseBinding,
  type SignedBundleLookup,
  signedRecords,
} from "../signed";
import { recordSignatureProblem, type Roster, type RosterSource, trustedPreflightKeys } from "../trust";
import { type FreezeLiftRecord, readPostLaunchRecords } from "../post-launch-records";
import { rejectionFindings } from "../rejections";
import { type GateInput, rel, rolloutCmd } from "./input";

/** Whose keys signed bundles and records are judged against. */
export interface TrustSource {
  /** The roster, or the finding that it cannot be used. */
  readonly roster: Roster | Finding;
  /** How findings name it. */
  readonly label: string;
  /** The committed production roster: the bundle must also have been judged with the committed thresholds. */
  readonly committed: boolean;
}

/** The committed roster, or the finding that it cannot be used (production fails closed). */
export function committedRoster(input: GateInput): Roster | Finding {
  const r = input.enforcement.roster;
  if ("error" in r) {
    return {
      checkId: "trust",
      message: `${r.error}; without the committed trust roster no signature can be trusted and production fails closed.`,
      remedy: "git checkout -- policy/trust/roster.json (people and keys are added by a reviewed commit)",
    };
  }
  return r;
}

function sandboxTrust(input: GateInput, source: RosterSource): TrustSource {
  const file = path.relative(input.projectDir, source.file) || source.file;
  const roster: Roster | Finding =
    "error" in source.roster
      ? {
          checkId: "signature",
          message: `${source.roster.error}; the sandbox enforcement judges bundles against the sandbox roster, which holds throwaway keys made by the sandbox.`,
          remedy: "npm run sandbox:up (creates .sandbox/trust: the sandbox roster and its keys)",
        }
      : source.roster;
  return { roster, label: `the sandbox roster (${file})`, committed: false };
}

/** The trust a stack's signed bundle is judged against: the committed roster (production), the sandbox's, or none. */
function trustOf(input: GateInput): TrustSource | undefined {
  if (input.stackClass.production) {
    return { roster: committedRoster(input), label: "the committed roster", committed: true };
  }
  return input.sandboxRoster !== undefined ? sandboxTrust(input, input.sandboxRoster) : undefined;
}

type SignedBundles = ReturnType<typeof readSignedBundles>;
type Lifts = { lifts: FreezeLiftRecord[]; findings: Finding[] };

/** What one evaluation reads and verifies, each part at most once. */
class TrustState {
  private readonly memo = new Map<string, unknown>();
  private readonly signatures = new Map<string, string | undefined>();
  readonly trust: TrustSource | undefined;

  constructor(readonly input: GateInput) {
    this.trust = trustOf(input);
  }

  once<T>(key: string, make: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, make());
    return this.memo.get(key) as T;
  }

  /** The signature check of a record, verified once per file and signer. */
  readonly checkSignature: RecordSignatureCheck = (file, name, roster) => {
    if (roster !== this.trustRoster()) return recordSignatureProblem(file, name, roster);
    const key = `${file}\u0000${name}`;
    if (!this.signatures.has(key)) this.signatures.set(key, recordSignatureProblem(file, name, roster));
    return this.signatures.get(key);
  };

  trustRoster(): Roster | undefined {
    const r = this.trust?.roster;
    return r === undefined || "checkId" in r ? undefined : r;
  }
}

/** The trusted view of a stack for one evaluation, judged as a new release or as the rollback `rollback`. */
export class GateView {
  private constructor(
    private readonly state: TrustState,
    /** The rollback record the release is judged by; undefined: judged as a new release. */
    readonly rollback: RollbackRecord | undefined,
  ) {}

  /** A new view of `input`, judged as a new release. */
  static of(input: GateInput): GateView {
    return new GateView(new TrustState(input), undefined);
  }

  /** The same view judged by `rollback` (undefined: as a new release). */
  withRollback(rollback: RollbackRecord | undefined): GateView {
    return new GateView(this.state, rollback);
  }

  get input(): GateInput {
    return this.state.input;
  }

  /** The trust signed bundles are judged against; undefined for a stack that needs no signatures. */
  get trust(): TrustSource | undefined {
    return this.state.trust;
  }

  /** The memoised record signature check of this evaluation. */
  get checkSignature(): RecordSignatureCheck {
    return this.state.checkSignature;
  }

  /** The stack's records as read (nothing verified). */
  get records(): StackRecords {
    const input = this.input;
    return this.state.once("records", () => input.records ?? readRecords(input.evidenceDir, input.stack));
  }

  /** Production: the committed roster, or the finding that it cannot be used. Else undefined. */
  get roster(): Roster | Finding | undefined {
    return this.input.stackClass.production ? this.trust?.roster : undefined;
  }

  /** The records signed by the person they name (trust roster), and the others with why; undefined without one. */
  get signed(): { records: StackRecords; rejected: RejectedRecord[] } | undefined {
    return this.state.once("signed", () => {
      const roster = this.state.trustRoster();
      return roster === undefined ? undefined : signedRecords(this.records, roster, this.checkSignature);
    });
  }

  /** Every envelope of the stack verified against the trust roster's preflight keys (once). */
  get signedBundles(): SignedBundles | undefined {
    return this.state.once("signedBundles", () => {
      const roster = this.state.trustRoster();
      return roster === undefined
        ? undefined
        : readSignedBundles(this.input.evidenceDir, this.input.stack, trustedPreflightKeys(roster));
    });
  }

  /** The newest signed bundle (trust roster), or the finding that the roster cannot be used. */
  get newestSigned(): SignedBundleLookup | Finding | undefined {
    return this.state.once("newestSigned", () => {
      const roster = this.trust?.roster;
      if (roster === undefined || "checkId" in roster) return roster;
      const keys = trustedPreflightKeys(roster);
      return readNewestSignedBundle(this.input.evidenceDir, this.input.stack, keys, this.signedBundles);
    });
  }

  /** The unsigned bundles of the stack (a non-production rollback target). */
  get plainBundles(): ReturnType<typeof readBundles> {
    return this.state.once("plainBundles", () => readBundles(this.input.evidenceDir, this.input.stack));
  }

  /** The newest unsigned bundle of the stack. */
  get plainNewest(): BundleLookup {
    return this.state.once("plainNewest", () => readNewestBundle(this.input.evidenceDir, this.input.stack));
  }

  /** Findings for the rejections of the digests the stack deploys (see `../rejections.ts`). */
  get rejections(): Finding[] {
    return this.state.once("rejections", () => rejectionFindings(this.input, this.checkSignature));
  }

  /**
   * Freeze lifts that count (post-launch records): in production only those signed by the roster person they name
   * (`liftedBy`); findings for the others and for unreadable lift files (fail closed, like records).
   */
  get lifts(): Lifts {
    return this.state.once("lifts", () => readLifts(this));
  }
}

function readLifts(view: GateView): Lifts {
  const input = view.input;
  const read = readPostLaunchRecords(input.evidenceDir, input.stack);
  const findings: Finding[] = read.invalid
    .filter((bad) => bad.kind === "freeze-lift" || bad.kind === undefined)
    .map((bad) => ({
      checkId: "records",
      message: `Freeze lift ${rel(input, bad.path)} is unreadable or invalid (${bad.error}); records fail closed.`,
      remedy: `fix or delete it, then lift the freeze again with ${rolloutCmd(`post-launch --stack ${input.stack} --by <you> --ssh-key <your key>`)}`,
    }));
  if (!input.stackClass.production) return { lifts: [...read.lifts], findings };
  const roster = view.roster;
  // Without a roster no freeze counts either (productionRecords reports it): lifts change nothing then.
  if (roster === undefined || "checkId" in roster) return { lifts: [], findings };
  const lifts: FreezeLiftRecord[] = [];
  for (const lift of read.lifts) {
    const why = view.checkSignature(lift.path, lift.liftedBy, roster);
    if (why === undefined) {
      lifts.push(lift);
      continue;
    }
    const file = rel(input, lift.path);
    findings.push({
      checkId: "signature",
      message: `Freeze lift ${file} does not count: ${why}.`,
      remedy: `sign it as the person it names: ssh-keygen -Y sign -n nova-rollout -f <key> ${file} (or delete it and lift again with --ssh-key)`,
    });
  }
  return { lifts, findings };
}

/**
 * Whether a record on file concerns the release the stack deploys now: a freeze window not yet over; an approval,
 * override or rollback record for this release, unexpired. A record that does not count and concerns nothing now
 * (another release, expired) is reported by `recordNotes`, never as a blocking finding.
 */
export function concernsNow(view: GateView, file: string): boolean {
  const { input, records: all } = view;
  const t = input.now.getTime();
  const freeze = all.freezes.find((f) => f.path === file);
  if (freeze !== undefined) return t < Date.parse(freeze.end);
  const r = [...all.approvals, ...all.overrides, ...all.rollbacks].find((x) => x.path === file);
  if (r === undefined) return true;
  const release = input.settings.ok ? input.settings.settings.release : undefined;
  return (release === undefined || r.release === release) && t < Date.parse(r.expiresAt);
}

/** Production records: only those signed by the roster person they name; findings for the others of `kind`. */
export function productionRecords(
  view: GateView,
  kind: string,
): { records: StackRecords; findings: Finding[] } {
  const roster = view.roster;
  const signed = view.signed;
  if (roster === undefined || "checkId" in roster || signed === undefined) {
    const r = view.records;
    return {
      records: { ...r, freezes: [], approvals: [], overrides: [], rollbacks: [] },
      findings: roster !== undefined && "checkId" in roster ? [roster] : [],
    };
  }
  return {
    records: signed.records,
    findings: signed.rejected
      .filter((r) => r.kind === kind && concernsNow(view, r.path))
      .map((r) => ({
        checkId: "signature",
        message: `Record ${rel(view.input, r.path)} does not count: ${r.why}.`,
        remedy: `sign it as the person it names: ssh-keygen -Y sign -n nova-rollout -f <key> ${rel(view.input, r.path)} (or record it again with --ssh-key)`,
      })),
  };
}

/**
 * The newest signed bundle of the stack by the committed roster's preflight keys, or the roster finding (a
 * non-production stack is read against the committed roster too, for the CLI).
 */
export function signedBundleOf(view: GateView): SignedBundleLookup | Finding {
  const newest = view.trust?.committed === true ? view.newestSigned : undefined;
  if (newest !== undefined) return newest;
  const roster = committedRoster(view.input);
  if ("checkId" in roster) return roster;
  return readNewestSignedBundle(view.input.evidenceDir, view.input.stack, trustedPreflightKeys(roster));
}

/** The release binding: deployed release and digests, and the newest signed bundle. */
export function bindingOf(view: GateView, lookup: SignedBundleLookup | Finding): ReleaseBinding | undefined {
  const input = view.input;
  if (!input.settings.ok) return undefined;
  const s = input.settings.settings;
  const ok = "status" in lookup && lookup.status === "ok" ? lookup : undefined;
  return {
    stack: input.stack,
    release: s.release,
    digests: s.digests,
    ...(ok !== undefined
      ? {
          bundle: {
            contentSha256: ok.bundle.contentSha256,
            signer: ok.signer,
            ...(ok.bundle.ranBy !== undefined ? { ranBy: ok.bundle.ranBy } : {}),
          },
        }
      : {}),
  };
}
