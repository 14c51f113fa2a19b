/**
 * Which break-glass overrides count, by the rules of the stack's class: one implementation for the gate (readiness),
 * the preflight collector (which checks a bundle records as `waived`) and the preflight verdict.
 *
 * - Production, and a sandbox stack whose enforcement names the sandbox roster: the override counts only when its
 *   SSH signature is by the roster person it names, that person holds the incident-commander role and is not the
 *   deployer, it is unexpired and lives at most the committed `overrideMaxHours`, it waives no never-waivable check,
 *   and it is bound to the release's digests and the newest signed bundle (`productionOverrideProblem`).
 * - Any other stack (staging): the override counts when it is for this stack and release and unexpired; it still
 *   never waives a never-waivable check (the verifier and the collector skip those).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type ProductionEnforcement, policyConfigPath, READINESS_GATE_POLICY } from "./enforcement";
import { type Finding, type ImageDigests, type OverrideRecord } from "./model";
import {
  productionOverrideProblem,
  readSignedBundles,
  type RecordSignatureCheck,
  type ReleaseBinding,
} from "./signed";
import {
  isSandboxPath,
  readRosterSource,
  recordSignatureProblem,
  type Roster,
  type RosterSource,
  trustedPreflightKeys,
} from "./trust";
import { type ExpectedRelease, overrideProblem } from "./verifier";

/** The override rules of a stack's class. */
export type OverrideRules =
  | {
      /** Staging (and a sandbox stack without a roster): stack, release and lifetime only. */
      readonly signed: false;
    }
  | {
      /** Production (the committed roster) or a sandbox stack judged against the sandbox roster. */
      readonly signed: true;
      /** The roster, or why it cannot be read (then no override counts). */
      readonly roster: Roster | { readonly error: string };
      /** The longest lifetime of an override, in hours (the committed `overrideMaxHours`). */
      readonly maxHours: number;
      /** The release, digests and newest signed bundle an override must be bound to. */
      readonly binding: ReleaseBinding;
      /** Checks a record's signature (default: `recordSignatureProblem`; the gate passes its memoised check). */
      readonly checkSignature?: RecordSignatureCheck;
    };

/** An override that waives nothing, and why. */
export interface RejectedOverride<T extends OverrideRecord> {
  readonly override: T;
  readonly why: string;
  /** The reason is its signature (missing, or not by the person it names). */
  readonly signature: boolean;
  /** It is for this stack and release and unexpired: it concerns the release now (else it blocks nothing). */
  readonly current: boolean;
}

/** Which overrides count, and which waive nothing. */
export interface OverrideJudgement<T extends OverrideRecord> {
  /** The overrides that may waive the checks they name (never a never-waivable one). */
  readonly counted: T[];
  readonly rejected: RejectedOverride<T>[];
}

type WithPath = OverrideRecord & { readonly path?: string };

/**
 * Judges overrides by the rules of the stack's class. Signed rules: a record whose signature is not by the person it
 * names is rejected whatever its release; one for another release is neither counted nor reported. Unsigned rules: an
 * override for another stack or release, expired or dated in the future is rejected with the reason.
 */
export function judgeOverrides<T extends WithPath>(
  overrides: readonly T[],
  rules: OverrideRules,
  expected: Omit<ExpectedRelease, "digests">,
  now: Date,
): OverrideJudgement<T> {
  const counted: T[] = [];
  const rejected: RejectedOverride<T>[] = [];
  for (const o of overrides) {
    const current =
      o.stack === expected.stack && o.release === expected.release && now.getTime() < Date.parse(o.expiresAt);
    const reject = (why: string, signature: boolean) =>
      rejected.push({ override: o, why, signature, current });
    if (!rules.signed) {
      const why = overrideProblem(o, expected, now);
      if (why === undefined) counted.push(o);
      else reject(why, false);
      continue;
    }
    const roster = rules.roster;
    if ("error" in roster) {
      reject(`no roster to verify it against (${roster.error})`, true);
      continue;
    }
    const unsigned =
      o.path === undefined
        ? "it has no SSH signature (not read from a file)"
        : (rules.checkSignature ?? recordSignatureProblem)(o.path, o.incidentCommander, roster);
    if (unsigned !== undefined) {
      reject(unsigned, true);
      continue;
    }
    if (o.release !== expected.release) continue;
    const why = productionOverrideProblem(o, roster, rules.maxHours, rules.binding, now);
    if (why === undefined) counted.push(o);
    else reject(why, false);
  }
  return { counted, rejected };
}

