/**
 * Defaults of the committed thresholds: what `policy/config/production.json` means when it leaves a value out, and
 * what preflight collects with when no option tightens it. The enforcement schema, the evidence checks and the policy
 * pack's config schemas all take them from here.
 */

/** The readiness thresholds (`nova-readiness-gate` entry). */
export const DEFAULT_GATE_THRESHOLDS = {
  /** Maximum age of the preflight bundle, in hours. */
  maxAgeHours: 24,
  /** Coverage in percent. */
  coverage: { statements: 60, branches: 50, functions: 70, lines: 60 },
  /** Maximum age of the billing drill log, in days. */
  drillMaxAgeDays: 7,
  /** Maximum age of the staging stack's newest successful update, in hours. */
  stagingMaxAgeHours: 72,
  /** Maximum age of the newest seed (sample-data) log, in days. */
  sampleDataMaxAgeDays: 7,
  /** The stack whose last update, drill and seed logs count as staging. */
  stagingStack: "staging",
  /** How many days before the preflight the release cut may lie. */
  releaseCutMaxAgeDays: 30,
  /** How old a deployer's signed update request may be when a production update starts, in minutes. */
  updateRequestMaxAgeMinutes: 60,
} as const;

/** The longest lifetime of a break-glass override, in hours (`nova-break-glass-override.maxLifetimeHours`). */
export const DEFAULT_OVERRIDE_MAX_HOURS = 24;

/** The longest change-freeze window, in days (`nova-change-freeze.maxWindowDays`). */
export const DEFAULT_FREEZE_MAX_DAYS = 14;
