/**
 * The committed production enforcement (`policy/config/production.json`): which targets are protected, the baseline a
 * protected stack must keep (registries, secrets, paused CronJobs, evidence directory) and the readiness thresholds.
 * The program guard, the rollout CLI and the policy pack all read it here, so "production" and "ready" have one
 * definition. Production is a property of the target: a stack aimed at a protected cluster, project or namespace is
 * production whatever its name or `environment` value.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { DEFAULT_EVIDENCE_DIR } from "./paths";
import { DEFAULT_ROSTER_PATH, isSandboxPath, readRosterSource, type Roster } from "./trust";
import {
  DEFAULT_FREEZE_MAX_DAYS,
  DEFAULT_GATE_THRESHOLDS as T,
  DEFAULT_OVERRIDE_MAX_HOURS,
  POLICY_NAMES,
} from "../contract";

/** Name of the policy whose config entry holds the protected targets and the production baseline. */
export const PRODUCTION_TARGET_POLICY = POLICY_NAMES.productionTarget;
/** Name of the readiness gate policy, whose config entry holds the thresholds. */
export const READINESS_GATE_POLICY = POLICY_NAMES.readinessGate;

/** Project-relative path of the committed policy config of an enforcement level (`local`, `staging`, `production`). */
export function policyConfigPath(projectDir: string, name: "local" | "staging" | "production"): string {
  return path.join(projectDir, "policy", "config", `${name}.json`);
}

const names = z.array(z.string().min(1)).default([]);

export const protectedTargetsSchema = z
  .object({
    /** GCP projects whose GKE clusters are production. */
    gcpProjects: names,
    /** GKE cluster names that are production. */
    gkeClusters: names,
    /** Kubernetes API server URLs (from the kubeconfig) that are production. */
    kubeServers: names,
    /** Kubeconfig context names that are production. */
    kubeContexts: names,
    /** Namespaces that only production releases may use. */
    namespaces: names,
  })
  .strict();
export type ProtectedTargets = z.output<typeof protectedTargetsSchema>;

/** The baseline a protected stack must keep; none of it may be configured away in stack config. */
export const productionBaselineSchema = z
  .object({
    protectedTargets: protectedTargetsSchema,
    /** Registries (host/path) production images may come from; the stack's own imageRegistry is no anchor. */
    allowedRegistries: z.array(z.string().min(1)).min(1),
    /** Application secrets that must be present (config keys). */
    requiredSecrets: z.array(z.string().min(1)).min(1),
    /** CronJobs that must be paused during the apply. */
    pausedCronJobs: z.array(z.string().min(1)).min(1),
    /** The evidence directory a protected stack must use, relative to the project directory. */
    evidenceDir: z.string().min(1).default(DEFAULT_EVIDENCE_DIR),
  })
  .loose();
export type ProductionBaseline = z.output<typeof productionBaselineSchema>;

export const coverageThresholdsSchema = z
  .object({
    statements: z.number().min(0).max(100),
    branches: z.number().min(0).max(100),
    functions: z.number().min(0).max(100),
    lines: z.number().min(0).max(100),
  })
  .strict();

/** The readiness thresholds the gate judges a bundle against (and the preflight collects with by default). */
export const gateThresholdsSchema = z
  .object({
    /** Maximum bundle age in hours. */
    maxAgeHours: z.number().min(0).default(T.maxAgeHours),
    coverage: coverageThresholdsSchema.default({ ...T.coverage }),
    /** Maximum age of the billing drill log in days. */
    drillMaxAgeDays: z.number().min(0).default(T.drillMaxAgeDays),
    /** Maximum age in hours of the staging stack's newest successful `update`. */
    stagingMaxAgeHours: z.number().min(0).default(T.stagingMaxAgeHours),
    /** Maximum age in days of the newest seed (sample-data) log, from the stamp in its file name. */
    sampleDataMaxAgeDays: z.number().min(0).default(T.sampleDataMaxAgeDays),
    /** The stack whose last update, drill and seed logs count as staging. */
    stagingStack: z.string().min(1).default(T.stagingStack),
    /** The release cut (docs must be updated after it) may lie at most this many days before the preflight. */
    releaseCutMaxAgeDays: z.number().min(0).default(T.releaseCutMaxAgeDays),
    /** The committed trust roster (people, roles, SSH keys; preflight keys), relative to the project directory. */
    trustRoster: z.string().min(1).default(DEFAULT_ROSTER_PATH),
  })
  .loose();