/** The command that records a break-glass override. */
export function overrideRemedy(stack: string): string {
  return `npm run rollout -- override --stack ${stack} --hotfix --incident-commander <roster incident commander> --deployer <you> --waive <check> --reason "<incident>" --ssh-key <your key>`;
}

/** The findings for overrides that waive nothing: each names the record, why, and how to fix it. */
export function rejectedOverrideFindings(
  rejected: readonly RejectedOverride<WithPath>[],
  projectDir: string,
  stack: string,
): Finding[] {
  return rejected.map((r) => {
    const rel = r.override.path === undefined ? "(in memory)" : path.relative(projectDir, r.override.path);
    return {
      checkId: "override",
      message: `Break-glass override ${rel} waives nothing: ${r.why}.`,
      remedy: r.signature
        ? "sign it: ssh-keygen -Y sign -n nova-rollout -f <your key> <record>"
        : overrideRemedy(stack),
    };
  });
}

/** What a stack is and deploys, for {@link overrideRulesFor}. */
export interface OverrideRulesInput {
  readonly projectDir: string;
  /** Absolute evidence directory. */
  readonly evidenceDir: string;
  readonly stack: string;
  readonly release: string;
  readonly digests: ImageDigests;
  /** The stack is production (by its target or its label), judged against the committed roster. */
  readonly production: boolean;
  /** The stack is judged with the sandbox enforcement (`policy/config/local.json`). */
  readonly sandbox: boolean;
  readonly enforcement: Pick<ProductionEnforcement, "roster" | "overrideMaxHours">;
}

/**
 * The override rules of a stack, bound to the newest bundle on file now that a preflight key of its roster signed
 * (what the gate binds an override to). Production: the committed roster; a sandbox stack: the roster the sandbox
 * enforcement names, when it names one inside `.sandbox/`; any other stack: the unsigned rules.
 */
export function overrideRulesFor(input: OverrideRulesInput): OverrideRules {
  const source: RosterSource | undefined = input.production
    ? { file: "", roster: input.enforcement.roster }
    : input.sandbox
      ? sandboxRosterSource(input.projectDir)
      : undefined;
  if (source === undefined) return { signed: false };
  const roster = source.roster;
  const newest =
    "error" in roster
      ? undefined
      : readSignedBundles(input.evidenceDir, input.stack, trustedPreflightKeys(roster)).ok[0];
  return {
    signed: true,
    roster,
    maxHours: input.enforcement.overrideMaxHours,
    binding: {
      stack: input.stack,
      release: input.release,
      digests: input.digests,
      ...(newest !== undefined
        ? {
            bundle: {
              contentSha256: newest.bundle.contentSha256,
              signer: newest.signer,
              ...(newest.bundle.ranBy !== undefined ? { ranBy: newest.bundle.ranBy } : {}),
            },
          }
        : {}),
    },
  };
}

/** The roster the sandbox enforcement names (`nova-readiness-gate.trustRoster` of `local.json`), inside `.sandbox/`. */
export function sandboxRosterSource(projectDir: string): RosterSource | undefined {
  let configured: unknown;
  try {
    const doc = JSON.parse(fs.readFileSync(policyConfigPath(projectDir, "local"), "utf8")) as Record<
      string,
      { trustRoster?: unknown } | undefined
    >;
    configured = doc[READINESS_GATE_POLICY]?.trustRoster;
  } catch {
    return undefined;
  }
  if (typeof configured !== "string" || !isSandboxPath(projectDir, configured)) return undefined;
  return readRosterSource(path.resolve(projectDir, configured));
}
