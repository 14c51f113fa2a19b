/**
 * The pure readiness verifier: given a bundle lookup, what the stack expects, the time and a file reader, list every
 * reason the stack is not ready. An empty list means ready. Anything unreadable fails closed.
 */
import {
  type ApprovalRecord,
  bundleContentHash,
  type EvidenceBundle,
  type Finding,
  type FreezeRecord,
  type ImageDigests,
  type OverrideRecord,
  serializeBundle,
  NEVER_WAIVABLE,
  sha256,
} from "./model";
import { preflightRemedy } from "./paths";
import { type BundleLookup } from "./reader";

/** What the stack being deployed expects the evidence to be about. */
export interface ExpectedRelease {
  readonly stack: string;
  /** The release id (image tag). */
  readonly release: string;
  readonly digests: ImageDigests;
}

export interface VerifyReadinessInput {
  /** The newest bundle of the stack as returned by `readNewestBundle` (or built in memory by tests). */
  readonly bundle: BundleLookup;
  readonly expected: ExpectedRelease;
  readonly now: Date;
  /** Maximum bundle age in hours (the gate's default is 24). */
  readonly maxAgeHours: number;
  /** Break-glass overrides on record; only valid ones waive, and only the checks they name. */
  readonly override?: OverrideRecord | readonly OverrideRecord[];
  /** Reads an artifact by its project-relative path; `undefined` when it does not exist. */
  readonly readFile: (projectRelativePath: string) => Buffer | undefined;
}

/** Allowed clock skew for bundles and records stamped slightly in the future. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

function asList(o: OverrideRecord | readonly OverrideRecord[] | undefined): readonly OverrideRecord[] {
  if (o === undefined) {
    return [];
  }
  return Array.isArray(o) ? (o as readonly OverrideRecord[]) : [o as OverrideRecord];
}

/** Why an override does not apply to this stack/release/time, or undefined when it is valid. */
export function overrideProblem(
  o: OverrideRecord,
  expected: Omit<ExpectedRelease, "digests">,
  now: Date,
): string | undefined {
  if (o.stack !== expected.stack) {
    return `it is for stack "${o.stack}", not "${expected.stack}"`;
  }
  if (o.release !== expected.release) {
    return `it is for release "${o.release}", not "${expected.release}"`;
  }
  if (Date.parse(o.expiresAt) <= now.getTime()) {
    return `it expired at ${o.expiresAt}`;
  }
  if (Date.parse(o.createdAt) > now.getTime() + CLOCK_SKEW_MS) {
    return `it is dated in the future (${o.createdAt})`;
  }
  return undefined;
}

/** The overrides that are valid now for this stack and release. */
export function activeOverrides(
  overrides: readonly OverrideRecord[],
  expected: Omit<ExpectedRelease, "digests">,
  now: Date,
): OverrideRecord[] {
  return overrides.filter((o) => overrideProblem(o, expected, now) === undefined);
}

/** The freeze windows of a stack that cover `now`. */
export function activeFreezes<T extends FreezeRecord>(freezes: readonly T[], stack: string, now: Date): T[] {
  const t = now.getTime();
  return freezes.filter((f) => f.stack === stack && Date.parse(f.start) <= t && t < Date.parse(f.end));
}

/** Approvals for this stack and release that have not expired (and, when given, by an allowed role). */
export function validApprovals<T extends ApprovalRecord>(
  approvals: readonly T[],
  stack: string,
  release: string,
  now: Date,
  allowedRoles?: readonly string[],
): T[] {
  const t = now.getTime();
  return approvals.filter(
    (a) =>
      a.stack === stack &&
      a.release === release &&
      Date.parse(a.approvedAt) <= t + CLOCK_SKEW_MS &&
      t < Date.parse(a.expiresAt) &&
      // Roles are titles people type ("CTO", "cto"): compared without regard to case.
      (allowedRoles === undefined ||
        allowedRoles.some((r) => r.toLowerCase() === (a.role ?? "").toLowerCase())),
  );
}

function hours(ms: number): string {
  return (ms / 3_600_000).toFixed(1);
}

