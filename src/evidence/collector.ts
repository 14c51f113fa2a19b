/**
 * The preflight evidence collector: computes every readiness check from artifacts on disk, the registry and the
 * staging stack's history, and seals the results into a bundle. Nothing is typed in; every input is a file, an
 * HTTP answer or a stack history entry, and each file's sha256 goes into the bundle.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { checkBillingDrill, DEFAULT_DRILL_MAX_AGE_DAYS } from "./checks/billing-drill";
import {
  checkCoverage,
  type CoverageThresholds,
  DEFAULT_COVERAGE_MAX_AGE_DAYS,
  DEFAULT_COVERAGE_THRESHOLDS,
} from "./checks/coverage";
import { checkDocUpdated, type DatedDocument, namesRelease } from "./checks/docs-updated";
import { checkE2eSmoke } from "./checks/e2e";
import {
  checkGkeCluster,
  checkKubeconfig,
  gcloudClusterAccess,
  type GkeClusterAccessFn,
} from "./checks/kubeconfig";
import { checkRegistryDigests, checkRegistryPush, type RegistryAccess } from "./checks/registry";
import { registryAccess } from "../registry/access";
import { checkSampleData, DEFAULT_SAMPLE_DATA_MAX_AGE_DAYS, seedLogTime } from "./checks/sample-data";
import {
  checkStagingStack,
  DEFAULT_STAGING_MAX_AGE_HOURS,
  type StagingHistoryFn,
} from "./checks/staging-stack";
import { type LoadedArtifact } from "./checks/types";
import {
  type AppCheckId,
  type CommandOutcome,
  type CommandRunner,
  DEFAULT_READINESS_COMMANDS,
  judgeWithCommand,
  keepArtifactCopy,
  spawnCommand,
} from "./app-checkout";
import {
  BUNDLE_SCHEMA_VERSION,
  type CheckResult,
  type EvidenceBundle,
  NEVER_WAIVABLE,
  type OverrideRecord,
  sealBundle,
  sha256,
  type Waiver,
} from "./model";
import { PLAYBOOK_COMMANDS } from "../contract";
import { DEFAULT_EVIDENCE_DIR, preflightRemedy, toProjectRelative } from "./paths";
import { evidenceDirOf, type EvidenceStackSettings } from "../config/stack-view";
import { judgeOverrides, type OverrideRules } from "./override-rules";
import { dated, filesIn, gitOrMtime, load, type UpdatedAtFn } from "./artifact-files";

/** Where the collector looks for artifacts (relative to the app checkout, or the project directory without one). */
export interface ArtifactPaths {
  /** istanbul json-summary output. Default `coverage/coverage-summary.json`. */
  readonly coverageSummary: string;
  /** Playwright JSON report. Default `playwright-report/results.json`. */
  readonly e2eReport: string;
  /** Runbook directory (newest file counts). Default `docs/runbooks`. */
  readonly runbooksDir: string;
  /** Default `STATUS.md`, `TODO.md`. */
  readonly status: string;
  readonly todo: string;
  /** Drill and seed logs, one subdirectory per environment. Default: the app's `tests/drills/logs`, else evidence. */
  readonly drillLogsDir?: string;
}

export const DEFAULT_ARTIFACT_PATHS: ArtifactPaths = {
  coverageSummary: "coverage/coverage-summary.json",
  e2eReport: "playwright-report/results.json",
  runbooksDir: "docs/runbooks",
  status: "STATUS.md",
  todo: "TODO.md",
};

/** The settings the collector needs (a subset of the stack settings). */
export type CollectorSettings = Pick<
  EvidenceStackSettings,
  | "stack"
  | "project"
  | "release"
  | "digests"
  | "imageRegistry"
  | "kubeconfigPath"
  | "kubeconfigContext"
  | "clusterMode"
  | "gcpProject"
  | "gcpRegion"
  | "gkeClusterName"
  | "evidenceDir"
  | "appDir"
>;

