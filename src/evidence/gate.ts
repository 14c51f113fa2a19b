/**
 * The one definition of "ready to roll out". The policy pack reports each section under its own policy; the program
 * guard (`index.ts`) runs all of them before a real update of a production stack. Every function here is pure apart
 * from reading the evidence directory, and returns findings (empty = ready); nothing throws for a user mistake.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type ApprovalRecord,
  bundleContentHash,
  type Finding,
  type JudgedWith,
  ROLLBACK_RECORD_MAX_HOURS,
  type RollbackRecord,
  serializeBundle,
  sha256,
} from "./model";
import {
  classifySettings,
  EnforcementConfigError,
  loadProductionEnforcement,
  type GateThresholds,
  type ProductionBaseline,
  type ProductionEnforcement,
  type StackClass,
} from "./enforcement";
import { preflightRemedy, recordsDir } from "./paths";
import { readBundles, readNewestBundle, readRecords, type StackRecords } from "./reader";
import {
  PROJECT_NAME,
  settingsFromConfigMap,
  type EvidenceStackSettings,
  type SettingsResult,
} from "./stack-settings";
import { activeFreezes, validApprovals, verifyReadiness } from "./verifier";
import { projectFileReader } from "./collector";
import {
  approvalProblem,
  checkIdFindings,
  freezeProblem,
  productionOverrideProblem,
  readNewestSignedBundle,
  readSignedBundles,
  type ReleaseBinding,
  type SignedBundleLookup,
  signedPreflightRemedy,
  signedRecords,
} from "./signed";
import {
  hasRole,
  recordSignatureProblem,
  type Roster,
  rosterPerson,
  type RosterSource,
  SANDBOX_PREFLIGHT_KEY,
  trustedPreflightKeys,
} from "./trust";
import { type FreezeLiftRecord, liftedFreezes, readPostLaunchRecords } from "./post-launch-records";
import { rejectionFindings } from "./rejections";
import { readUpdateRequests, updateRequestProblem } from "./update-requests";
import { judgeOverrides, rejectedOverrideFindings } from "./override-rules";

/** The sections of the gate, each reported by one policy of the pack. */
export const GATE_SECTIONS = ["baseline", "readiness", "freeze", "approval"] as const;
export type GateSection = (typeof GATE_SECTIONS)[number];

/** What the gate judges: one stack, its settings, where its evidence is, and what applies to it. */
export interface GateInput {
  readonly stack: string;
  readonly settings: SettingsResult;
  readonly projectDir: string;
  /** Absolute evidence directory. */
  readonly evidenceDir: string;
  readonly enforcement: ProductionEnforcement;
  readonly stackClass: StackClass;
  readonly now: Date;
  /** Maximum bundle age; production always uses the committed value. */
  readonly maxAgeHours?: number;
  /** Roles whose approval counts; production always uses the committed roles. */
  readonly approverRoles?: readonly string[];
  /** Records already read (policies read them once per resource); read from `evidenceDir` when absent. */
  readonly records?: StackRecords;
  /** Judge the release as a new one, ignoring rollback records (see {@link activeRollback}). */
  readonly asNewRelease?: boolean;
  /**
   * The roster a non-production enforcement names (the sandbox's throwaway one, `.sandbox/trust/roster.json`): a
   * sandbox stack's bundle must then be signed by one of its preflight keys, as production's by the committed roster's.
   * Never used for a production stack.
   */
  readonly sandboxRoster?: RosterSource;
}

const rolloutCmd = (rest: string) => `npm run rollout -- ${rest}`;

/** Baseline findings: a production stack keeps the committed registries, secrets, paused CronJobs and evidence dir. */
export function baselineFindings(
  settings: EvidenceStackSettings,
  baseline: ProductionBaseline,
  stackClass: StackClass,
): Finding[] {
  if (!stackClass.production) return [];
  const out: Finding[] = [];
  const set = (key: string, value: string) =>
    `pulumi config set nova-rollout:${key} '${value}' --stack ${settings.stack}`;
  if (stackClass.protectedTargets.length > 0 && settings.environment !== "production") {
    out.push({
      checkId: "environment",
      message: `Stack "${settings.stack}" targets ${stackClass.protectedTargets.join(", ")}, a protected production target, but declares environment ${settings.environment ?? "(unset)"}; production rules and values apply to it.`,
      remedy: set("environment", "production"),
    });
  }
  const registry = settings.imageRegistry;
  if (registry === undefined || !baseline.allowedRegistries.includes(registry)) {
    out.push({
      checkId: "registry",
      message: `Image registry ${registry ?? "(unset)"} is not an allowed production registry; threshold: one of ${baseline.allowedRegistries.join(", ")} (policy/config/production.json).`,
      remedy: set("imageRegistry", baseline.allowedRegistries[0] ?? "<registry>"),
    });
  }
  const missing = (have: readonly string[], need: readonly string[]) => need.filter((n) => !have.includes(n));
  const secrets = missing(settings.requiredSecrets, baseline.requiredSecrets);
  if (secrets.length > 0) {
    out.push({
      checkId: "required-secrets",
      message: `nova-rollout:requiredSecrets leaves out ${secrets.join(", ")}; threshold: production requires ${baseline.requiredSecrets.join(", ")}.`,
      remedy: set("requiredSecrets", JSON.stringify(baseline.requiredSecrets)),
    });
  }
  const jobs = missing(settings.pausedCronJobs, baseline.pausedCronJobs);
  if (jobs.length > 0) {
    out.push({
      checkId: "paused-cronjobs",
      message: `nova-rollout:pausedCronJobs leaves out ${jobs.join(", ")}; threshold: production pauses ${baseline.pausedCronJobs.join(", ")} during the apply.`,
      remedy: set("pausedCronJobs", JSON.stringify([...new Set([...settings.pausedCronJobs, ...jobs])])),
    });
  }
  if (path.normalize(settings.evidenceDir) !== path.normalize(baseline.evidenceDir)) {
    out.push({
      checkId: "evidence-dir",
      message: `nova-rollout:evidenceDir is ${settings.evidenceDir}; threshold: production evidence lives in ${baseline.evidenceDir}.`,
      remedy: `pulumi config rm nova-rollout:evidenceDir --stack ${settings.stack}`,
    });
  }
  return out;
}

