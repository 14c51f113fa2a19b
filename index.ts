/**
 * The Nova RMS rollout. This file is the only place that reads stack config (and the files it names); it validates
 * the config once, then wires the playbook's components. The step numbers are those of docs/runbook.md and the README:
 *
 *   1–2. readiness gate and change freeze / approval (the program guard, before any resource)
 *   5a.  the cluster connection and the release namespace (the release record): registered first, so the policy
 *        pack's gate stops an unready release before anything changes
 *   3.   images published, pinned by digest
 *   4.   pre-apply: secrets, database dump + migration rehearsal, CronJobs paused
 *   5b.  apply: the nova-stack chart, every Deployment awaited
 *   6.   post-deploy verification, then the CronJobs resume
 *
 * Steps 7 (rollback) and 8 (post-launch; the runbook splits it into 8 and 9) belong to the rollout CLI
 * (`npm run rollout -- rollback`, `npm run rollout -- post-launch`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  AppSecrets,
  CiSchedules,
  ClusterConnection,
  DatabaseSafeguards,
  NovaRelease,
  PlatformStack,
  PostDeployVerification,
  ReleaseImages,
  ReleaseNamespace,
  ResumeCiSchedules,
  ResumeScheduledJobs,
  ScheduledJobs,
  valuesFileFor,
} from "./components";
import {
  ConfigValidationError,
  parseStackSettings,
  projectKeys,
  resolveProjectDir,
  stackViewOf,
  type StackSettings,
} from "./src/config";
import { COMPONENT_NAMES, SECRET_ENV_NAMES, SECRET_KEYS } from "./src/contract";
import { formatFindings, gateForStack, type StackGateVerdict, verificationFilesDir } from "./src/evidence";
import { treeFingerprint, workloadFingerprint } from "./src/release/fingerprint";
import { dryRunMismatch, engineRunFromArgv } from "./src/util/engine-run";

/** The project directory (that of this project's Pulumi.yaml), whether this runs compiled (from `dist/`) or from source. */
const projectDir = resolveProjectDir(undefined, [__dirname]);

/** Whether a config key is stored encrypted; the SDK's runtime has this check but does not type it. */
const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean })
  .isConfigSecret;

