/**
 * Logical names of the program's resources that the policy pack, the CLI and the docs refer to. A component's
 * children are named `<component name><suffix>`; the program names its components with {@link COMPONENT_NAMES}.
 */

/** The Pulumi project (`name:` of Pulumi.yaml), which is also the stack config namespace (`nova-rollout:<key>`). */
export const PROJECT_NAME = "nova-rollout";

/** The name `index.ts` gives each component. */
export const COMPONENT_NAMES = {
  cluster: "nova",
  platform: "nova",
  namespace: "nova",
  images: "nova",
  secrets: "nova",
  database: "nova-db",
  jobs: "nova-jobs",
  stagingJobs: "nova-staging-jobs",
  release: "nova",
  verification: "nova-verify",
} as const;

/** Suffixes of the children the policies and the CLI look for. */
export const CHILD_SUFFIXES = {
  /** The Kubernetes provider of `ClusterConnection`. */
  provider: "-k8s",
  /** The Namespace of `ReleaseNamespace`. */
  namespace: "-namespace",
  /** The Kubernetes Secret of `AppSecrets`. */
  secret: "-secret",
  /** The logical dump of `DatabaseSafeguards`. */
  dump: "-dump",
  /** The migration rehearsal of `DatabaseSafeguards`. */
  migrationRehearsal: "-migration-rehearsal",
} as const;

/** The explicit Kubernetes provider every Kubernetes resource uses: `nova-k8s`. */
export const K8S_PROVIDER_NAME = `${COMPONENT_NAMES.cluster}${CHILD_SUFFIXES.provider}`;

/** The release namespace resource: `nova-namespace`. */
export const NAMESPACE_RESOURCE_NAME = `${COMPONENT_NAMES.namespace}${CHILD_SUFFIXES.namespace}`;

/** Logical names of the post-deploy verification commands start with this: `nova-verify-`. */
export const VERIFICATION_RESOURCE_PREFIX = `${COMPONENT_NAMES.verification}-`;

/** What stands between the component name and the CronJob in a pause command's name. */
export const PAUSE_INFIX = "-pause-";
/** What stands between the component name and the CronJob in a resume command's name. */
export const RESUME_INFIX = "-resume-";

/**
 * The field manager of every `spec.suspend` patch (the pause, the resume, the runbook's emergency resume). Not kubectl's
 * default (`kubectl-patch`): the kubernetes provider's server-side apply adopts the fields of any `kubectl…` Update
 * manager as its own before it applies, and the chart does not render `suspend`, so a release that changes the CronJob
 * would drop the pause mid-apply. A manager of its own keeps `spec.suspend` out of the provider's hands.
 */
export const SUSPEND_FIELD_MANAGER = "nova-rollout-suspend";

/** `<component>-pause-<job>`: the command that suspends `job` before the chart changes. */
export function pauseCommandName(component: string, job: string): string {
  return `${component}${PAUSE_INFIX}${job}`;
}

/**
 * What the CI schedules' pause and resume stand in the place of a CronJob's name: `nova-jobs-pause-ci-schedules`,
 * `nova-jobs-resume-ci-schedules` (the launch summary counts them in the pause and resume steps).
 */
export const CI_SCHEDULES_JOB = "ci-schedules";

/** `<component>-resume-<job>`: the command that resumes `job` after verification passed. */
export function resumeCommandName(component: string, job: string): string {
  return `${component}${RESUME_INFIX}${job}`;
}

/**
 * The production marker: a ConfigMap the platform stack writes into a cluster it owns, readable by every
 * authenticated user, whose `environment` entry says what the cluster is. A cluster whose marker says `production`
 * is a protected target whatever a stack calls it or however its kubeconfig addresses it.
 */
export const CLUSTER_MARKER = {
  namespace: "kube-public",
  name: "nova-platform",
  /** The data key holding the cluster's environment. */
  environmentKey: "environment",
} as const;
