/**
 * The preflight action (`rollout preflight --stack <stack>`): collects readiness evidence from artifacts and writes
 * `<evidenceDir>/<stack>/<timestamp>-preflight.{json,md}` (and the signed envelope). Exits 7 when the stack is not
 * ready.
 */
import * as path from "node:path";
import { DEFAULT_EVIDENCE_DIR, PROJECT_NAME } from "../../src/contract";
import { evidenceDirOf, resolveAppDir } from "../../src/config/project";
import { openPreflightSigner } from "../../src/evidence/kms-gcloud";
import {
  activeFreezes,
  automationHistory,
  collectEvidence,
  type Finding,
  imageDigestSchema,
  judgeOverrides,
  overrideRulesFor,
  type ProductionEnforcement,
  rejectedOverrideFindings,
  loadProductionEnforcement,
  parseTime,
  projectFileReader,
  readNewestBundle,
  readRecords,
  keyIdOf,
  sandboxPreflightKey,
  type Signer,
  trustedPreflightKeys,
  verifyReadiness,
  writeEvidence,
  writeSignedEvidence,
} from "../../src/evidence";
import { liftedFreezes, readPostLaunchRecords } from "../../src/evidence/post-launch-records";
import { followUpStatus, formatOverdueFollowUps } from "../../src/evidence/follow-ups";

import { registryAccess } from "../../src/registry/access";
import { withToolchainPath } from "../backend";
import { openStack } from "../engine";
import { EXIT, UserError } from "../errors";
import { resolveProjectDir } from "../options";
import { resolveStack } from "./stack";

export interface PreflightOptions {
  stack: string;
  projectDir?: string;
  evidenceDir?: string;
  /** The Nova RMS checkout (default: nova-rollout:appDir, else the app around this program's infra/). */
  appDir?: string;
  stagingStack?: string;
  /** The app's environment whose drill and seed logs count (default: the staging stack's name). */
  stagingEnv?: string;
  releaseCut?: string;
  release?: string;
  apiDigest?: string;
  workerDigest?: string;
  registry?: string;
  kubeconfig?: string;
  context?: string;
  minStatements?: string;
  minBranches?: string;
  minFunctions?: string;
  minLines?: string;
  drillMaxAgeDays?: string;
  stagingMaxAgeHours?: string;
  sampleDataMaxAgeDays?: string;
  maxAgeHours?: string;
  engine: boolean;
  signingKey?: string;
  ranBy?: string;
}

function num(name: string, v: string | undefined, committed: number): number {
  if (v === undefined) return committed;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    throw new Error(`--${name} must be a non-negative number (got ${v})`);
  }
  return n;
}

function preflightRemedyText(stack: string): string {
  return `npm run preflight -- --stack ${stack} --signing-key <ed25519 key in policy/trust/roster.json>`;
}

/** Warns (never blocks) about overdue post-launch follow-up drills and post-launch records that cannot be read. */
function printFollowUpWarnings(projectDir: string, evidenceAbs: string, stack: string, now: Date): void {
  const { open, invalid } = followUpStatus(evidenceAbs, stack, now);
  const lines = [
    ...formatOverdueFollowUps(
      open.filter((f) => f.overdue),
      projectDir,
    ),
    ...invalid.map(
      (bad) =>
        `warning: post-launch record ${path.relative(projectDir, bad.path)} cannot be read (${bad.error}); its follow-ups are not tracked`,
    ),
  ];
  if (lines.length > 0) console.error(`\n${lines.join("\n")}`);
}

/** What a preflight produced, for `--json`. */
export interface PreflightReport {
  release?: string;
  files?: { json: string; markdown: string; envelope?: string };
  checks?: { id: string; verdict: string; found: string }[];
  findings?: { checkId: string; message: string; remedy: string }[];
}