/** Findings for thresholds a bundle was judged with that are weaker than the committed ones. */
export function weakenedThresholdFindings(
  judged: JudgedWith,
  createdAt: string,
  thresholds: GateThresholds,
  stack: string,
  allowedRegistries?: readonly string[],
): Finding[] {
  const out: Finding[] = [];
  const remedy = `${preflightRemedy(stack)} (without options that lower thresholds)`;
  const weak = (what: string, used: string, required: string) =>
    out.push({
      checkId: "thresholds",
      message: `The bundle was judged with a weakened threshold: ${what} ${used}; the committed policy requires ${required}.`,
      remedy,
    });
  for (const k of ["statements", "branches", "functions", "lines"] as const) {
    if (judged.coverage[k] < thresholds.coverage[k]) {
      weak(`coverage ${k} >=`, `${judged.coverage[k]}%`, `>= ${thresholds.coverage[k]}%`);
    }
  }
  if (judged.drillMaxAgeDays > thresholds.drillMaxAgeDays) {
    weak("billing drill max age", `${judged.drillMaxAgeDays} days`, `<= ${thresholds.drillMaxAgeDays} days`);
  }
  if (judged.stagingMaxAgeHours > thresholds.stagingMaxAgeHours) {
    weak("staging update max age", `${judged.stagingMaxAgeHours} h`, `<= ${thresholds.stagingMaxAgeHours} h`);
  }
  if (judged.sampleDataMaxAgeDays > thresholds.sampleDataMaxAgeDays) {
    weak(
      "sample-data max age",
      `${judged.sampleDataMaxAgeDays} days`,
      `<= ${thresholds.sampleDataMaxAgeDays} days`,
    );
  }
  if (judged.stagingStack !== thresholds.stagingStack) {
    weak("staging stack", `"${judged.stagingStack}"`, `"${thresholds.stagingStack}"`);
  }
  const cutLimit = Date.parse(createdAt) - thresholds.releaseCutMaxAgeDays * 86_400_000;
  if (judged.releaseCut !== null && Date.parse(judged.releaseCut) < cutLimit) {
    weak(
      "release cut",
      judged.releaseCut,
      `a release cut at most ${thresholds.releaseCutMaxAgeDays} days before the preflight`,
    );
  }
  if (
    allowedRegistries !== undefined &&
    (judged.imageRegistry === null || !allowedRegistries.includes(judged.imageRegistry))
  ) {
    weak("registry", judged.imageRegistry ?? "(none)", `one of ${allowedRegistries.join(", ")}`);
  }
  return out;
}

function recordsOf(input: GateInput): StackRecords {
  return input.records ?? readRecords(input.evidenceDir, input.stack);
}

/** The readiness section: the newest bundle verified, and (production) judged with the committed thresholds. */
export function readinessFindings(input: GateInput): Finding[] {
  const remedy = preflightRemedy(input.stack);
  if (!input.settings.ok) {
    return [
      {
        checkId: "release",
        message: `Cannot determine the release this stack deploys (${input.settings.problems.join("; ")}); the gate fails closed.`,
        remedy: `pulumi config set nova-rollout:imageTag <tag> --stack ${input.stack} (and the digests), then ${remedy}`,
      },
    ];
  }
  const s = input.settings.settings;
  // Digests whose verification failed on this stack stay refused until new ones or a recorded retry.
  const rejected = rejectionFindings(input);
  if (rejected.length > 0) return rejected;
  const rollback = activeRollback(input);
  if (rollback !== undefined) return rollbackFindings(input, rollback);
  const production = input.stackClass.production;
  const thresholds = input.enforcement.thresholds;
  const maxAgeHours = production ? thresholds.maxAgeHours : (input.maxAgeHours ?? thresholds.maxAgeHours);
  if (production) return signedReadinessFindings(input, maxAgeHours, committedTrust(input));
  if (input.sandboxRoster !== undefined)
    return signedReadinessFindings(input, maxAgeHours, sandboxTrust(input, input.sandboxRoster));
  const lookup = readNewestBundle(input.evidenceDir, input.stack);
  const findings = verifyReadiness({
    bundle: lookup,
    expected: { stack: input.stack, release: s.release, digests: s.digests },
    now: input.now,
    maxAgeHours,
    override: recordsOf(input).overrides,
    readFile: projectFileReader(input.projectDir),
  });
  if (production && lookup.status === "ok") {
    findings.push(
      ...weakenedThresholdFindings(
        lookup.bundle.judgedWith,
        lookup.bundle.createdAt,
        thresholds,
        input.stack,
        input.enforcement.baseline.allowedRegistries,
      ),
    );
  }
  return findings;
}

/** Whose keys a signed bundle is judged against. */
interface TrustSource {
  /** The roster, or the finding that it cannot be used. */
  readonly roster: Roster | Finding;
  /** How findings name it. */
  readonly label: string;
  /** The committed production roster: the bundle must also have been judged with the committed thresholds. */
  readonly committed: boolean;
}