export type GateThresholds = z.output<typeof gateThresholdsSchema>;

/** Name of the approval policy, whose config entry holds the approver roles. */
export const LEADERSHIP_APPROVAL_POLICY = POLICY_NAMES.leadershipApproval;

/** Default roles whose approval authorises a production rollout. */
export const DEFAULT_APPROVER_ROLES: readonly string[] = ["vp-engineering", "cto", "head-of-platform"];

/** Name of the break-glass policy, whose config entry holds the longest override lifetime. */
export const BREAK_GLASS_POLICY = POLICY_NAMES.breakGlassOverride;

const breakGlassEntrySchema = z
  .object({ maxLifetimeHours: z.number().positive().default(DEFAULT_OVERRIDE_MAX_HOURS) })
  .loose();

const approvalEntrySchema = z
  .object({
    approverRoles: z
      .array(z.string().min(1))
      .min(1)
      .default([...DEFAULT_APPROVER_ROLES]),
  })
  .loose();

/**
 * Default roles that may request a production rollback: the CI identity (its automatic rollback after a failed
 * verification), on-call/SRE, incident commander, release manager, leadership.
 */
export const DEFAULT_ROLLBACK_ROLES: readonly string[] = [
  "ci-rollout",
  "sre",
  "incident-commander",
  "release-manager",
  ...DEFAULT_APPROVER_ROLES,
];

/** The readiness gate's entry, for what it says about people: who may roll back, how recent an update request is. */
const peopleEntrySchema = z
  .object({
    rollbackRoles: z
      .array(z.string().min(1))
      .min(1)
      .default([...DEFAULT_ROLLBACK_ROLES]),
    /** How old a deployer's signed update request may be when the update starts, in minutes. */
    updateRequestMaxAgeMinutes: z.number().positive().default(T.updateRequestMaxAgeMinutes),
  })
  .loose();

/** Name of the change-freeze policy, whose config entry holds who may declare a freeze and for how long. */
export const CHANGE_FREEZE_POLICY = POLICY_NAMES.changeFreeze;

/** Default roles that may declare a production change freeze. */
export const DEFAULT_FREEZE_ROLES: readonly string[] = [
  "release-manager",
  "incident-commander",
  ...DEFAULT_APPROVER_ROLES,
];

const freezeEntrySchema = z
  .object({
    declarerRoles: z
      .array(z.string().min(1))
      .min(1)
      .default([...DEFAULT_FREEZE_ROLES]),
    /** The longest change-freeze window, in days. */
    maxWindowDays: z.number().positive().default(DEFAULT_FREEZE_MAX_DAYS),
  })
  .loose();

/** Everything the committed production policy config says about production. */
export interface ProductionEnforcement {
  readonly file: string;
  readonly baseline: ProductionBaseline;
  readonly thresholds: GateThresholds;
  /** Roles whose approval authorises a production rollout. */
  readonly approverRoles: readonly string[];
  /** The longest lifetime of a break-glass override, in hours (committed; default 24). */
  readonly overrideMaxHours: number;
  /** Roles that may request a production rollback (`nova-readiness-gate.rollbackRoles`). */
  readonly rollbackRoles: readonly string[];
  /** How old the deployer's signed update request may be, in minutes (`nova-readiness-gate.updateRequestMaxAgeMinutes`). */
  readonly updateRequestMaxAgeMinutes: number;
  /** Roles that may declare a production change freeze (`nova-change-freeze.declarerRoles`). */
  readonly freezeRoles: readonly string[];
  /** The longest change-freeze window in days (`nova-change-freeze.maxWindowDays`). */
  readonly freezeMaxDays: number;
  /** Absolute path of the committed trust roster. */
  readonly rosterFile: string;
  /** The committed trust roster, or why it cannot be used (production then fails closed). */
  readonly roster: Roster | { readonly error: string };
}