export interface CollectorOptions {
  readonly settings: CollectorSettings;
  readonly projectDir: string;
  readonly now: Date;
  /** When the release was cut; docs must be updated after it. Undefined fails the docs checks. */
  readonly releaseCut?: Date;
  /** The staging stack whose last update counts (and whose drills and seed log, unless `stagingEnvironment`). */
  readonly stagingStack?: string;
  /** The app's environment whose drill and seed logs count (`<drillLogsDir>/<env>/`). Default: the staging stack. */
  readonly stagingEnvironment?: string;
  readonly coverageThresholds?: CoverageThresholds;
  readonly drillMaxAgeDays?: number;
  /** The staging stack's newest successful update must be younger than this. Default 72 hours. */
  readonly stagingMaxAgeHours?: number;
  /** The newest seed log must be younger than this (stamp in its file name). Default 7 days. */
  readonly sampleDataMaxAgeDays?: number;
  readonly paths?: Partial<ArtifactPaths>;
  /**
   * The Nova RMS checkout (absolute, or relative to the project directory; see `resolveAppDir`). When set, every
   * artifact path is relative to it, the check commands run in it, and the bundle records content-addressed copies
   * of the artifacts it judged (`<evidenceDir>/<stack>/artifacts/`), which the deploy-time check verifies.
   */
  readonly appDir?: string;
  /**
   * The playbook's check commands, by the check they belong to (`nova-rollout:readinessCommands`), run in the app
   * checkout before its artifacts are read; a command that does not exit 0 fails its check. Default
   * `{"billing-drill": "pnpm drill:check:staging"}`; none run without an app checkout.
   */
  readonly readinessCommands?: Readonly<Partial<Record<AppCheckId, string>>>;
  /** Runs a check command (default: without a shell, output redacted; see `spawnCommand`). */
  readonly runCommand?: CommandRunner;
  /** The Playwright project of the smoke run. Default `chromium` with an app checkout, else `smoke`. */
  readonly e2eProject?: string;
  /** The coverage summary must be younger than this many days. Default 7. */
  readonly coverageMaxAgeDays?: number;
  /** Registry reads and the push check (default: skopeo and nova-registry-check with this machine's logins). */
  readonly registry?: RegistryAccess;
  /** Stack history reader; undefined means no engine, and the staging check fails. */
  readonly stagingHistory?: StagingHistoryFn;
  /**
   * Probes the GKE cluster of a `clusterMode: gke` stack (the `kubeconfig` check). Default: `gcloud container
   * clusters describe … --format=value(status)`, RUNNING passes.
   */
  readonly gkeClusterAccess?: GkeClusterAccessFn;
  readonly updatedAt?: UpdatedAtFn;
  /** Who runs the preflight (a roster name), recorded in the bundle; the release's approver must be someone else. */
  readonly ranBy?: string;
  /**
   * Override records on file and the rules of the stack's class ({@link overrideRulesFor}): only the overrides that
   * count by those rules (the gate's) turn the failing checks they name into `waived`; never-waivable checks stay
   * `fail` whatever an override names.
   */
  readonly overrides?: {
    readonly records: readonly (OverrideRecord & { readonly path?: string })[];
    readonly rules: OverrideRules;
  };
}