function committedTrust(input: GateInput): TrustSource {
  return { roster: rosterOf(input), label: "the committed roster", committed: true };
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

/** The committed roster, or the finding that it cannot be used (production fails closed). */
function rosterOf(input: GateInput): Roster | Finding {
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

/** The newest signed bundle of a production stack (the roster's preflight keys), or the roster finding. */
export function signedBundleOf(input: GateInput): SignedBundleLookup | Finding {
  const roster = rosterOf(input);
  if ("checkId" in roster) return roster;
  return readNewestSignedBundle(input.evidenceDir, input.stack, trustedPreflightKeys(roster));
}

/** The release binding of a production stack: deployed release and digests, and the newest signed bundle. */
function bindingOf(input: GateInput, lookup: SignedBundleLookup | Finding): ReleaseBinding | undefined {
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

/**
 * Signed readiness (production, or a sandbox stack whose enforcement names a roster): the newest bundle signed by a
 * preflight key of the roster, then the usual verification; a production bundle also against the committed thresholds.
 */
function signedReadinessFindings(input: GateInput, maxAgeHours: number, trust: TrustSource): Finding[] {
  if (!input.settings.ok) return [];
  const s = input.settings.settings;
  const remedy = trust.committed
    ? signedPreflightRemedy(input.stack)
    : `${preflightRemedy(input.stack)} (signs with ${SANDBOX_PREFLIGHT_KEY} by default)`;
  const roster = trust.roster;
  if ("checkId" in roster) return [roster];
  const lookup = readNewestSignedBundle(input.evidenceDir, input.stack, trustedPreflightKeys(roster));
  if (lookup.status === "invalid") {
    return [
      {
        checkId: "signature",
        message: `Evidence bundle ${path.relative(input.projectDir, lookup.path)} is not accepted: ${lookup.error}; the gate trusts only bundles signed by a preflight key of ${trust.label}.`,
        remedy,
      },
    ];
  }
  if (lookup.status === "missing") {
    return [
      {
        checkId: "bundle",
        message: `No readiness evidence for stack "${input.stack}": looked for ${lookup.expectedPath} and found none.`,
        remedy,
      },
    ];
  }
  const findings: Finding[] = lookup.rejected.map((r) => ({
    checkId: "signature",
    message: `Evidence bundle ${path.relative(input.projectDir, r.path)} is not accepted: ${r.error}; the gate trusts only bundles signed by a preflight key of ${trust.label}.`,
    remedy: `remove it, then ${remedy}`,
  }));
  findings.push(...checkIdFindings(lookup.bundle, input.stack));
  const { rejected } = signedRecords(recordsOf(input), roster);
  const binding = bindingOf(input, lookup);
  // The override rules of the stack's class, shared with the preflight (src/evidence/override-rules.ts).
  const judged =
    binding === undefined
      ? { counted: [], rejected: [] }
      : judgeOverrides(
          recordsOf(input).overrides,
          { signed: true, roster, maxHours: input.enforcement.overrideMaxHours, binding },
          { stack: input.stack, release: s.release },
          input.now,
        );
  const validOverrides = judged.counted;
  // Why overrides and rollback records on file change nothing: explanations, reported only when the release is not
  // ready without them (an expired one concerns no release any more: `status` lists it, it blocks nothing).
  const explanations: Finding[] = [];
  explanations.push(
    ...rejectedOverrideFindings(
      judged.rejected.filter((r) => concernsNow(input, r.override.path)),
      input.projectDir,
      input.stack,
    ),
  );
  for (const r of rejected.filter((x) => x.kind === "rollback" && concernsNow(input, x.path))) {
    explanations.push({
      checkId: "rollback",
      message: `Rollback record ${path.relative(input.projectDir, r.path)} admits nothing: ${r.why}.`,
      remedy: `sign it as the person it names: ssh-keygen -Y sign -n nova-rollout -f <key> ${path.relative(input.projectDir, r.path)}`,
    });
  }
  findings.push(
    ...verifyReadiness({
      bundle: { status: "ok", path: lookup.path, bundle: lookup.bundle, bytes: lookup.bytes },
      expected: { stack: input.stack, release: s.release, digests: s.digests },
      now: input.now,
      maxAgeHours,
      override: validOverrides,
      readFile: projectFileReader(input.projectDir),
    }).map((f) => (f.remedy === preflightRemedy(input.stack) ? { ...f, remedy } : f)),
    ...(trust.committed
      ? weakenedThresholdFindings(
          lookup.bundle.judgedWith,
          lookup.bundle.createdAt,
          input.enforcement.thresholds,
          input.stack,
          input.enforcement.baseline.allowedRegistries,
        )
      : []),
  );
  return findings.length > 0 ? [...explanations, ...findings] : [];
}

/**
 * Whether a record on file concerns the release the stack deploys now: a freeze window not yet over; an approval,
 * override or rollback record for this release, unexpired. A record that does not count and concerns nothing now
 * (another release, expired) is reported by {@link recordNotes}, never as a blocking finding.
 */
function concernsNow(input: GateInput, file: string): boolean {
  const all = recordsOf(input);
  const t = input.now.getTime();
  const freeze = all.freezes.find((f) => f.path === file);
  if (freeze !== undefined) return t < Date.parse(freeze.end);
  const r = [...all.approvals, ...all.overrides, ...all.rollbacks].find((x) => x.path === file);
  if (r === undefined) return true;
  const release = input.settings.ok ? input.settings.settings.release : undefined;
  return (release === undefined || r.release === release) && t < Date.parse(r.expiresAt);
}

/**
 * Advisory lines: production records that do not count but concern no release now (another release, expired), and
 * freeze windows that do not count while another one does. They never block; `rollout status` shows them.
 */
export function recordNotes(input: GateInput): string[] {
  if (!input.stackClass.production) return [];
  const roster = rosterOf(input);
  if ("checkId" in roster) return [];
  const rel = (f: string) => path.relative(input.projectDir, f);
  const { records, rejected } = signedRecords(recordsOf(input), roster);
  const notes = rejected
    .filter((r) => !concernsNow(input, r.path))
    .map((r) => `${r.kind} record ${rel(r.path)} does not count (${r.why}); it concerns no release now.`);
  for (const f of records.freezes) {
    const why = freezeProblem(f, roster, input.enforcement.freezeRoles, input.enforcement.freezeMaxDays);
    if (why !== undefined) notes.push(`freeze record ${rel(f.path)} does not count: ${why}.`);
  }
  return notes;
}

/** Production records: only those signed by the roster person they name; findings for the others. */
function productionRecords(input: GateInput, kind: string): { records: StackRecords; findings: Finding[] } {
  const roster = rosterOf(input);
  if ("checkId" in roster) {
    const r = recordsOf(input);
    return {
      records: { ...r, freezes: [], approvals: [], overrides: [], rollbacks: [] },
      findings: [roster],
    };
  }
  const { records, rejected } = signedRecords(recordsOf(input), roster);
  return {
    records,
    findings: rejected
      .filter((r) => r.kind === kind && concernsNow(input, r.path))
      .map((r) => ({
        checkId: "signature",
        message: `Record ${path.relative(input.projectDir, r.path)} does not count: ${r.why}.`,
        remedy: `sign it as the person it names: ssh-keygen -Y sign -n nova-rollout -f <key> ${path.relative(input.projectDir, r.path)} (or record it again with --ssh-key)`,
      })),
  };
}

/**
 * Freeze lifts that count for a stack (post-launch records): in production only those signed by the roster person
 * they name (`liftedBy`); findings for the others and for unreadable lift files (fail closed, like records).
 */
export function freezeLiftsOf(input: GateInput): { lifts: FreezeLiftRecord[]; findings: Finding[] } {
  const read = readPostLaunchRecords(input.evidenceDir, input.stack);
  const findings: Finding[] = read.invalid
    .filter((bad) => bad.kind === "freeze-lift" || bad.kind === undefined)
    .map((bad) => ({
      checkId: "records",
      message: `Freeze lift ${path.relative(input.projectDir, bad.path)} is unreadable or invalid (${bad.error}); records fail closed.`,
      remedy: `fix or delete it, then lift the freeze again with ${rolloutCmd(`post-launch --stack ${input.stack} --by <you> --ssh-key <your key>`)}`,
    }));
  if (!input.stackClass.production) return { lifts: [...read.lifts], findings };
  const roster = rosterOf(input);
  // Without a roster no freeze counts either (productionRecords reports it): lifts change nothing then.
  if ("checkId" in roster) return { lifts: [], findings };
  const lifts: FreezeLiftRecord[] = [];
  for (const lift of read.lifts) {
    const why = recordSignatureProblem(lift.path, lift.liftedBy, roster);
    if (why === undefined) {
      lifts.push(lift);
      continue;
    }
    const rel = path.relative(input.projectDir, lift.path);
    findings.push({
      checkId: "signature",
      message: `Freeze lift ${rel} does not count: ${why}.`,
      remedy: `sign it as the person it names: ssh-keygen -Y sign -n nova-rollout -f <key> ${rel} (or delete it and lift again with --ssh-key)`,
    });
  }
  return { lifts, findings };
}

/**
 * The freeze section: production rolls out only inside an active change-freeze window on record. A window named by a
 * freeze lift (`rollout post-launch`) ends at the lift.
 */
export function freezeFindings(input: GateInput, environments?: readonly string[]): Finding[] {
  // A rollback to a release that already ran is not a change the freeze is meant to stop.
  if (!appliesTo(input, environments) || activeRollback(input) !== undefined) return [];
  const signed = input.stackClass.production ? productionRecords(input, "freeze") : undefined;
  const records = signed?.records ?? recordsOf(input);
  const lifted = freezeLiftsOf(input);
  const out: Finding[] = [...invalidRecordFindings(input, records), ...lifted.findings];
  // Production: a window counts only when declared by a role allowed to and no longer than the committed maximum.
  const roster = input.stackClass.production ? rosterOf(input) : undefined;
  const judged = records.freezes.map((f) => ({
    f,
    why:
      roster === undefined || "checkId" in roster
        ? undefined
        : freezeProblem(f, roster, input.enforcement.freezeRoles, input.enforcement.freezeMaxDays),
  }));
  const windows = liftedFreezes(
    judged.filter((j) => j.why === undefined).map((j) => j.f),
    lifted.lifts,
  );
  if (activeFreezes(windows, input.stack, input.now).length === 0) {
    // Why windows on file do not count: reported only while no window counts.
    out.push(...(signed?.findings ?? []));
    for (const { f, why } of judged) {
      if (why === undefined || !concernsNow(input, f.path)) continue;
      out.push({
        checkId: "freeze",
        message: `Freeze window ${path.relative(input.projectDir, f.path)} declared by ${f.declaredBy} does not count: ${why}.`,
        remedy: rolloutCmd(
          `freeze --stack ${input.stack} --end <ISO, at most ${input.enforcement.freezeMaxDays} days after the start> --reason "<why>" --declared-by <roster ${input.enforcement.freezeRoles.join("/")}> --ssh-key <their key>`,
        ),
      });
    }
    const latest = [...windows].sort((a, b) => Date.parse(b.end) - Date.parse(a.end))[0];
    const window =
      latest === undefined
        ? "no freeze record"
        : latest.liftedAt !== undefined
          ? `latest window ${latest.start} – ${latest.declaredEnd ?? latest.end}, lifted at ${latest.liftedAt} by ${latest.liftedBy ?? "?"}`
          : `latest window ${latest.start} – ${latest.end}`;
    const seen = `${window} in ${path.relative(input.projectDir, recordsDir(input.evidenceDir, input.stack))}`;
    out.push({
      checkId: "freeze",
      message: `No active change-freeze window for stack ${input.stack} at ${input.now.toISOString()} (found: ${seen}); threshold: a window with start <= now < end, not lifted.`,
      remedy: rolloutCmd(
        `freeze --stack ${input.stack} --start <ISO> --end <ISO> --reason "<why>" --declared-by <you>`,
      ),
    });
  }
  return out;
}

/** The approval section: an unexpired leadership approval for this stack and release. */
export function approvalFindings(input: GateInput, environments?: readonly string[]): Finding[] {
  // A rollback is admitted by what admitted the release it restores, approval included.
  if (!appliesTo(input, environments) || activeRollback(input) !== undefined) return [];
  if (!input.settings.ok) {
    return [
      {
        checkId: "approval",
        message: `Cannot determine the release of stack ${input.stack} (${input.settings.problems.join("; ")}); approvals are per release.`,
        remedy: `pulumi config set nova-rollout:imageTag <tag> --stack ${input.stack}`,
      },
    ];
  }
  const release = input.settings.settings.release;
  const roles = input.stackClass.production
    ? input.enforcement.approverRoles
    : (input.approverRoles ?? input.enforcement.approverRoles);
  if (input.stackClass.production) return productionApprovalFindings(input, release, roles);
  const records = recordsOf(input);
  if (validApprovals(records.approvals, input.stack, release, input.now, roles).length > 0) return [];
  const forRelease = records.approvals.filter((a) => a.release === release);
  const seen =
    forRelease.length === 0
      ? `no approval for release ${release}`
      : forRelease.map((a) => `${a.approvedBy} (${a.role ?? "no role"}) expires ${a.expiresAt}`).join(", ");
  return [
    {
      checkId: "approval",
      message: `No valid leadership approval for stack ${input.stack} release ${release} at ${input.now.toISOString()} (found: ${seen}); threshold: unexpired, role in [${roles.join(", ")}].`,
      remedy: rolloutCmd(
        `approve --stack ${input.stack} --release ${release} --approved-by <name> --role <role> --expires-in-hours 24`,
      ),
    },
  ];
}

/** The production approval that counts (signed, roster leadership, not the deployer or preflight, bound). */
export function countingApproval(input: GateInput): {
  approval?: ApprovalRecord & { path: string };
  findings: Finding[];
} {
  const roles = input.enforcement.approverRoles;
  const { records, findings } = productionRecords(input, "approval");
  const roster = rosterOf(input);
  if ("checkId" in roster) return { findings };
  const binding = bindingOf(input, signedBundleOf(input));
  if (binding === undefined) return { findings };
  const forRelease = records.approvals.filter(
    (a) => a.release === binding.release && a.stack === input.stack,
  );
  const problems = forRelease.map((a) => ({ a, why: approvalProblem(a, roster, roles, binding, input.now) }));
  const ok = problems.find((p) => p.why === undefined)?.a;
  if (ok !== undefined) return { approval: ok, findings: [] };
  return {
    findings: [
      ...findings,
      ...problems.map((p) => ({
        checkId: "approval",
        message: `Approval ${path.relative(input.projectDir, p.a.path)} by ${p.a.approvedBy} does not count: ${p.why ?? ""}.`,
        remedy: approveRemedy(input.stack, binding.release),
      })),
    ],
  };
}

function approveRemedy(stack: string, release: string): string {
  return rolloutCmd(
    `approve --stack ${stack} --release ${release} --approved-by <roster leadership name> --deployer <who runs the release> --ssh-key <your key> --expires-in-hours 24`,
  );
}

function productionApprovalFindings(input: GateInput, release: string, roles: readonly string[]): Finding[] {
  const { approval, findings } = countingApproval(input);
  if (approval !== undefined) return [];
  return [
    ...findings,
    {
      checkId: "approval",
      message: `No valid leadership approval for stack ${input.stack} release ${release} at ${input.now.toISOString()}; threshold: unexpired, signed by a roster member with a role in [${roles.join(", ")}] who is neither the deployer nor the preflight's runner, bound to both digests and the newest signed bundle.`,
      remedy: approveRemedy(input.stack, release),
    },
  ];
}

function invalidRecordFindings(input: GateInput, records: StackRecords): Finding[] {
  return records.invalid.map((bad) => ({
    checkId: "records",
    message: `Record ${path.relative(input.projectDir, bad.path)} is unreadable or invalid (${bad.error}); records fail closed.`,
    remedy: `fix or delete it, then record it again with ${rolloutCmd(`freeze|approve --stack ${input.stack} …`)}`,
  }));
}

/** Whether a production-only section applies: always for production stacks, else when the environment is listed. */
function appliesTo(input: GateInput, environments: readonly string[] | undefined): boolean {
  if (input.stackClass.production) return true;
  const env = input.settings.ok ? input.settings.settings.environment : undefined;
  return environments !== undefined && env !== undefined && environments.includes(env);
}

/** Every section of the gate for one stack. */
export function evaluateGate(input: GateInput): Record<GateSection, Finding[]> {
  const withRecords: GateInput = { ...input, records: recordsOf(input) };
  return {
    baseline: input.settings.ok
      ? baselineFindings(input.settings.settings, input.enforcement.baseline, input.stackClass)
      : [],
    readiness: readinessFindings(withRecords),
    freeze: freezeFindings(withRecords),
    approval: approvalFindings(withRecords),
  };
}

/** Renders findings as a checklist: each finding once, with its fix. */
export function formatFindings(header: string, findings: readonly Finding[]): string {
  const lines = findings.map((f, i) => `  ${i + 1}. [${f.checkId}] ${f.message}\n     fix: ${f.remedy}`);
  return [header, ...lines].join("\n");
}

/**
 * The update request, checked where a real update starts (the program guard, {@link gateForStack}; a preview needs
 * none): a production release rolls out only when the deployer its approval names has presented a signed request for
 * exactly this release, at most `updateRequestMaxAgeMinutes` old. A rollback's own signed record is its request.
 */
export function updateRequestFindings(input: GateInput): Finding[] {
  if (!input.stackClass.production || !input.settings.ok || activeRollback(input) !== undefined) return [];
  const roster = rosterOf(input);
  // Without a roster, a counting approval or a release binding, the other sections already block.
  if ("checkId" in roster) return [];
  const approval = countingApproval(input).approval;
  const binding = bindingOf(input, signedBundleOf(input));
  if (approval === undefined || binding === undefined) return [];
  const max = input.enforcement.updateRequestMaxAgeMinutes;
  const judged = readUpdateRequests(input.evidenceDir, input.stack)
    .requests.filter((r) => r.release === binding.release)
    .map((r) => ({ r, why: updateRequestProblem(r, roster, approval, binding, input.now, max) }));
  if (judged.some((j) => j.why === undefined)) return [];
  const seen =
    judged.length === 0
      ? "none for this release"
      : judged
          .map((j) => `${path.relative(input.projectDir, j.r.path)} by ${j.r.requestedBy}: ${j.why ?? ""}`)
          .join("; ");
  const deployer = approval.deployer ?? "<the approval's deployer>";
  return [
    {
      checkId: "update-request",
      message: `No signed update request by ${deployer}, the deployer the approval by ${approval.approvedBy} names, for stack ${input.stack} release ${binding.release} (found: ${seen}); threshold: signed with ${deployer}'s roster key, at most ${max} min old, bound to both digests and the newest signed bundle.`,
      remedy: rolloutCmd(
        `up --stack ${input.stack} --as ${deployer} --ssh-key <their key> (before a plain pulumi up: ${rolloutCmd(`request-update --stack ${input.stack} --as ${deployer} --ssh-key <their key>`)})`,
      ),
    },
  ];
}

/** The verdict of the program guard for one stack. */
export interface StackGateVerdict {
  readonly stackClass: StackClass;
  /** Every finding, each once, in section order; empty = ready (or not production). */
  readonly findings: readonly Finding[];
  /** Records that do not count but block nothing (another release, expired); see {@link recordNotes}. */
  readonly advisories: readonly string[];
}

/**
 * The program guard's view of the gate: from the stack config the engine gave the program, decide whether the stack
 * is production and, if so, every reason it is not ready. The committed enforcement missing or broken makes every
 * stack production with that one finding (fail closed).
 */
export function gateForStack(opts: {
  readonly stack: string;
  /** The flat `nova-rollout:<key>` config map of the stack. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly projectDir: string;
  readonly now: Date;
}): StackGateVerdict {
  const input = gateInputFor(opts);
  if ("enforcementError" in input) {
    return {
      stackClass: { production: true, protectedTargets: [] },
      findings: [
        {
          checkId: "enforcement",
          message: `${input.enforcementError}; every stack counts as production until it is restored.`,
          remedy: "git checkout -- policy/config/production.json",
        },
      ],
      advisories: [],
    };
  }
  if (!input.stackClass.production) return { stackClass: input.stackClass, findings: [], advisories: [] };
  const withRecords: GateInput = { ...input, records: recordsOf(input) };
  const sections = evaluateGate(withRecords);
  return {
    stackClass: input.stackClass,
    findings: [
      ...GATE_SECTIONS.flatMap((s) => sections[s]),
      ...updateRequestFindings(withRecords),
      ...rollbackOfFindings(withRecords, opts.config),
    ],
    advisories: recordNotes(withRecords),
  };
}

/**
 * `nova-rollout:rollbackOf` makes the program skip the database dump and the migration rehearsal. On a production
 * stack it counts only for the rollback it was written for: an admitted rollback record for exactly the release and
 * digests the stack deploys. Set by hand on a new release, it would skip the dump taken before every release.
 */
function rollbackOfFindings(input: GateInput, config: Readonly<Record<string, unknown>>): Finding[] {
  const value = config[`${PROJECT_NAME}:rollbackOf`];
  if (typeof value !== "string" || value === "") return [];
  if (activeRollback(input) !== undefined) return [];
  return [
    {
      checkId: "rollback-of",
      message: `nova-rollout:rollbackOf is set (${value}) but no admitted rollback record is on file for this release and digests; only \`rollout rollback\` sets it, for its own update, and a release with it would skip the database dump.`,
      remedy: `pulumi config rm nova-rollout:rollbackOf --stack ${input.stack}`,
    },
  ];
}

/**
 * The gate input of a stack from its flat config map (the engine's, or its stack file's): settings through the
 * program's schema, the committed enforcement and the stack's class. Returns the enforcement error when the committed
 * enforcement cannot be read.
 */
export function gateInputFor(opts: {
  readonly stack: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly projectDir: string;
  readonly now: Date;
}): GateInput | { readonly enforcementError: string } {
  let enforcement: ProductionEnforcement;
  try {
    enforcement = loadProductionEnforcement(opts.projectDir);
  } catch (e) {
    if (!(e instanceof EnforcementConfigError)) throw e;
    return { enforcementError: e.message };
  }
  const settings = settingsFromConfigMap(opts.stack, opts.config, "the stack config", opts.projectDir);
  const stackClass = classifySettings(settings, opts.projectDir, enforcement);
  const evidenceDir = path.resolve(
    opts.projectDir,
    settings.ok ? settings.settings.evidenceDir : enforcement.baseline.evidenceDir,
  );
  return {
    stack: opts.stack,
    settings,
    projectDir: opts.projectDir,
    evidenceDir,
    enforcement,
    stackClass,
    now: opts.now,
  };
}

const chosenRollbacks = new WeakMap<GateInput, RollbackRecord | null>();

/**
 * The rollback record the gate judges the stack by, if any: a record on file for the release the stack now deploys
 * (see {@link rollbackRecordsOf}), one that admits it when there is such a record. When none admits it (its bundle or
 * approval gone or altered, a requester without a rollback role) but the release is ready as a new one (fresh bundle,
 * freeze, approval), the records are set aside: the stricter path admits it, so the relaxed one never blocks a release
 * that passes on its own.
 */
export function activeRollback(input: GateInput): RollbackRecord | undefined {
  if (input.asNewRelease === true) return undefined;
  const cached = chosenRollbacks.get(input);
  if (cached !== undefined) return cached ?? undefined;
  const candidates = rollbackRecordsOf(input);
  let chosen = candidates.find((r) => rollbackFindings(input, r).length === 0) ?? candidates[0];
  if (chosen !== undefined && rollbackFindings(input, chosen).length > 0) {
    const asNew = evaluateGate({ ...input, asNewRelease: true });
    if (GATE_SECTIONS.every((section) => asNew[section].length === 0)) chosen = undefined;
  }
  chosenRollbacks.set(input, chosen ?? null);
  return chosen;
}

/**
 * The rollback records on file for the release the stack now deploys: same stack, release and both digests, created
 * (within clock skew) before now, unexpired, and no longer-lived than ROLLBACK_RECORD_MAX_HOURS. In production only
 * records signed by the person they name.
 */
function rollbackRecordsOf(input: GateInput): RollbackRecord[] {
  if (!input.settings.ok) return [];
  const s = input.settings.settings;
  const t = input.now.getTime();
  const rollbacks = input.stackClass.production
    ? productionRecords(input, "rollback").records.rollbacks
    : recordsOf(input).rollbacks;
  return rollbacks.filter(
    (r) =>
      r.stack === input.stack &&
      r.release === s.release &&
      r.imageDigests.api === s.digests.api &&
      r.imageDigests.worker === s.digests.worker &&
      Date.parse(r.createdAt) <= t + 5 * 60_000 &&
      t < Date.parse(r.expiresAt) &&
      Date.parse(r.expiresAt) - Date.parse(r.createdAt) <= ROLLBACK_RECORD_MAX_HOURS * 3_600_000,
  );
}

/**
 * Readiness of a rollback: the bundle that admitted the restored release still exists, is intact (content hash and
 * bytes as preflight wrote them), belongs to this stack and is bound to exactly the digests being restored, and every
 * check in it passed then. In production also: the requester holds a role allowed to roll back; the approval that
 * admitted the release (named by the record) is still on file, signed by a leader and, expiry aside, valid and bound
 * to the same bundle and digests; a `waived` check is accepted only while its override still verifies. Freshness, the
 * freeze and a new approval are not required.
 */
export function rollbackFindings(input: GateInput, record: RollbackRecord): Finding[] {
  const remedy = `npm run rollout -- rollback --stack ${input.stack} --to <version> (a target whose admission is intact)`;
  const roster = input.stackClass.production ? rosterOf(input) : undefined;
  if (roster !== undefined && "checkId" in roster) return [roster];
  const found =
    roster !== undefined
      ? readSignedBundles(input.evidenceDir, input.stack, trustedPreflightKeys(roster))
          .ok.map((b) => ({ ...b, bytes: Buffer.from(serializeBundle(b.bundle), "utf8") }))
          .find((b) => b.bundle.contentSha256 === record.bundleSha256)
      : readBundles(input.evidenceDir, input.stack).find(
          (b) => b.bundle.contentSha256 === record.bundleSha256,
        );
  const out: Finding[] = roster !== undefined ? rollbackPeopleFindings(input, record, roster) : [];
  if (found === undefined) {
    return [
      ...out,
      {
        checkId: "rollback",
        message: `The bundle sha256:${record.bundleSha256} that admitted release ${record.release} (update ${record.targetVersion}) is not in ${path.relative(input.projectDir, input.evidenceDir)}/${input.stack}; a rollback is admitted only by the intact bundle of the release it restores.`,
        remedy,
      },
    ];
  }
  const { contentSha256, ...body } = found.bundle;
  if (
    bundleContentHash(body) !== contentSha256 ||
    !Buffer.from(serializeBundle(found.bundle), "utf8").equals(found.bytes)
  ) {
    out.push({
      checkId: "rollback",
      message: `The bundle ${path.relative(input.projectDir, found.path)} that admitted release ${record.release} was modified after preflight wrote it.`,
      remedy,
    });
  }
  const b = found.bundle;
  if (
    b.stack !== input.stack ||
    b.release !== record.release ||
    b.imageDigests.api !== record.imageDigests.api ||
    b.imageDigests.worker !== record.imageDigests.worker
  ) {
    out.push({
      checkId: "rollback",
      message: `The bundle ${path.relative(input.projectDir, found.path)} is for stack ${b.stack} release ${b.release} (api ${b.imageDigests.api}, worker ${b.imageDigests.worker}), not the release being restored.`,
      remedy,
    });
  }
  const failed = b.checks.filter((c) => c.verdict === "fail").map((c) => c.id);
  if (failed.length > 0) {
    out.push({
      checkId: "rollback",
      message: `The bundle that admitted release ${record.release} records failed checks (${failed.join(", ")}); it never admitted that release.`,
      remedy,
    });
  }
  if (roster !== undefined) out.push(...waivedCheckFindings(input, record, b, roster));
  return out;
}

/** Production rollback rules on people: who may request it, and the approval that admitted the target. */
function rollbackPeopleFindings(input: GateInput, record: RollbackRecord, roster: Roster): Finding[] {
  const out: Finding[] = [];
  const roles = input.enforcement.rollbackRoles;
  const requester = rosterPerson(roster, record.requestedBy);
  if (requester === undefined || !hasRole(requester, roles)) {
    out.push({
      checkId: "rollback",
      message: `Rollback record by ${record.requestedBy} admits nothing: their roster roles [${requester?.roles.join(", ") ?? "none"}] include no role allowed to roll back [${roles.join(", ")}] (policy/config/production.json nova-readiness-gate.rollbackRoles).`,
      remedy: `ask someone with one of those roles to request it: npm run rollout -- rollback --stack ${input.stack} --to ${record.targetVersion} --by <their roster name> --ssh-key <their key>`,
    });
  }
  const neverAdmitted = `a production rollback restores only a release the gate admitted before (its bundle and leadership approval, recorded in stack history)`;
  const admittedRemedy = `npm run rollout -- history --stack ${input.stack}, then rollback --to <a version whose admission names an approval>; a release never approved is released as a new one (preflight, freeze, approve, up)`;
  if (record.approvalSha256 === undefined) {
    out.push({
      checkId: "rollback",
      message: `The rollback record by ${record.requestedBy} for release ${record.release} names no approval: ${neverAdmitted}.`,
      remedy: admittedRemedy,
    });
    return out;
  }
  const { records } = signedRecords(recordsOf(input), roster);
  const approval = records.approvals.find((a) => fileSha256(a.path) === record.approvalSha256);
  if (approval === undefined) {
    out.push({
      checkId: "rollback",
      message: `The approval sha256:${record.approvalSha256} that the rollback to release ${record.release} relies on is not on file in ${path.relative(input.projectDir, recordsDir(input.evidenceDir, input.stack))} (or not signed by the person it names): ${neverAdmitted}.`,
      remedy: admittedRemedy,
    });
    return out;
  }
  const signed = readSignedBundles(input.evidenceDir, input.stack, trustedPreflightKeys(roster)).ok.find(
    (b) => b.bundle.contentSha256 === record.bundleSha256,
  );
  const why = approvalProblem(
    approval,
    roster,
    input.enforcement.approverRoles,
    {
      stack: input.stack,
      release: record.release,
      digests: record.imageDigests,
      bundle: {
        contentSha256: record.bundleSha256,
        signer: signed?.signer ?? "(unknown)",
        ...(signed?.bundle.ranBy !== undefined ? { ranBy: signed.bundle.ranBy } : {}),
      },
    },
    input.now,
    { ignoreExpiry: true },
  );
  if (why !== undefined) {
    out.push({
      checkId: "rollback",
      message: `The approval ${path.relative(input.projectDir, approval.path)} that admitted release ${record.release} no longer admits it: ${why}.`,
      remedy: admittedRemedy,
    });
  }
  return out;
}

/** A `waived` check of a rollback target counts only while a signed override for it still verifies. */
function waivedCheckFindings(
  input: GateInput,
  record: RollbackRecord,
  bundle: { readonly createdAt: string; readonly checks: readonly { id: string; verdict: string }[] },
  roster: Roster,
): Finding[] {
  const waived = bundle.checks.filter((c) => c.verdict === "waived").map((c) => c.id);
  if (waived.length === 0) return [];
  const { records } = signedRecords(recordsOf(input), roster);
  // Judged as of the preflight that applied it (it has expired since, as overrides do), bound to the same release.
  const at = new Date(bundle.createdAt);
  const valid = records.overrides.filter(
    (o) =>
      productionOverrideProblem(
        o,
        roster,
        input.enforcement.overrideMaxHours,
        {
          stack: input.stack,
          release: record.release,
          digests: record.imageDigests,
          bundle: { contentSha256: o.bundleSha256 ?? "", signer: "" },
        },
        at,
      ) === undefined,
  );
  const unbacked = waived.filter(
    (id) => !valid.some((o) => (o.waivedChecks as readonly string[]).includes(id)),
  );
  if (unbacked.length === 0) return [];
  return [
    {
      checkId: "rollback",
      message: `The bundle that admitted release ${record.release} records waived checks (${unbacked.join(", ")}) that no signed break-glass override on file still backs (roster incident commander, bound to the release and digests, valid when the preflight ran); it never admitted that release.`,
      remedy: `npm run rollout -- rollback --stack ${input.stack} --to <version> (a target whose admission is intact)`,
    },
  ];
}

/** sha256 of a file's bytes, or undefined when it cannot be read. */
function fileSha256(file: string): string | undefined {
  try {
    return sha256(fs.readFileSync(file));
  } catch {
    return undefined;
  }
}

/** What admitted a release: the bundle's content hash and the approval record's sha256 (for stack history). */
export interface Admission {
  readonly release: string;
  readonly bundleSha256: string;
  readonly approvalSha256?: string;
}

/** The admission of the release a stack deploys now, when its gate passes; undefined when it does not. */
export function admissionOf(input: GateInput): Admission | undefined {
  if (!input.settings.ok) return undefined;
  const sections = evaluateGate(input);
  if (GATE_SECTIONS.some((s) => sections[s].length > 0)) return undefined;
  const rollback = activeRollback(input);
  const release = input.settings.settings.release;
  if (rollback !== undefined) {
    return {
      release,
      bundleSha256: rollback.bundleSha256,
      ...(rollback.approvalSha256 !== undefined ? { approvalSha256: rollback.approvalSha256 } : {}),
    };
  }
  if (input.stackClass.production) {
    const signed = signedBundleOf(input);
    if (!("status" in signed) || signed.status !== "ok") return undefined;
    const approval = countingApproval(input).approval;
    return {
      release,
      bundleSha256: signed.bundle.contentSha256,
      ...(approval !== undefined ? { approvalSha256: sha256(fs.readFileSync(approval.path)) } : {}),
    };
  }
  const lookup = readNewestBundle(input.evidenceDir, input.stack);
  if (lookup.status !== "ok") return undefined;
  const records = recordsOf(input);
  const approval = validApprovals(
    records.approvals,
    input.stack,
    release,
    input.now,
    input.enforcement.approverRoles,
  )[0];
  return {
    release,
    bundleSha256: lookup.bundle.contentSha256,
    ...(approval !== undefined ? { approvalSha256: sha256(fs.readFileSync(approval.path)) } : {}),
  };
}

const ADMISSION_PREFIX = "nova-rollout admission ";

/** The update message that records an admission in stack history. */
export function admissionMessage(a: Admission, what: string): string {
  return `${what}; ${ADMISSION_PREFIX}${JSON.stringify(a)}`;
}

/** Reads an admission back from an update message; undefined when the message carries none. */
export function parseAdmission(message: string | undefined): Admission | undefined {
  if (message === undefined) return undefined;
  const at = message.indexOf(ADMISSION_PREFIX);
  if (at < 0) return undefined;
  try {
    const v = JSON.parse(message.slice(at + ADMISSION_PREFIX.length)) as Partial<Admission>;
    if (
      typeof v.release !== "string" ||
      typeof v.bundleSha256 !== "string" ||
      !/^[0-9a-f]{64}$/.test(v.bundleSha256)
    ) {
      return undefined;
    }
    return {
      release: v.release,
      bundleSha256: v.bundleSha256,
      ...(typeof v.approvalSha256 === "string" ? { approvalSha256: v.approvalSha256 } : {}),
    };
  } catch {
    return undefined;
  }
}