function loadSettings(config: Readonly<Record<string, string>>): StackSettings {
  try {
    return parseStackSettings(projectKeys(config), {
      stack: pulumi.getStack(),
      project: pulumi.getProject(),
      projectDir,
      ...(isConfigSecret !== undefined ? { isSecret: isConfigSecret } : {}),
    });
  } catch (err) {
    // A malformed config is a user mistake: one readable message, no stack trace.
    if (err instanceof ConfigValidationError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

/**
 * A kubeconfig file's contents as a secret. `previewMayLack`: a preview without the file (a pull request's preview
 * holds no other cluster's credentials) warns and goes on, since only an update runs the commands that use it.
 */
function readKubeconfig(
  file: string,
  key = "nova-rollout:kubeconfigPath",
  previewMayLack = false,
): pulumi.Output<string> {
  try {
    return pulumi.secret(fs.readFileSync(file, "utf8"));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : String(err);
    if (previewMayLack && pulumi.runtime.isDryRun()) {
      void pulumi.log.warn(`The kubeconfig ${file} (${key}) ${reason}: an update would stop here.`);
      return pulumi.secret("");
    }
    throw new pulumi.RunError(
      `The kubeconfig ${file} (${key}) ${reason}. ` +
        "Point the key at your cluster's kubeconfig, or start the sandbox with `npm run sandbox:up`.",
    );
  }
}

/**
 * Steps 1–2, the gate's second layer. Open-source Pulumi runs a policy pack only when the caller names it, so the program itself
 * refuses a real update of a production stack (any stack aimed at a protected target) that the gate would block. It
 * runs the same `src/evidence` verifier as the pack, before any resource is registered. A preview only warns: the
 * pack's report is the primary output there.
 */
function guardRelease(config: Readonly<Record<string, string>>, parsed: StackSettings): StackGateVerdict {
  const stack = pulumi.getStack();
  const settings = stackViewOf(parsed, config, "the stack config", projectDir);
  const verdict = gateForStack({ stack, config, projectDir, now: new Date(), settings });
  if (verdict.findings.length === 0) return verdict;
  const n = verdict.findings.length;
  const header = `Stack ${stack} is production${verdict.stackClass.protectedTargets.length > 0 ? ` (it targets ${verdict.stackClass.protectedTargets.join(", ")})` : ""} and not ready to roll out: ${n} ${n === 1 ? "finding" : "findings"}.`;
  if (preview) {
    // The pack's report (when attached) carries each finding with its fix; the warning names them without repeating
    // the fixes, so a preview without the pack still says what is missing.
    const list = verdict.findings.map((f, i) => `  ${i + 1}. [${f.checkId}] ${f.message}`);
    void pulumi.log.warn(
      [
        header,
        ...list,
        "`pulumi up` refuses this release until each is fixed; `npm run rollout -- preview` shows each fix.",
      ].join("\n"),
    );
    return verdict;
  }
  throw new pulumi.RunError(`${formatFindings(header, verdict.findings)}\nNothing was changed.`);
}

/**
 * Whether this run is a preview: what the engine asked the language host for, not what the environment says. An
 * inherited PULUMI_NODEJS_DRY_RUN=true makes the SDK believe a real update is a preview; such a run is refused before
 * anything else, so the guard below never turns into a warning during `pulumi up`.
 */
function engineRequestedPreview(): boolean {
  const run = engineRunFromArgv(process.argv);
  const mismatch = dryRunMismatch(run, pulumi.runtime.isDryRun());
  if (mismatch !== undefined) throw new pulumi.RunError(mismatch);
  return run?.preview ?? pulumi.runtime.isDryRun();
}

const preview = engineRequestedPreview();
// The stack config as the engine gave it, read once: the settings and the guard judge the same values.
const stackConfig = pulumi.runtime.allConfig();
const settings = loadSettings(stackConfig);
// Steps 1–2. Readiness gate, change freeze and approval: nothing below runs for an unready production release.
const production = guardRelease(stackConfig, settings).stackClass.production;
// Relative to the project directory, where the engine runs the command provider: resource inputs must not depend on
// where the repository is checked out (a preview from another clone shows no change).
const probeScript = path.join("dist", "src", "verify", "probe.js");
const budget = {
  attempts: settings.verification.attempts,
  timeoutSeconds: settings.verification.timeoutSeconds,
};
const releaseKey = [settings.images.tag, settings.images.api.digest, settings.images.worker.digest];
// Everything that shapes the rendered workloads: a change to any of it rolls pods, so the CronJobs are paused and
// the release verified again (not only when digests or secrets change).
// The chart is addressed relative to the project directory (where the engine runs the kubernetes provider), so the
// release's inputs are the same in every checkout; its content enters through the fingerprint.
const chartDir = path.join("charts", "nova-stack");
const workloadKey = workloadFingerprint(treeFingerprint(path.join(projectDir, chartDir)), {
  environment: settings.environment,
  namespace: settings.namespace,
  registry: settings.images.registry,
  releaseKey,
  scaling: settings.scaling,
});

// Step 5a. The platform stack, when one owns the cluster, the namespace and the service account: read through a
// StackReference and checked against this stack's config before any Kubernetes object is written.
const platform =
  settings.platformStack === undefined
    ? undefined
    : new PlatformStack(COMPONENT_NAMES.platform, {
        stack: settings.platformStack,
        expect: {
          namespace: settings.namespace,
          environment: settings.environment,
          ...(settings.cluster.mode === "gke" ? { clusterName: settings.cluster.clusterName } : {}),
        },
      });
/** A value that waits for the platform's check (as is, without a platform stack). */
const afterPlatform = (value: pulumi.Output<string>): pulumi.Output<string> =>
  platform === undefined ? value : pulumi.secret(pulumi.all([platform.checked, value]).apply(([, v]) => v));

// Step 5a. Cluster connection: an explicit provider for every Kubernetes resource. With a platform stack in gke mode
// the platform's kubeconfig reaches the cluster it created; this stack creates none.
const cluster = new ClusterConnection(
  COMPONENT_NAMES.cluster,
  settings.cluster.mode === "kubeconfig"
    ? {
        mode: "kubeconfig",
        kubeconfig: afterPlatform(readKubeconfig(settings.cluster.kubeconfigPath)),
        context: settings.cluster.context,
      }
    : platform !== undefined
      ? { mode: "kubeconfig", kubeconfig: platform.kubeconfig }
      : { ...settings.cluster, protect: production },
);
const providers = [cluster.provider];

// Step 5a. The namespace carries the release record; the readiness gate checks it before anything else changes.
const namespace = new ReleaseNamespace(
  COMPONENT_NAMES.namespace,
  {
    name: platform?.namespace ?? settings.namespace,
    ...(platform !== undefined ? { ownedByPlatform: true } : {}),
    environment: settings.environment,
    release: settings.images.tag,
    digests: {
      api: settings.images.api.digest,
      worker: settings.images.worker.digest,
    },
    // Production's namespace and Secret are protected: `pulumi destroy` refuses them (see the runbook's teardown).
    protect: production,
  },
  { providers },
);

// Step 3. Images pinned by digest (checked against the registry where the resolver does that).
// Everything that acts (commands, builds) waits for the namespace: an unready release stops there, changing nothing.
const afterGate = { dependsOn: [namespace] };
const images = new ReleaseImages(
  COMPONENT_NAMES.images,
  {
    registry: settings.images.registry,
    tag: settings.images.tag,
    resolver: settings.images.resolver,
    images: { api: settings.images.api, worker: settings.images.worker },
    probeScript,
  },
  afterGate,
);

// Step 4. Pre-apply: secrets, database dump + migration rehearsal, CronJobs paused.
const secrets = new AppSecrets(
  COMPONENT_NAMES.secrets,
  {
    namespace: namespace.name,
    entries: SECRET_KEYS.map((key) => ({ key, envName: SECRET_ENV_NAMES[key] })),
    required: settings.secrets.required,
    // A dedicated secret (nova-rollout:secretsChecksumKey), never derived from the values it checksums.
    checksumKey: pulumi.secret(settings.secrets.checksumKey),
    protect: production,
    source:
      settings.secrets.source === "config"
        ? {
            kind: "config",
            values: Object.fromEntries(
              Object.entries(settings.secrets.values).map(([k, v]) => [k, pulumi.secret(v)]),
            ),
          }
        : { kind: "gcp-secret-manager", project: settings.secrets.project, prefix: settings.secrets.prefix },
  },
  { providers },
);

const databaseUrl =
  settings.secrets.source === "config"
    ? pulumi.secret(settings.secrets.values.databaseUrl ?? "")
    : secrets.secret.stringData.apply((d) => d?.DATABASE_URL ?? "");
const database = new DatabaseSafeguards(
  COMPONENT_NAMES.database,
  {
    databaseUrl,
    rehearsalDatabaseUrl: pulumi.secret(settings.database.rehearsalDatabaseUrl),
    backupDestination: settings.database.backupDestination,
    migrationCommand: settings.database.migrationCommand,
    stack: settings.stack,
    release: settings.images.tag,
    releaseKey,
    // A rollback (`rollout rollback` sets nova-rollout:rollbackOf for its own update) does no database work.
    mode: settings.rollbackOf !== undefined ? "rollback" : "release",
    timeoutSeconds: settings.databaseTimeoutSeconds,
  },
  afterGate,
);
if (settings.rollbackOf !== undefined) {
  void pulumi.log.info(
    `Rollback to update ${settings.rollbackOf.update}: no database dump and no migration rehearsal (the database is forward-only).`,
  );
}

// The CronJobs paused for the apply (and resumed after verification, step 6): both follow the workloads.
const cronJobs = {
  namespace: settings.namespace,
  cronJobs: settings.pausedCronJobs,
  kubeconfig: cluster.kubeconfig,
  ...(cluster.context !== undefined ? { context: cluster.context } : {}),
  releaseKey: [...releaseKey, workloadKey],
  timeoutSeconds: settings.kubectlTimeoutSeconds,
};
const jobs = new ScheduledJobs(COMPONENT_NAMES.jobs, cronJobs, afterGate);
// The staging cluster's drill CronJobs (playbook §4: the staging billing drill), through that cluster's kubeconfig.
const staging = settings.stagingCronJobs;
const stagingCronJobs =
  staging === undefined
    ? undefined
    : {
        namespace: staging.namespace,
        cronJobs: staging.cronJobs,
        kubeconfig: readKubeconfig(
          staging.kubeconfigPath,
          "nova-rollout:stagingCronJobs.kubeconfigPath",
          true,
        ),
        context: staging.context,
        releaseKey: [...releaseKey, workloadKey],
        timeoutSeconds: settings.kubectlTimeoutSeconds,
      };
const stagingJobs =
  stagingCronJobs === undefined
    ? undefined
    : new ScheduledJobs(COMPONENT_NAMES.stagingJobs, stagingCronJobs, afterGate);
// The CI schedules that could reach production, disabled through the GitHub API with the deployer's GITHUB_TOKEN.
const ciSchedules = {
  ...settings.ciSchedules,
  script: path.join("dist", "src", "ci", "schedules.js"),
  releaseKey: [...releaseKey, workloadKey],
};
const ciPause = new CiSchedules(COMPONENT_NAMES.jobs, ciSchedules, afterGate);

// Step 5b. Apply: the nova-stack chart, after every pre-apply step.
const release = new NovaRelease(
  COMPONENT_NAMES.release,
  {
    chartPath: chartDir,
    valuesFiles: [valuesFileFor(chartDir, settings.environment)],
    namespace: namespace.name,
    environment: settings.environment,
    imageRegistry: settings.images.registry,
    release: settings.images.tag,
    images: {
      api: { repository: settings.images.api.repository, digest: images.digests.api },
      worker: { repository: settings.images.worker.repository, digest: images.digests.worker },
    },
    scaling: {
      autoscalingEnabled: settings.scaling.autoscalingEnabled,
      targetCpuPercent: settings.scaling.targetCpuPercent,
      api: { replicas: settings.scaling.apiReplicas, maxReplicas: settings.scaling.apiMaxReplicas },
      worker: { replicas: settings.scaling.workerReplicas, maxReplicas: settings.scaling.workerMaxReplicas },
    },
    secretName: secrets.secretName,
    secretChecksum: secrets.checksum,
    ...(settings.apiIngress !== undefined ? { apiIngress: settings.apiIngress } : {}),
    ...(platform !== undefined ? { serviceAccount: platform.workloadServiceAccount } : {}),
  },
  {
    providers,
    dependsOn: [
      database,
      secrets,
      ...jobs.pauses,
      ...(stagingJobs?.pauses ?? []),
      ...ciPause.pauses,
      ...images.checks,
    ],
  },
);

// Step 6. Post-deploy verification, after every rendered object is ready; then the CronJobs resume.
const verification = new PostDeployVerification(
  COMPONENT_NAMES.verification,
  {
    probeScript,
    apiBaseUrl: settings.verification.apiBaseUrl,
    // With the API's Ingress, the API checks go through the address its load balancer publishes.
    ...(settings.verification.apiIngress !== undefined
      ? { apiIngress: settings.verification.apiIngress }
      : {}),
    // The worker is checked through a port-forward to its Deployment (the playbook's kubectl port-forward), over the
    // release's own cluster connection, unless the stack names a URL for it (never production).
    ...(settings.verification.workerBaseUrl !== undefined
      ? { workerBaseUrl: settings.verification.workerBaseUrl }
      : {}),
    namespace: settings.namespace,
    kubeconfig: cluster.kubeconfig,
    ...(cluster.context !== undefined ? { kubeContext: cluster.context } : {}),
    alertmanagerUrl: settings.verification.alertmanagerUrl,
    alertMatchers: settings.verification.alertMatchers,
    ...(settings.verification.alertmanagerAuthorization !== undefined
      ? { alertmanagerAuthorization: pulumi.secret(settings.verification.alertmanagerAuthorization) }
      : {}),
    ...(settings.verification.prometheusAuthorization !== undefined
      ? { prometheusAuthorization: pulumi.secret(settings.verification.prometheusAuthorization) }
      : {}),
    ...(settings.verification.syntheticE2eCommand !== undefined
      ? { syntheticE2eCommand: settings.verification.syntheticE2eCommand }
      : {}),
    ...(settings.verification.billingDrillDryRunCommand !== undefined
      ? { billingDrillDryRunCommand: settings.verification.billingDrillDryRunCommand }
      : {}),
    // The commands run in the app checkout, with the stack's secret variables (the read-only accounts); what they
    // leave is kept with the stack's evidence.
    ...(settings.verification.commandDir !== undefined
      ? { commandDir: settings.verification.commandDir }
      : {}),
    ...(settings.verification.commandEnvironment !== undefined
      ? {
          commandEnvironment: Object.fromEntries(
            Object.entries(settings.verification.commandEnvironment).map(([k, v]) => [k, pulumi.secret(v)]),
          ),
        }
      : {}),
    keptFilesDir: verificationFilesDir(settings.evidenceDir, pulumi.getStack()),
    ...(settings.verification.prometheusUrl !== undefined
      ? { prometheusUrl: settings.verification.prometheusUrl }
      : {}),
    metricChecks: settings.verification.metricChecks,
    ...(settings.verification.grafanaPanels !== undefined
      ? { grafanaPanels: settings.verification.grafanaPanels }
      : {}),
    ...(settings.verification.grafanaAuthorization !== undefined
      ? { grafanaAuthorization: pulumi.secret(settings.verification.grafanaAuthorization) }
      : {}),
    // Inconclusive checks (metrics or Grafana panels without data, an Alertmanager without a usable answer) fail
    // production's verification; elsewhere they are reported, not fatal.
    inconclusiveFails: production,
    budget,
    triggers: [images.digests.api, images.digests.worker, secrets.checksum, workloadKey],
  },
  { dependsOn: release.resources },
);
// Step 6, last: the CronJobs resume only after verification passed.
new ResumeScheduledJobs(
  COMPONENT_NAMES.jobs,
  { ...cronJobs, pauses: jobs.pauses },
  { dependsOn: [verification] },
);
if (stagingCronJobs !== undefined && stagingJobs !== undefined) {
  new ResumeScheduledJobs(
    COMPONENT_NAMES.stagingJobs,
    { ...stagingCronJobs, pauses: stagingJobs.pauses },
    { dependsOn: [verification] },
  );
}
new ResumeCiSchedules(
  COMPONENT_NAMES.jobs,
  { ...ciSchedules, pauses: ciPause.pauses },
  { dependsOn: [verification] },
);

export const environment = settings.environment;
export const releaseTag = settings.images.tag;
export const namespaceName = namespace.name;
export const imageRefs = images.refs;
export const imageDigests = images.digests;
export const databaseDump = database.dumpLocation;
export const pausedCronJobs = settings.pausedCronJobs;
export const verificationResults = verification.results;
