/**
 * Values the chart tests render with: what the Pulumi component `NovaRelease` (components/nova-release.ts,
 * `releaseValues`) passes on top of the environment's values file, per the committed stack configs.
 */

export const API_DIGEST = `sha256:${"a1".repeat(32)}`;
export const WORKER_DIGEST = `sha256:${"b2".repeat(32)}`;
export const REGISTRY = "registry.example.test:5000/nova";

/** The values the Pulumi component always passes (the contract's required keys). */
export const REQUIRED = {
  imageRegistry: REGISTRY,
  release: "2026.11.3",
  "api.image.digest": API_DIGEST,
  "worker.image.digest": WORKER_DIGEST,
  "secrets.checksum": "c0ffee",
} as const;

type SetValues = Readonly<Record<string, string | number | boolean>>;

/** Replica and autoscaling keys as `releaseValues` passes them (floor = replicas, one CPU target). */
function scaling(
  component: "api" | "worker",
  enabled: boolean,
  replicas: number,
  maxReplicas: number,
  targetCpu: number,
): SetValues {
  return {
    [`${component}.replicas`]: replicas,
    [`${component}.autoscaling.enabled`]: enabled,
    [`${component}.autoscaling.minReplicas`]: replicas,
    [`${component}.autoscaling.maxReplicas`]: maxReplicas,
    [`${component}.autoscaling.targetCPUUtilizationPercentage`]: targetCpu,
  };
}

/** Pulumi.production.yaml: apiReplicas 3 / max 10, workerReplicas 2 / max 6, autoscaling on at 70 % CPU. */
export const PRODUCTION_PROGRAM: SetValues = {
  ...REQUIRED,
  ...scaling("api", true, 3, 10, 70),
  ...scaling("worker", true, 2, 6, 70),
};

/** Pulumi.staging.yaml: apiReplicas 2, workerReplicas 1, no autoscaling (ceilings and CPU target: config defaults). */
export const STAGING_PROGRAM: SetValues = {
  ...REQUIRED,
  ...scaling("api", false, 2, 10, 70),
  ...scaling("worker", false, 1, 6, 70),
};

/** The production render as the program produces it. */
export const PRODUCTION = { valuesFiles: ["values-production.yaml"], set: PRODUCTION_PROGRAM } as const;
/** The staging render as the program produces it. */
export const STAGING = { valuesFiles: ["values-staging.yaml"], set: STAGING_PROGRAM } as const;
