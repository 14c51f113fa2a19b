/**
 * The one definition of "ready to roll out". The policy pack reports each section under its own policy; the program
 * guard (`index.ts`) runs all of them before a real update of a production stack. Every function here is pure apart
 * from reading the evidence directory, and returns findings (empty = ready); nothing throws for a user mistake.
 */
import * as path from "node:path";
import { type JudgedWith, type Finding } from "./model";
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
import { readNewestBundle, readRecords, type StackRecords } from "./reader";
import { settingsFromConfigMap, type EvidenceStackSettings, type SettingsResult } from "./stack-settings";
import { activeFreezes, validApprovals, verifyReadiness } from "./verifier";
import { projectFileReader } from "./collector";

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
  const production = input.stackClass.production;
  const thresholds = input.enforcement.thresholds;
  const maxAgeHours = production ? thresholds.maxAgeHours : (input.maxAgeHours ?? thresholds.maxAgeHours);
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

/** The freeze section: production rolls out only inside an active change-freeze window on record. */
export function freezeFindings(input: GateInput, environments?: readonly string[]): Finding[] {
  if (!appliesTo(input, environments)) return [];
  const records = recordsOf(input);
  const out: Finding[] = invalidRecordFindings(input, records);
  if (activeFreezes(records.freezes, input.stack, input.now).length === 0) {
    const latest = [...records.freezes].sort((a, b) => Date.parse(b.end) - Date.parse(a.end))[0];
    const seen = `${latest === undefined ? "no freeze record" : `latest window ${latest.start} – ${latest.end}`} in ${path.relative(input.projectDir, recordsDir(input.evidenceDir, input.stack))}`;
    out.push({
      checkId: "freeze",
      message: `No active change-freeze window for stack ${input.stack} at ${input.now.toISOString()} (found: ${seen}); threshold: a window with start <= now < end.`,
      remedy: rolloutCmd(
        `freeze --stack ${input.stack} --start <ISO> --end <ISO> --reason "<why>" --declared-by <you>`,
      ),
    });
  }
  return out;
}

/** The approval section: an unexpired leadership approval for this stack and release. */
export function approvalFindings(input: GateInput, environments?: readonly string[]): Finding[] {
  if (!appliesTo(input, environments)) return [];
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
  const records = recordsOf(input);
  if (validApprovals(records.approvals, input.stack, release, input.now, roles).length > 0) return [];
  const forRelease = records.approvals.filter((a) => a.release === release);
  const seen =
    forRelease.length === 0
      ? `no approval for release ${release}`
      : forRelease.map((a) => `${a.approvedBy} (${a.role}) expires ${a.expiresAt}`).join(", ");
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

/** The verdict of the program guard for one stack. */
export interface StackGateVerdict {
  readonly stackClass: StackClass;
  /** Every finding, each once, in section order; empty = ready (or not production). */
  readonly findings: readonly Finding[];
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
  let enforcement: ProductionEnforcement;
  try {
    enforcement = loadProductionEnforcement(opts.projectDir);
  } catch (e) {
    if (!(e instanceof EnforcementConfigError)) throw e;
    return {
      stackClass: { production: true, protectedTargets: [] },
      findings: [
        {
          checkId: "enforcement",
          message: `${e.message}; every stack counts as production until it is restored.`,
          remedy: "git checkout -- policy/config/production.json",
        },
      ],
    };
  }
  const settings = settingsFromConfigMap(opts.stack, opts.config, "the stack config", opts.projectDir);
  const stackClass = classifySettings(settings, opts.projectDir, enforcement);
  if (!stackClass.production) return { stackClass, findings: [] };
  const evidenceDir = path.resolve(
    opts.projectDir,
    settings.ok ? settings.settings.evidenceDir : enforcement.baseline.evidenceDir,
  );
  const sections = evaluateGate({
    stack: opts.stack,
    settings,
    projectDir: opts.projectDir,
    evidenceDir,
    enforcement,
    stackClass,
    now: opts.now,
  });
  return { stackClass, findings: GATE_SECTIONS.flatMap((s) => sections[s]) };
}