/** Thrown when the committed policy config is missing or malformed; the gate fails closed on it. */
export class EnforcementConfigError extends Error {
  override readonly name = "EnforcementConfigError";
}

/** Reads and validates `policy/config/production.json` of a project. Throws {@link EnforcementConfigError}. */
export function loadProductionEnforcement(projectDir: string): ProductionEnforcement {
  const file = policyConfigPath(projectDir, "production");
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new EnforcementConfigError(
      `Cannot read the committed production enforcement ${file}: ${(err as Error).message}`,
    );
  }
  return parseProductionEnforcement(doc, file);
}

/** Validates a parsed production policy config document. */
export function parseProductionEnforcement(doc: unknown, file: string): ProductionEnforcement {
  const entries = (doc ?? {}) as Record<string, unknown>;
  const baseline = productionBaselineSchema.safeParse(entries[PRODUCTION_TARGET_POLICY] ?? {});
  const thresholds = gateThresholdsSchema.safeParse(entries[READINESS_GATE_POLICY] ?? {});
  const approval = approvalEntrySchema.safeParse(entries[LEADERSHIP_APPROVAL_POLICY] ?? {});
  const breakGlass = breakGlassEntrySchema.safeParse(entries[BREAK_GLASS_POLICY] ?? {});
  const people = peopleEntrySchema.safeParse(entries[READINESS_GATE_POLICY] ?? {});
  const freeze = freezeEntrySchema.safeParse(entries[CHANGE_FREEZE_POLICY] ?? {});
  const problems = [
    ...(people.success
      ? []
      : people.error.issues.map((i) => `${READINESS_GATE_POLICY}.${i.path.join(".")}: ${i.message}`)),
    ...(freeze.success
      ? []
      : freeze.error.issues.map((i) => `${CHANGE_FREEZE_POLICY}.${i.path.join(".")}: ${i.message}`)),
    ...(approval.success
      ? []
      : approval.error.issues.map((i) => `${LEADERSHIP_APPROVAL_POLICY}.${i.path.join(".")}: ${i.message}`)),
    ...(baseline.success
      ? []
      : baseline.error.issues.map((i) => `${PRODUCTION_TARGET_POLICY}.${i.path.join(".")}: ${i.message}`)),
    ...(thresholds.success
      ? []
      : thresholds.error.issues.map((i) => `${READINESS_GATE_POLICY}.${i.path.join(".")}: ${i.message}`)),
  ];
  if (!breakGlass.success) {
    problems.push(
      ...breakGlass.error.issues.map((i) => `${BREAK_GLASS_POLICY}.${i.path.join(".")}: ${i.message}`),
    );
  }
  if (
    !baseline.success ||
    !thresholds.success ||
    !approval.success ||
    !breakGlass.success ||
    !people.success ||
    !freeze.success
  ) {
    throw new EnforcementConfigError(
      `The committed production enforcement ${file} is invalid: ${problems.join("; ")}`,
    );
  }
  // policy/config/production.json → the project directory is two levels up.
  const projectDir = path.resolve(path.dirname(file), "..", "..");
  const rosterFile = path.resolve(projectDir, thresholds.data.trustRoster);
  if (isSandboxPath(projectDir, rosterFile)) {
    // The sandbox's keys are throwaway and lie on every developer's disk: production never trusts them.
    throw new EnforcementConfigError(
      `The committed production enforcement ${file} is invalid: ${READINESS_GATE_POLICY}.trustRoster names ${thresholds.data.trustRoster}, inside the sandbox directory; production trusts only the committed roster (${DEFAULT_ROSTER_PATH}).`,
    );
  }
  const { roster } = readRosterSource(rosterFile);
  return {
    file,
    baseline: baseline.data,
    thresholds: thresholds.data,
    approverRoles: approval.data.approverRoles,
    overrideMaxHours: breakGlass.data.maxLifetimeHours,
    rollbackRoles: people.data.rollbackRoles,
    updateRequestMaxAgeMinutes: people.data.updateRequestMaxAgeMinutes,
    freezeRoles: freeze.data.declarerRoles,
    freezeMaxDays: freeze.data.maxWindowDays,
    rosterFile,
    roster,
  };
}