/** Verifies a bundle against the release being deployed. Returns every finding; empty means ready. */
export function verifyReadiness(input: VerifyReadinessInput): Finding[] {
  const { expected, now, maxAgeHours } = input;
  const remedy = preflightRemedy(expected.stack);
  const lookup = input.bundle;
  if (lookup.status === "missing") {
    return [
      {
        checkId: "bundle",
        message: `No readiness evidence for stack "${expected.stack}": looked for ${lookup.expectedPath} and found none.`,
        remedy,
      },
    ];
  }
  if (lookup.status === "invalid") {
    return [
      {
        checkId: "bundle",
        message: `Evidence bundle ${lookup.path} cannot be used (${lookup.error}); the gate fails closed.`,
        remedy,
      },
    ];
  }
  const findings: Finding[] = [];
  const bundle: EvidenceBundle = lookup.bundle;
  const { contentSha256, ...body } = bundle;
  const recomputed = bundleContentHash(body);
  if (recomputed !== contentSha256) {
    findings.push({
      checkId: "bundle",
      message: `Evidence bundle ${lookup.path} was modified after preflight wrote it: content hash is ${recomputed}, the bundle records ${contentSha256}.`,
      remedy,
    });
  } else if (!Buffer.from(serializeBundle(bundle), "utf8").equals(lookup.bytes)) {
    findings.push({
      checkId: "bundle",
      message: `Evidence bundle ${lookup.path} is not byte-identical to what preflight wrote (hand-edited formatting).`,
      remedy,
    });
  }

  const created = Date.parse(bundle.createdAt);
  const ageMs = now.getTime() - created;
  if (ageMs > maxAgeHours * 3_600_000) {
    findings.push({
      checkId: "fresh",
      message: `Evidence bundle is stale: created ${bundle.createdAt}, ${hours(ageMs)} h old; threshold ${maxAgeHours} h.`,
      remedy,
    });
  } else if (ageMs < -CLOCK_SKEW_MS) {
    findings.push({
      checkId: "fresh",
      message: `Evidence bundle is dated in the future (${bundle.createdAt}); threshold: not after now (${now.toISOString()}).`,
      remedy,
    });
  }
  if (bundle.stack !== expected.stack) {
    findings.push({
      checkId: "stack",
      message: `Evidence bundle is for stack "${bundle.stack}", not "${expected.stack}".`,
      remedy,
    });
  }
  if (bundle.release !== expected.release) {
    findings.push({
      checkId: "release",
      message: `Evidence bundle is for release "${bundle.release}"; the stack deploys release "${expected.release}".`,
      remedy,
    });
  }
  for (const svc of ["api", "worker"] as const) {
    if (bundle.imageDigests[svc] !== expected.digests[svc]) {
      findings.push({
        checkId: "digests",
        message: `Evidence bundle is bound to ${svc} digest ${bundle.imageDigests[svc]}; the stack deploys ${expected.digests[svc]}.`,
        remedy,
      });
    }
  }

  const overrides = asList(input.override);
  const valid = activeOverrides(overrides, expected, now);
  // Registry digests and the staging proof are never waived, whatever an override names.
  const waivedBy = (checkId: string): OverrideRecord | undefined =>
    (NEVER_WAIVABLE as readonly string[]).includes(checkId)
      ? undefined
      : valid.find((o) => (o.waivedChecks as readonly string[]).includes(checkId));

  for (const check of bundle.checks) {
    if (check.artifact !== null) {
      const bytes = input.readFile(check.artifact.path);
      if (bytes === undefined) {
        findings.push({
          checkId: check.id,
          message: `Artifact ${check.artifact.path} of check "${check.id}" is missing; preflight recorded sha256 ${check.artifact.sha256}.`,
          remedy,
        });
      } else {
        const actual = sha256(bytes);
        if (actual !== check.artifact.sha256) {
          findings.push({
            checkId: check.id,
            message: `Artifact ${check.artifact.path} of check "${check.id}" changed since preflight: sha256 ${actual}, recorded ${check.artifact.sha256}.`,
            remedy,
          });
        }
      }
    }
    if (check.verdict === "pass") {
      continue;
    }
    if (waivedBy(check.id) !== undefined) {
      continue;
    }
    const why =
      check.verdict === "waived"
        ? `was waived at preflight but no valid break-glass override for stack "${expected.stack}" release "${expected.release}" names it now`
        : "failed";
    findings.push({
      checkId: check.id,
      message: `Check "${check.id}" (${check.title}) ${why}: found ${check.found}; threshold ${check.threshold}.`,
      remedy: check.remedy,
    });
  }
  return findings;
}

/** Describes why each given override does not waive anything (for advisory output). */
export function describeOverrides(
  overrides: readonly OverrideRecord[],
  expected: Omit<ExpectedRelease, "digests">,
  now: Date,
): string[] {
  return overrides.map((o) => {
    const problem = overrideProblem(o, expected, now);
    return problem === undefined
      ? `Break-glass override by incident commander ${o.incidentCommander} is active until ${o.expiresAt} and waives ${o.waivedChecks.join(", ")} (reason: ${o.reason}).`
      : `Break-glass override by incident commander ${o.incidentCommander} waives nothing: ${problem}.`;
  });
}