/** Runs every check and seals the bundle. */
export async function collectEvidence(opts: CollectorOptions): Promise<EvidenceBundle> {
  const { settings, projectDir, now } = opts;
  const paths = { ...DEFAULT_ARTIFACT_PATHS, ...opts.paths };
  const staging = opts.stagingStack ?? "staging";
  const logsEnv = opts.stagingEnvironment ?? staging;
  const coverageThresholds = opts.coverageThresholds ?? DEFAULT_COVERAGE_THRESHOLDS;
  const drillMaxAgeDays = opts.drillMaxAgeDays ?? DEFAULT_DRILL_MAX_AGE_DAYS;
  const stagingMaxAgeHours = opts.stagingMaxAgeHours ?? DEFAULT_STAGING_MAX_AGE_HOURS;
  const sampleDataMaxAgeDays = opts.sampleDataMaxAgeDays ?? DEFAULT_SAMPLE_DATA_MAX_AGE_DAYS;
  const evidenceRoot = evidenceDirOf({ projectDir, appDir: settings.appDir }, settings.evidenceDir);
  const updatedAt = opts.updatedAt ?? gitOrMtime;
  const appDir = opts.appDir === undefined ? undefined : path.resolve(projectDir, opts.appDir);
  const base = appDir ?? projectDir;
  const preflight = `re-run ${preflightRemedy(settings.stack)}`;
  const inApp = (command: string, writes: string) =>
    `in the Nova RMS checkout (nova-rollout:appDir): \`${command}\` (writes ${writes}), then ${preflight}`;

  // The playbook's check commands run first: they may write the artifacts judged below.
  const run = opts.runCommand ?? spawnCommand();
  const commands = Object.entries(
    appDir === undefined ? {} : (opts.readinessCommands ?? DEFAULT_READINESS_COMMANDS),
  ).filter((e): e is [AppCheckId, string] => typeof e[1] === "string" && e[1].trim() !== "");
  const outcomes = new Map<string, { outcome: CommandOutcome; output: string }>();
  for (const [checkId, command] of commands) {
    const outcome = run(command, base);
    const output = keepArtifactCopy(
      projectDir,
      evidenceRoot,
      settings.stack,
      `${checkId}-command.log`,
      Buffer.from(`$ ${command}\n${outcome.output}`),
    );
    outcomes.set(checkId, { outcome, output });
  }

  const logsRoot =
    opts.paths?.drillLogsDir !== undefined
      ? path.resolve(base, opts.paths.drillLogsDir)
      : appDir !== undefined
        ? path.resolve(appDir, DEFAULT_EVIDENCE_DIR)
        : evidenceRoot;
  const stagingLogs = filesIn(path.join(logsRoot, logsEnv)).sort();

  const drillLogs = stagingLogs
    .filter((f) => /billing-drill/i.test(path.basename(f)) && !/-preflight\.(json|md)$/.test(f))
    .map((f) => load(projectDir, f))
    .filter((a): a is LoadedArtifact => a !== undefined);
  // The newest seed log by the time stamp its name starts with; an unstamped one only when there is no other (it fails).
  const seedFiles = stagingLogs.filter((f) => /seed/i.test(path.basename(f)));
  const seedFile =
    seedFiles.filter((f) => seedLogTime(path.basename(f)) !== undefined).at(-1) ?? seedFiles.at(-1);
  const runbooks = filesIn(path.resolve(base, paths.runbooksDir))
    .map((f) => ({ f, t: fs.statSync(f).mtime.getTime() }))
    .sort((a, b) => b.t - a.t || a.f.localeCompare(b.f))
    .map((r) => dated(projectDir, r.f, updatedAt, base))
    .filter((d): d is DatedDocument => d !== undefined)
    .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime());
  // The newest runbook that names the release (the newest of all when none does, so the check says so).
  const newestRunbook =
    runbooks.find((d) => namesRelease(d.artifact.bytes.toString("utf8"), settings.release)) ?? runbooks[0];
  const coverageSummary = load(projectDir, paths.coverageSummary, base);
  const coverageWrittenAt =
    coverageSummary === undefined
      ? undefined
      : updatedAt(path.resolve(base, paths.coverageSummary), base).date;
  const where = appDir === undefined ? "" : " in the Nova RMS checkout";
  const logsLabel = `${toProjectRelative(base, logsRoot)}/${logsEnv}/`;

  const kubeconfigAbs =
    settings.kubeconfigPath === undefined ? undefined : path.resolve(projectDir, settings.kubeconfigPath);
  let kubeText: string | undefined;
  if (kubeconfigAbs !== undefined) {
    try {
      kubeText = fs.readFileSync(kubeconfigAbs, "utf8");
    } catch {
      kubeText = undefined;
    }
  }

  const appChecks: CheckResult[] = [
    checkCoverage(
      coverageSummary,
      coverageThresholds,
      coverageWrittenAt === undefined
        ? undefined
        : {
            writtenAt: coverageWrittenAt,
            now,
            maxAgeDays: opts.coverageMaxAgeDays ?? DEFAULT_COVERAGE_MAX_AGE_DAYS,
          },
      ...(appDir === undefined ? [] : [inApp(PLAYBOOK_COMMANDS.coverage, paths.coverageSummary)]),
    ),
    checkE2eSmoke(
      load(projectDir, paths.e2eReport, base),
      opts.e2eProject ?? (appDir === undefined ? "smoke" : "chromium"),
      ...(appDir === undefined ? [] : [inApp(PLAYBOOK_COMMANDS.e2e, paths.e2eReport)]),
    ),
    checkBillingDrill(
      drillLogs,
      now,
      drillMaxAgeDays,
      logsEnv,
      ...(appDir === undefined
        ? []
        : [
            `in the Nova RMS checkout (nova-rollout:appDir): run the staging billing drill (\`${PLAYBOOK_COMMANDS.stagingDrill}\`, or the ${logsEnv} nova-billing-drill CronJob) so that ${logsLabel} holds a passing drill log younger than ${drillMaxAgeDays} days, check it with \`${PLAYBOOK_COMMANDS.drillCheck}\`, then ${preflight}`,
          ]),
    ),
    checkSampleData(
      seedFile === undefined ? undefined : load(projectDir, seedFile),
      now,
      sampleDataMaxAgeDays,
      logsEnv,
      ...(appDir === undefined
        ? []
        : [inApp(PLAYBOOK_COMMANDS.seed, `${logsLabel}<timestamp>-seed-sample-data.log`)]),
    ),
  ].map((check) => {
    const ran = outcomes.get(check.id);
    return ran === undefined ? check : judgeWithCommand(check, ran.outcome, ran.output, preflight);
  });

  const registryOpts = { imageRegistry: settings.imageRegistry, registry: opts.registry ?? registryAccess() };
  const checks: CheckResult[] = [
    ...appChecks,
    checkDocUpdated(
      "runbooks-updated",
      "Runbooks",
      newestRunbook,
      opts.releaseCut,
      settings.stack,
      settings.release,
      where,
    ),
    checkDocUpdated(
      "status-updated",
      "STATUS.md",
      dated(projectDir, path.resolve(base, paths.status), updatedAt, base),
      opts.releaseCut,
      settings.stack,
      settings.release,
      where,
    ),
    checkDocUpdated(
      "todo-updated",
      "TODO.md",
      dated(projectDir, path.resolve(base, paths.todo), updatedAt, base),
      opts.releaseCut,
      settings.stack,
      settings.release,
      where,
    ),
    settings.clusterMode === "gke"
      ? await checkGkeCluster({
          gcpProject: settings.gcpProject,
          gcpRegion: settings.gcpRegion,
          gkeClusterName: settings.gkeClusterName,
          access: opts.gkeClusterAccess ?? gcloudClusterAccess(),
        })
      : checkKubeconfig(
          kubeText,
          kubeconfigAbs === undefined
            ? "(kubeconfigPath not configured)"
            : toProjectRelative(projectDir, kubeconfigAbs),
          settings.kubeconfigContext,
        ),
    await checkRegistryDigests({ ...registryOpts, release: settings.release, expected: settings.digests }),
    await checkRegistryPush(registryOpts),
    await checkStagingStack({
      stagingStack: staging,
      expected: settings.digests,
      history: opts.stagingHistory,
      now,
      maxAgeHours: stagingMaxAgeHours,
    }),
  ];

  // With an app checkout the bundle records content-addressed copies of what it judged (the deploy-time check reads
  // these, so git-ignored outputs of the app need not survive); `found` still names the file in the checkout.
  if (appDir !== undefined) {
    for (const check of checks) {
      const bytes = check.artifact === null ? undefined : load(projectDir, check.artifact.path)?.bytes;
      if (check.artifact !== null && bytes !== undefined && sha256(bytes) === check.artifact.sha256) {
        check.artifact = {
          path: keepArtifactCopy(projectDir, evidenceRoot, settings.stack, check.artifact.path, bytes),
          sha256: check.artifact.sha256,
        };
      }
    }
  }

  const waivers: Waiver[] = [];
  const active =
    opts.overrides === undefined
      ? []
      : judgeOverrides(
          opts.overrides.records,
          opts.overrides.rules,
          { stack: settings.stack, release: settings.release },
          now,
        ).counted;
  for (const check of checks) {
    if (check.verdict !== "fail" || (NEVER_WAIVABLE as readonly string[]).includes(check.id)) {
      continue;
    }
    const o = active.find((r) => (r.waivedChecks as readonly string[]).includes(check.id));
    if (o !== undefined) {
      check.verdict = "waived";
      const overridePath = (o as { path?: string }).path;
      waivers.push({
        checkId: check.id,
        overridePath:
          overridePath === undefined ? "(in memory)" : toProjectRelative(projectDir, overridePath),
        incidentCommander: o.incidentCommander,
        expiresAt: o.expiresAt,
      });
    }
  }

  return sealBundle({
    schemaVersion: BUNDLE_SCHEMA_VERSION,
    stack: settings.stack,
    project: settings.project,
    release: settings.release,
    imageDigests: { ...settings.digests },
    createdAt: now.toISOString(),
    judgedWith: {
      coverage: { ...coverageThresholds },
      drillMaxAgeDays,
      stagingMaxAgeHours,
      sampleDataMaxAgeDays,
      stagingStack: staging,
      releaseCut: opts.releaseCut === undefined ? null : opts.releaseCut.toISOString(),
      imageRegistry: settings.imageRegistry ?? null,
    },
    checks,
    waivers,
    ...(opts.ranBy !== undefined ? { ranBy: opts.ranBy } : {}),
  });
}
