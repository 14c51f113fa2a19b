import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { type Environment } from "../src/contract";
import { forwardDependsOn } from "./depends-on";

export interface ServiceScaling {
  /** Replicas when autoscaling is off; the HPA floor when it is on. */
  readonly replicas: number;
  /** HPA ceiling. */
  readonly maxReplicas: number;
}

export interface NovaReleaseArgs {
  /** Path of the `nova-stack` chart directory. */
  readonly chartPath: string;
  /** Values files applied in order (e.g. `values-production.yaml`); later files win. */
  readonly valuesFiles: readonly string[];
  /** Target namespace (must exist). */
  readonly namespace: pulumi.Input<string>;
  readonly environment: Environment;
  /** Registry the repositories live under. */
  readonly imageRegistry: string;
  /**
   * Release id (image tag), rendered as a label of the workloads (Deployments, the CronJob) and their pods only, so
   * a release leaves every other object of the chart as it is.
   */
  readonly release: string;
  /** Image repositories and digests per service. */
  readonly images: {
    readonly api: { readonly repository: string; readonly digest: pulumi.Input<string> };
    readonly worker: { readonly repository: string; readonly digest: pulumi.Input<string> };
  };
  readonly scaling: {
    readonly autoscalingEnabled: boolean;
    readonly targetCpuPercent: number;
    readonly api: ServiceScaling;
    readonly worker: ServiceScaling;
  };
  /** Name of the Secret the workloads read their environment from. */
  readonly secretName: pulumi.Input<string>;
  /** Checksum of the secrets; a change rolls the pods. */
  readonly secretChecksum: pulumi.Input<string>;
  /**
   * The API's public entry: the chart renders the Ingress nova-api for this host on the named static address and
   * managed certificate, and admits only the load balancer's ranges to the API. Not set: no public entry.
   */
  readonly apiIngress?: {
    readonly host: string;
    readonly staticIpName: string;
    readonly certificateName: string;
    readonly className: string;
  };
  /**
   * The service account the workloads run as when the platform stack owns it (the chart then creates none). Not set:
   * the chart's own.
   */
  readonly serviceAccount?: pulumi.Input<string>;
  /** Skip waiting for rollouts (never in production). Default false. */
  readonly skipAwait?: boolean;
}

/** The chart's values file for an environment: production has its own; staging and sandbox share staging's. */
export function valuesFileFor(chartDir: string, environment: NovaReleaseArgs["environment"]): string {
  return `${chartDir.replace(/\/+$/, "")}/values-${environment === "production" ? "production" : "staging"}.yaml`;
}

/** Helm values for the chart, per the values contract in docs/architecture.md. Pure. */
export function releaseValues(args: NovaReleaseArgs): pulumi.Inputs {
  const scaling = (s: ServiceScaling) => ({
    replicas: s.replicas,
    autoscaling: {
      enabled: args.scaling.autoscalingEnabled,
      minReplicas: s.replicas,
      maxReplicas: s.maxReplicas,
      targetCPUUtilizationPercentage: args.scaling.targetCpuPercent,
    },
  });
  return {
    environment: args.environment,
    imageRegistry: args.imageRegistry,
    release: args.release,
    api: { image: { ...args.images.api }, ...scaling(args.scaling.api) },
    worker: { image: { ...args.images.worker }, ...scaling(args.scaling.worker) },
    secrets: { existingSecret: args.secretName, checksum: args.secretChecksum },
    commonAnnotations: { [PATCH_FORCE_ANNOTATION]: "true" },
    ...(args.apiIngress !== undefined ? { apiIngress: { enabled: true, ...args.apiIngress } } : {}),
    ...(args.serviceAccount !== undefined
      ? { serviceAccount: { create: false, name: args.serviceAccount } }
      : {}),
  };
}

/**
 * The kubernetes provider's annotation that makes its server-side apply take over fields another field manager owns:
 * on every object of the chart, so a field changed by hand (`kubectl scale` or `kubectl set image` during an incident)
 * is taken back by the next release instead of failing it with a field conflict — the release is the source of truth,
 * as the refresh that starts every `rollout up` already assumes. Its value never changes, so it never makes a diff.
 */
export const PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce";

/**
 * The `nova-stack` Helm chart, rendered with `helm.v4.Chart` so every object is its own Pulumi resource (visible to
 * the policy pack) and each Deployment's rollout is awaited. Ordering comes from `opts.dependsOn`, which is passed to
 * the chart: the database dump and the CronJob pauses finish before any workload changes.
 */
export class NovaRelease extends pulumi.ComponentResource {
  public readonly chart: k8s.helm.v4.Chart;
  /** The rendered resources. */
  public readonly resources: pulumi.Output<pulumi.Resource[]>;

  constructor(name: string, args: NovaReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:release:NovaRelease", name, {}, opts);
    if (args.environment === "production" && args.skipAwait === true) {
      throw new pulumi.InputPropertiesError({
        message: "NovaRelease: production rollouts are always awaited",
        errors: [{ propertyPath: "skipAwait", reason: "must not be true in production" }],
      });
    }
    this.chart = new k8s.helm.v4.Chart(
      `${name}-release`,
      {
        chart: args.chartPath,
        name: "nova",
        namespace: args.namespace,
        valueYamlFiles: args.valuesFiles.map((f) => new pulumi.asset.FileAsset(f)),
        values: releaseValues(args),
        skipAwait: args.skipAwait ?? false,
      },
      { parent: this, ...forwardDependsOn(opts) },
    );
    this.resources = this.chart.resources as pulumi.Output<pulumi.Resource[]>;
    this.registerOutputs({});
  }
}
