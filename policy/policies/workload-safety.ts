/**
 * nova-workload-safety: production Deployments have readiness and liveness probes, CPU/memory requests and limits,
 * run as non-root, and run at least `minReplicas` replicas (a Deployment without `replicas` is HPA-managed: the
 * chart omits the field when autoscaling is on, and the HPA's minReplicas applies).
 */
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import {
  environmentOf,
  environmentsSchemaProperty,
  fix,
  type LocationConfig,
  locationSchemaProperties,
  policyContext,
  tryRead,
} from "./common";

export interface WorkloadSafetyConfig extends LocationConfig {
  readonly environments: readonly string[];
  readonly minReplicas: number;
  readonly allowUnsetReplicas: boolean;
}

const configSchema: PolicyConfigSchema = {
  properties: {
    environments: environmentsSchemaProperty("Stack environments the rules apply to."),
    minReplicas: {
      type: "integer",
      minimum: 1,
      default: 2,
      description: "Minimum replicas of a Deployment.",
    },
    allowUnsetReplicas: {
      type: "boolean",
      default: true,
      description: "Accept Deployments without spec.replicas (HPA-managed).",
    },
    ...locationSchemaProperties,
  },
};

interface Probe {
  [k: string]: unknown;
}
interface ContainerSpec {
  name?: unknown;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: { runAsNonRoot?: unknown; runAsUser?: unknown };
}

export const workloadSafety: ResourceValidationPolicy = {
  name: "nova-workload-safety",
  description:
    "Requires production Deployments to have readiness and liveness probes, CPU and memory requests and limits, a non-root security context and at least two replicas.",
  enforcementLevel: "mandatory",
  configSchema,
  validateResource: (args, reportViolation) => {
    if (args.type !== "kubernetes:apps/v1:Deployment") {
      return;
    }
    const { cfg, ctx } = policyContext<WorkloadSafetyConfig>(args, configSchema);
    const env = ctx === undefined ? "production" : environmentOf(ctx.settings);
    if (!cfg.environments.includes(env)) {
      return;
    }
    const read = tryRead(() => {
      const spec = (args.props["spec"] ?? {}) as {
        replicas?: unknown;
        template?: { spec?: { securityContext?: { runAsNonRoot?: unknown }; containers?: ContainerSpec[] } };
      };
      const pod = spec.template?.spec ?? {};
      return {
        replicas: spec.replicas,
        podNonRoot: pod.securityContext?.runAsNonRoot,
        containers: (pod.containers ?? []).map((c) => ({
          name: typeof c.name === "string" ? c.name : "?",
          readiness: c.readinessProbe !== undefined,
          liveness: c.livenessProbe !== undefined,
          requests: Object.keys(c.resources?.requests ?? {}),
          limits: Object.keys(c.resources?.limits ?? {}),
          nonRoot: c.securityContext?.runAsNonRoot,
        })),
      };
    });
    const where = `Deployment ${args.name} (${env})`;
    const chartFix = fix("set it in charts/nova-stack (values-production.yaml) and re-run pulumi preview");
    if (read.unknown || read.value === undefined) {
      reportViolation(
        `${where}: the pod spec is unknown during preview, so its safety cannot be checked.${chartFix}`,
      );
      return;
    }
    const w = read.value;
    if (w.replicas === undefined) {
      if (!cfg.allowUnsetReplicas) {
        reportViolation(`${where}: spec.replicas is unset; threshold >= ${cfg.minReplicas}.${chartFix}`);
      }
    } else if (typeof w.replicas !== "number" || w.replicas < cfg.minReplicas) {
      reportViolation(
        `${where}: replicas ${JSON.stringify(w.replicas)}; threshold >= ${cfg.minReplicas} (or enable the HPA).${fix("pulumi config set nova-rollout:apiReplicas 2 (and workerReplicas)")}`,
      );
    }
    if (w.containers.length === 0) {
      reportViolation(`${where}: no containers found.${chartFix}`);
    }
    for (const c of w.containers) {
      const missing: string[] = [];
      if (!c.readiness) missing.push("readinessProbe");
      if (!c.liveness) missing.push("livenessProbe");
      for (const r of ["cpu", "memory"]) {
        if (!c.requests.includes(r)) missing.push(`requests.${r}`);
        if (!c.limits.includes(r)) missing.push(`limits.${r}`);
      }
      if (c.nonRoot !== true && !(w.podNonRoot === true && c.nonRoot === undefined)) {
        missing.push("runAsNonRoot: true");
      }
      if (missing.length > 0) {
        reportViolation(
          `${where}, container "${c.name}": missing ${missing.join(", ")}; threshold: probes, cpu/memory requests and limits, runAsNonRoot.${chartFix}`,
        );
      }
    }
  },
};