/** Runs preflight; returns the process exit code (0 ready, 7 not ready, 2 usage/config error). */
export async function runPreflight(
  o: PreflightOptions,
  now: Date = new Date(),
  report: PreflightReport = {},
): Promise<number> {
  const projectDir = resolveProjectDir(o.projectDir);
  // The stack file's settings and class, read once (the signing key, the override rules and the verdict use them).
  const target = resolveStack(projectDir, o.stack);
  const base = target.settings.ok ? target.settings.settings : undefined;
  const release = o.release ?? base?.release;
  const api = o.apiDigest ?? base?.digests.api;
  const worker = o.workerDigest ?? base?.digests.worker;
  const problems: string[] = [];
  if (release === undefined) problems.push("release: pass --release or set nova-rollout:imageTag");
  if (!imageDigestSchema.safeParse(api).success)
    problems.push("api digest: pass --api-digest or set nova-rollout:apiImageDigest");
  if (!imageDigestSchema.safeParse(worker).success)
    problems.push("worker digest: pass --worker-digest or set nova-rollout:workerImageDigest");
  if (release === undefined || api === undefined || worker === undefined || problems.length > 0) {
    console.error(`preflight: cannot determine what stack ${o.stack} deploys:\n  ${problems.join("\n  ")}`);
    return 2;
  }
  // Thresholds default to the committed ones (policy/config/production.json); options may only tighten them: the
  // gate re-judges a production bundle against the committed values and names any weakened one.
  let enforcement: ProductionEnforcement;
  try {
    enforcement = loadProductionEnforcement(projectDir);
  } catch (e) {
    console.error(`preflight: ${(e as Error).message}`);
    return 2;
  }
  const committed = enforcement.thresholds;
  let signer: Signer | undefined;
  // A sandbox stack signs with the sandbox's throwaway key unless a key is given (its enforcement trusts that key).
  const sandboxKey =
    o.signingKey === undefined && !process.env["NOVA_SIGNING_KEY_FILE"]
      ? sandboxSigningKey(projectDir, target.level)
      : undefined;
  try {
    signer = await openPreflightSigner(o.signingKey ?? sandboxKey);
  } catch (e) {
    console.error(`preflight: cannot use the signing key: ${(e as Error).message}`);
    return 2;
  }
  const evidenceAbs = evidenceDirOf({ projectDir, appDir: base?.appDir }, o.evidenceDir, base?.evidenceDir);
  const evidenceDir = o.evidenceDir ?? base?.evidenceDir ?? DEFAULT_EVIDENCE_DIR;
  // The Nova RMS checkout: --app-dir, else nova-rollout:appDir, else the app around this program's infra/.
  const appDir = resolveAppDir(projectDir, o.appDir ?? base?.appDir);
  const records = readRecords(evidenceAbs, o.stack);
  // A window lifted by `rollout post-launch` ended at the lift.
  const windows = liftedFreezes(records.freezes, readPostLaunchRecords(evidenceAbs, o.stack).lifts);
  const freezeStart = activeFreezes(windows, o.stack, now)
    .map((f) => new Date(f.start))
    .sort((a, b) => a.getTime() - b.getTime())[0];
  const releaseCut = o.releaseCut !== undefined ? parseTime(o.releaseCut, now) : freezeStart;
  // Overrides count by the rules the gate applies to the stack's class, bound to the newest signed bundle on file.
  const overrideRules = () =>
    overrideRulesFor({
      projectDir,
      evidenceDir: evidenceAbs,
      stack: o.stack,
      release,
      digests: { api, worker },
      production: target.production,
      sandbox: target.level === "local",
      enforcement,
    });
  // Production reads the logs of the committed staging environment only: another would let a preflight judge logs
  // that are not staging's, and the bundle does not record which directory it read.
  if (target.production && o.stagingEnv !== undefined && o.stagingEnv !== committed.stagingStack) {
    throw new UserError(
      `--staging-env ${o.stagingEnv}: a production stack is judged on the app's logs of the committed staging environment (${committed.stagingStack}); nothing was collected. Run without --staging-env.`,
    );
  }
  const bundle = await collectEvidence({
    settings: {
      stack: o.stack,
      project: PROJECT_NAME,
      release,
      digests: { api, worker },
      imageRegistry: o.registry ?? base?.imageRegistry,
      kubeconfigPath: o.kubeconfig ?? base?.kubeconfigPath,
      kubeconfigContext: o.context ?? base?.kubeconfigContext,
      clusterMode: base?.clusterMode,
      gcpProject: base?.gcpProject,
      gcpRegion: base?.gcpRegion,
      gkeClusterName: base?.gkeClusterName,
      evidenceDir,
      // The evidence (the bundle and its artifact copies) goes where the stack's config says, never --app-dir.
      ...(base?.appDir !== undefined ? { appDir: base.appDir } : {}),
    },
    projectDir,
    ...(appDir === undefined
      ? {}
      : {
          appDir,
          readinessCommands: base?.readinessCommands,
        }),
    now,
    releaseCut,
    stagingStack: o.stagingStack ?? committed.stagingStack,
    ...(o.stagingEnv !== undefined ? { stagingEnvironment: o.stagingEnv } : {}),
    coverageThresholds: {
      statements: num("min-statements", o.minStatements, committed.coverage.statements),
      branches: num("min-branches", o.minBranches, committed.coverage.branches),
      functions: num("min-functions", o.minFunctions, committed.coverage.functions),
      lines: num("min-lines", o.minLines, committed.coverage.lines),
    },
    drillMaxAgeDays: num("drill-max-age-days", o.drillMaxAgeDays, committed.drillMaxAgeDays),
    stagingMaxAgeHours: num("staging-max-age-hours", o.stagingMaxAgeHours, committed.stagingMaxAgeHours),
    sampleDataMaxAgeDays: num(
      "sample-data-max-age-days",
      o.sampleDataMaxAgeDays,
      committed.sampleDataMaxAgeDays,
    ),
    stagingHistory: o.engine
      ? automationHistory(projectDir, (name) => openStack({ projectDir, stack: name }))
      : undefined,
    overrides: { records: records.overrides, rules: overrideRules() },
    // skopeo and nova-registry-check: the machine's PATH, the toolchain's binaries first.
    registry: registryAccess(withToolchainPath(projectDir)),
    ...(o.ranBy !== undefined ? { ranBy: o.ranBy } : {}),
  });
  const maxAgeHours = num("max-age-hours", o.maxAgeHours, committed.maxAgeHours);
  // The verdict: what was written, re-read exactly as the policy pack will, with the overrides that count once this
  // bundle is on file (an override bound to an older bundle no longer does) and a line for each one that does not.
  let onDisk: readonly Finding[] = [];
  const notes: string[] = [];
  const verdict = (): readonly Finding[] => {
    const judged = judgeOverrides(records.overrides, overrideRules(), { stack: o.stack, release }, now);
    const rejected = rejectedOverrideFindings(judged.rejected, projectDir, o.stack);
    const current = rejected.filter((_f, i) => judged.rejected[i]?.current === true);
    const findings = verifyReadiness({
      bundle: readNewestBundle(evidenceAbs, o.stack),
      expected: { stack: o.stack, release, digests: { api, worker } },
      now,
      maxAgeHours,
      override: judged.counted,
      readFile: projectFileReader(projectDir),
    });
    // As the gate: an override that waives nothing explains a release that is not ready; it blocks none that is.
    onDisk = findings.length > 0 ? [...current, ...findings] : [];
    notes.push(
      ...rejected.filter((f) => !onDisk.includes(f)).map((f) => `note: ${f.message} (fix: ${f.remedy})`),
    );
    return onDisk;
  };
  const files =
    signer === undefined
      ? writeEvidence(bundle, evidenceAbs, verdict)
      : await writeSignedEvidence(bundle, evidenceAbs, verdict, signer);
  if (signer === undefined) {
    console.error(
      `warning: the bundle is unsigned (no --signing-key or NOVA_SIGNING_KEY_FILE); production accepts only bundles signed by a preflight key of the committed roster: ${preflightRemedyText(o.stack)}`,
    );
  }
  report.release = release;
  report.files = files;
  report.checks = bundle.checks.map((c) => ({ id: c.id, verdict: c.verdict, found: c.found }));
  report.findings = onDisk.map((f) => ({ checkId: f.checkId, message: f.message, remedy: f.remedy }));
  for (const c of bundle.checks) {
    console.log(`${c.verdict.toUpperCase().padEnd(6)} ${c.id}: ${c.found}`);
  }
  console.log(
    `\nwrote ${path.relative(projectDir, files.json)}\nwrote ${path.relative(projectDir, files.markdown)}`,
  );
  if (signer !== undefined && sandboxKey !== undefined) {
    console.log(
      `signed with the sandbox's throwaway key ${path.relative(projectDir, sandboxKey)} (${signer.keyid}); only sandbox stacks accept it`,
    );
  } else if (signer !== undefined) {
    console.log(`signed with key ${signer.keyid}`);
    const roster = enforcement.roster;
    const trusted = "error" in roster ? [] : trustedPreflightKeys(roster);
    if (!trusted.some((k) => keyIdOf(k.publicKey) === signer.keyid)) {
      console.error(
        `warning: key ${signer.keyid} is not a preflight key of the committed roster; production will not accept this bundle until a reviewed commit adds it (rollout keys generate prints the entry)`,
      );
    }
  }
  printFollowUpWarnings(projectDir, evidenceAbs, o.stack, now);
  if (notes.length > 0) console.error(`\n${notes.join("\n")}`);
  if (onDisk.length > 0) {
    console.error(`\nstack ${o.stack} is NOT ready:`);
    for (const f of onDisk) console.error(`  [${f.checkId}] ${f.message}\n      fix: ${f.remedy}`);
    return EXIT.notReady;
  }
  console.log(`\nstack ${o.stack} is ready for release ${release}`);
  return 0;
}

/** The sandbox preflight key, when the stack is judged with the sandbox enforcement and `sandbox:up` made the key. */
function sandboxSigningKey(projectDir: string, level: string): string | undefined {
  return level === "local" ? sandboxPreflightKey(projectDir) : undefined;
}
