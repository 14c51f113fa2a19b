/**
 * nova-workload-availability (stack policy): every production Deployment survives losing a pod. Without a
 * HorizontalPodAutoscaler it runs spec.replicas >= `minReplicas` (unset means 1); with one (autoscaling/v2,
 * scaleTargetRef Deployment/<name> in its namespace) the HPA owns the count, so its minReplicas must be >=
 * `minReplicas` and a PodDisruptionBudget (policy/v1) in the same namespace must select the pod template's labels
 * and leave at least one pod standing. Production follows the target, as in nova-workload-safety.
 */
import { type PolicyConfigSchema, type PolicyResource, type StackValidationPolicy } from "@pulumi/policy";
import {
  environmentsSchemaProperty,
  fix,
  type LocationConfig,
  locationSchemaProperties,
  readConfig,
  stackContext,
  tryRead,
} from "./common";
import { objectRef, workloadScope } from "./workload-safety";
import { POLICY_NAMES } from "../../src/contract";

export interface WorkloadAvailabilityConfig extends LocationConfig {
  readonly environments: readonly string[];
  readonly minReplicas: number;
}

const configSchema: PolicyConfigSchema = {
  properties: {
    environments: environmentsSchemaProperty(
      "Stack environments (nova-rollout:environment) the rule applies to; stacks aimed at a protected target always count as production.",
    ),
    minReplicas: {
      type: "integer",
      minimum: 1,
      default: 2,
      description: "Minimum replicas of a Deployment, or minReplicas of the HPA that scales it.",
    },
    ...locationSchemaProperties,
  },
};

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const HPA_TYPES = [
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
];
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {};
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const strMap = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(asObj(v)).flatMap(([k, x]) => (typeof x === "string" ? [[k, x]] : [])));

interface Requirement {
  readonly key: string;
  readonly operator: string;
  readonly values: readonly string[];
}

/** A label selector: matchLabels plus matchExpressions (In, NotIn, Exists, DoesNotExist). */
interface Selector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly Requirement[];
}

/** Whether a selector selects a set of labels (Kubernetes semantics; an empty policy/v1 selector selects all). */
export function selects(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  const byLabels = Object.entries(selector.matchLabels).every(([k, v]) => labels[k] === v);
  return (
    byLabels &&
    selector.matchExpressions.every((e) => {
      const has = Object.prototype.hasOwnProperty.call(labels, e.key);
      const value = labels[e.key];
      switch (e.operator) {
        case "In":
          return value !== undefined && e.values.includes(value);
        case "NotIn":
          return value === undefined || !e.values.includes(value);
        case "Exists":
          return has;
        case "DoesNotExist":
          return !has;
        default:
          return false;
      }
    })
  );
}

/** Whether a PDB leaves at least one of `floor` pods standing (minAvailable > 0, or maxUnavailable < floor). */
export function pdbProtects(
  pdb: { minAvailable?: unknown; maxUnavailable?: unknown },
  floor: number,
): boolean {
  const amount = (v: unknown): { n: number; percent: boolean } | undefined => {
    if (typeof v === "number") return { n: v, percent: false };
    const m = typeof v === "string" ? /^(\d+)(%?)$/.exec(v) : null;
    return m === null ? undefined : { n: Number(m[1]), percent: m[2] === "%" };
  };
  const min = amount(pdb.minAvailable);
  const max = amount(pdb.maxUnavailable);
  if (min !== undefined) return min.n > 0;
  if (max !== undefined) return max.percent ? max.n < 100 : max.n < floor;
  // Neither set: the API server defaults minAvailable to 1.
  return true;
}

interface DeploymentInfo {
  readonly resource: PolicyResource;
  readonly ref: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly replicas: unknown;
  readonly labels: Readonly<Record<string, string>>;
}

interface HpaInfo {
  readonly ref: string;
  readonly namespace: string | undefined;
  readonly targetKind: string | undefined;
  readonly targetName: string | undefined;
  readonly minReplicas: number;
}

interface PdbInfo {
  readonly ref: string;
  readonly namespace: string | undefined;
  readonly selector: Selector;
  readonly minAvailable?: unknown;
  readonly maxUnavailable?: unknown;
}

function metaOf(props: Obj): { name: string | undefined; namespace: string | undefined } {
  const read = tryRead(() => {
    const m = asObj(props["metadata"]);
    return { name: str(m["name"]), namespace: str(m["namespace"]) };
  });
  return read.value ?? { name: undefined, namespace: undefined };
}

function readSelector(v: unknown): Selector {
  const s = asObj(v);
  const exprs = Array.isArray(s["matchExpressions"]) ? s["matchExpressions"].map(asObj) : [];
  return {
    matchLabels: strMap(s["matchLabels"]),
    matchExpressions: exprs.map((e) => ({
      key: str(e["key"]) ?? "",
      operator: str(e["operator"]) ?? "",
      values: Array.isArray(e["values"]) ? e["values"].filter((x): x is string => typeof x === "string") : [],
    })),
  };
}

/** Namespaces match when equal; an unset namespace on either side is the same "default" release namespace. */
const sameNamespace = (a: string | undefined, b: string | undefined) => (a ?? "") === (b ?? "");

