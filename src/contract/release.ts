/**
 * The release vocabulary: environments, services, their image repositories and Deployments, the application
 * secrets, and the annotations that record a release. Shared by the program, the components, the policy pack, the evidence model and the CLI.
 */

/** The environments a stack may declare (`nova-rollout:environment`); `production` makes the gate mandatory. */
export const ENVIRONMENTS = ["sandbox", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The two services of the platform. */
export const SERVICES = ["api", "worker"] as const;
export type Service = (typeof SERVICES)[number];

/** Image repository of each service, inside the stack's `imageRegistry`. */
export const IMAGE_REPOSITORIES = { api: "nova-rms-api", worker: "nova-rms-worker" } as const;
export type ImageRepository = (typeof IMAGE_REPOSITORIES)[Service];

/** The service whose image repository is `repository`, if it is one of the Nova images. */
export function serviceOfRepository(repository: string): Service | undefined {
  return SERVICES.find((s) => IMAGE_REPOSITORIES[s] === repository);
}

/** The Deployment (and Service) the chart renders for each service; fixed names, one release per namespace. */
export const SERVICE_DEPLOYMENTS = { api: "nova-api", worker: "nova-worker" } as const;

/** The CronJob the chart renders for the weekly billing drill; paused during a rollout. */
export const BILLING_DRILL_CRONJOB = "nova-billing-drill";

/** Value of the `app.kubernetes.io/part-of` label on the objects the program creates. */
export const PART_OF = "nova-rms";

/** Release-record annotations on the namespace (read by the readiness gate). */
export const RELEASE_ANNOTATIONS = {
  release: "rollout.nova.dev/release",
  apiDigest: "rollout.nova.dev/api-digest",
  workerDigest: "rollout.nova.dev/worker-digest",
  environment: "rollout.nova.dev/environment",
} as const;

/** Label on the release namespace naming its environment (the same key as the release-record annotation). */
export const ENVIRONMENT_LABEL = RELEASE_ANNOTATIONS.environment;

/**
 * Pod Security Admission labels of the release namespace: the API server refuses (enforce), records (audit) and
 * warns about every pod that breaks the restricted Pod Security Standard, at the newest version of its checks.
 */
export const POD_SECURITY_LABELS = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/enforce-version": "latest",
  "pod-security.kubernetes.io/audit": "restricted",
  "pod-security.kubernetes.io/audit-version": "latest",
  "pod-security.kubernetes.io/warn": "restricted",
  "pod-security.kubernetes.io/warn-version": "latest",
} as const;

/** Annotation on the application Secret carrying the keyed checksum of its values. */
export const SECRET_CHECKSUM_ANNOTATION = "rollout.nova.dev/checksum";

/** Application secrets the `config` secret source knows, by config key (`nova-rollout:<key>`). */
export const SECRET_KEYS = ["databaseUrl", "jwtSigningKey", "billingApiKey"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/** The key each application secret is stored under in the application Secret (the container's env name). */
export const SECRET_ENV_NAMES: Readonly<Record<SecretKey, string>> = {
  databaseUrl: "DATABASE_URL",
  jwtSigningKey: "JWT_SIGNING_KEY",
  billingApiKey: "BILLING_API_KEY",
};

/** Name of the application Secret (`metadata.name`) the chart mounts with `envFrom`. */
export const APP_SECRET_NAME = "nova-app-secrets";

/** Default evidence directory, relative to the project directory (`nova-rollout:evidenceDir`). */
export const DEFAULT_EVIDENCE_DIR = "tests/drills/logs";

/** A fully qualified DNS host name (lower case), e.g. `api.nova-rms.example`: the API's public host. */
export const HOSTNAME_PATTERN = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