export const workloadAvailability: StackValidationPolicy = {
  name: POLICY_NAMES.workloadAvailability,
  description:
    "Requires every production Deployment to run at least two replicas, or to be scaled by a HorizontalPodAutoscaler with minReplicas of at least two and covered by a PodDisruptionBudget selecting its pods.",
  enforcementLevel: "mandatory",
  configSchema,
  validateStack: (args, reportViolation) => {
    const cfg = readConfig<WorkloadAvailabilityConfig>(args, configSchema);
    const first = args.resources[0];
    if (first === undefined) {
      return;
    }
    const ctx = stackContext(first.urn, cfg);
    let unknownLinks = 0;

    const hpas: HpaInfo[] = [];
    const pdbs: PdbInfo[] = [];
    const deployments: (DeploymentInfo | { resource: PolicyResource; ref: string; unknown: true })[] = [];
    for (const r of args.resources) {
      const props = r.props as Obj;
      if (HPA_TYPES.includes(r.type)) {
        const { ref, namespace } = objectRef("HorizontalPodAutoscaler", props, r.name);
        const read = tryRead(() => {
          const spec = asObj(props["spec"]);
          const target = asObj(spec["scaleTargetRef"]);
          const min = spec["minReplicas"];
          return {
            targetKind: str(target["kind"]),
            targetName: str(target["name"]),
            // The API server defaults minReplicas to 1.
            minReplicas: typeof min === "number" ? min : 1,
          };
        });
        if (read.value === undefined) unknownLinks++;
        else hpas.push({ ref, namespace, ...read.value });
      } else if (r.type === PDB) {
        const { ref, namespace } = objectRef("PodDisruptionBudget", props, r.name);
        const read = tryRead(() => {
          const spec = asObj(props["spec"]);
          return {
            selector: readSelector(spec["selector"]),
            minAvailable: spec["minAvailable"],
            maxUnavailable: spec["maxUnavailable"],
          };
        });
        if (read.value === undefined) unknownLinks++;
        else pdbs.push({ ref, namespace, ...read.value });
      } else if (r.type === DEPLOYMENT) {
        const { ref, namespace } = objectRef("Deployment", props, r.name);
        const name = metaOf(props).name ?? /([^/:]+)$/.exec(r.name)?.[1] ?? r.name;
        const read = tryRead(() => {
          const spec = asObj(props["spec"]);
          const template = asObj(spec["template"]);
          return { replicas: spec["replicas"], labels: strMap(asObj(template["metadata"])["labels"]) };
        });
        if (read.value === undefined) deployments.push({ resource: r, ref, unknown: true });
        else deployments.push({ resource: r, ref, name, namespace, ...read.value });
      }
    }

    const deploymentFix = fix(
      "pulumi config set nova-rollout:apiReplicas 2 (and workerReplicas), or set nova-rollout:autoscalingEnabled true with HPA floors >= 2 and podDisruptionBudget.enabled in charts/nova-stack, then re-run pulumi preview",
    );
    for (const d of deployments) {
      const scope = workloadScope(ctx, cfg.environments, "namespace" in d ? d.namespace : undefined);
      if (!scope.applies) continue;
      const where = `${d.ref} (${scope.label})`;
      if ("unknown" in d) {
        reportViolation(
          `${where}: the replica count or pod labels are unknown during preview, so its availability cannot be checked.${deploymentFix}`,
          d.resource.urn,
        );
        continue;
      }
      const targeting = hpas.filter(
        (h) =>
          h.targetKind === "Deployment" && h.targetName === d.name && sameNamespace(h.namespace, d.namespace),
      );
      const threshold = `threshold: replicas >= ${cfg.minReplicas}, or an HPA with minReplicas >= ${cfg.minReplicas} plus a PodDisruptionBudget selecting the pod labels`;
      const unknownNote =
        unknownLinks > 0
          ? ` (${unknownLinks} HorizontalPodAutoscaler/PodDisruptionBudget objects are unknown during preview)`
          : "";
      if (targeting.length === 0) {
        if (typeof d.replicas === "number" && d.replicas >= cfg.minReplicas) continue;
        const replicas =
          d.replicas === undefined
            ? "spec.replicas is unset (Kubernetes runs 1)"
            : `replicas ${JSON.stringify(d.replicas)}`;
        reportViolation(
          `${where}: ${replicas} and no HorizontalPodAutoscaler targets it${unknownNote}; ${threshold}.${deploymentFix}`,
          d.resource.urn,
        );
        continue;
      }
      // An HPA owns the count: its floor is what the Deployment can drop to, whatever spec.replicas says.
      const problems: string[] = [];
      const floor = Math.max(...targeting.map((h) => h.minReplicas));
      if (floor < cfg.minReplicas) {
        problems.push(
          `${targeting.map((h) => `${h.ref} has minReplicas ${h.minReplicas}`).join(", ")} (the HPA owns the replica count)`,
        );
      }
      const selecting = pdbs.filter(
        (p) => sameNamespace(p.namespace, d.namespace) && selects(p.selector, d.labels),
      );
      if (selecting.length === 0) {
        problems.push(
          `no PodDisruptionBudget in its namespace selects its pod labels ${JSON.stringify(d.labels)}${unknownNote}`,
        );
      } else if (!selecting.some((p) => pdbProtects(p, floor))) {
        problems.push(
          `${selecting.map((p) => p.ref).join(", ")} ${selecting.length === 1 ? "lets" : "let"} every pod be evicted at once (minAvailable 0 or maxUnavailable >= ${floor})`,
        );
      }
      if (problems.length > 0) {
        reportViolation(`${where}: ${problems.join("; ")}; ${threshold}.${deploymentFix}`, d.resource.urn);
      }
    }
  },
};
