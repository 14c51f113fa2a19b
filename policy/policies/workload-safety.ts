/**
 * nova-workload-safety: the workloads of a production stack (Deployments, StatefulSets, Jobs and CronJobs, init
 * containers included) are judged by meaning, not by the presence of fields:
 * - CPU and memory requests and limits parse as Kubernetes quantities greater than zero, each limit >= its request;
 * - long-running containers have readiness and liveness probes, and liveness is not a copy of readiness (same
 *   handler and timing: a slow dependency then fails both and the kubelet restarts pods exactly under load);
 * - the effective security context (container over pod, as Kubernetes merges it) runs as non-root, forbids privilege
 *   escalation and privileged mode, mounts the root filesystem read-only, drops ALL capabilities and adds none but
 *   NET_BIND_SERVICE;
 * - a Deployment's explicit spec.replicas is at least `minReplicas` (every update applies it, an HPA's count
 *   included). A Deployment without `replicas` is HPA-managed: nova-workload-availability links it to its HPA and PDB.
 *
 * Production follows the target: a stack aimed at a protected target (policy/config/production.json), or an object
 * in a protected namespace, is judged as production whatever its `environment` label; other stacks are judged when
 * their label is listed in `environments`.
 */
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import {
  environmentOf,
  environmentsSchemaProperty,
  fix,
  gateInputOf,
  type LocationConfig,
  locationSchemaProperties,
  policyContext,
  type StackContext,
  tryRead,
} from "./common";

export interface WorkloadSafetyConfig extends LocationConfig {
  readonly environments: readonly string[];
  readonly minReplicas: number;
  readonly allowUnsetReplicas: boolean;
}

const configSchema: PolicyConfigSchema = {
  properties: {
    environments: environmentsSchemaProperty(
      "Stack environments (nova-rollout:environment) the rules apply to; stacks aimed at a protected target always count as production.",
    ),
    minReplicas: {
      type: "integer",
      minimum: 1,
      default: 2,
      description: "Minimum explicit spec.replicas of a Deployment.",
    },
    allowUnsetReplicas: {
      type: "boolean",
      default: true,
      description:
        "Accept Deployments without spec.replicas (HPA-managed; nova-workload-availability links the HPA).",
    },
    ...locationSchemaProperties,
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Scope: which stacks and objects are judged, and as what.

/** Whether a policy applies to an object, and the label its messages show (e.g. `production: namespace nova-prod`). */
export interface WorkloadScope {
  readonly applies: boolean;
  readonly label: string;
}

/**
 * Classifies a stack (and optionally the namespace of one object) for the workload policies. Production follows the
 * target: a stack whose URN names no stack, whose settings or committed enforcement cannot be read, that points at a
 * protected target, or an object in a protected namespace, is production (fail closed). Otherwise the stack's
 * `environment` label decides, against `environments`.
 */
export function workloadScope(
  ctx: StackContext | undefined,
  environments: readonly string[],
  namespace?: string,
): WorkloadScope {
  if (ctx === undefined) {
    return { applies: true, label: "production" };
  }
  const gate = gateInputOf(ctx);
  if (gate.input === undefined) {
    return { applies: true, label: "production: the committed enforcement is unreadable" };
  }
  const { stackClass, enforcement } = gate.input;
  const targets = [...stackClass.protectedTargets];
  if (
    namespace !== undefined &&
    enforcement.baseline.protectedTargets.namespaces.includes(namespace) &&
    !targets.includes(`namespace ${namespace}`)
  ) {
    targets.push(`namespace ${namespace}`);
  }
  if (targets.length > 0) {
    return { applies: true, label: `production: targets ${targets.join(", ")}` };
  }
  if (stackClass.production) {
    return { applies: true, label: "production" };
  }
  const env = environmentOf(ctx.settings);
  return { applies: environments.includes(env), label: env };
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes quantities.

const BINARY_SUFFIX: Readonly<Record<string, number>> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_SUFFIX: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE]?)|[eE]([+-]?\d+))$/;

/**
 * Parses a Kubernetes quantity (`resource.Quantity`): a signed decimal number with an optional binary suffix (Ki … Ei),
 * decimal suffix (n u m k M G T P E) or decimal exponent (e3, E-2). Numbers are accepted as they are (YAML may give
 * `cpu: 1`). Returns undefined when the value is not a quantity.
 */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) ? value : undefined;
  }
  if (typeof value !== "string") {
    return undefined;
  }
  const m = QUANTITY.exec(value.trim());
  if (m === null) {
    return undefined;
  }
  const [, sign = "", digits = "", binary, decimal, exponent] = m;
  if (binary !== undefined) {
    return Number(`${sign}${digits}`) * 1024 ** (BINARY_SUFFIX[binary] ?? 0);
  }
  // A decimal power of ten written as an exponent keeps "100m" and "0.1" the same double.
  const power = exponent !== undefined ? Number(exponent) : (DECIMAL_SUFFIX[decimal ?? ""] ?? 0);
  return Number(`${sign}${digits}e${power}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading workloads.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = Record<string, unknown>;

/** A plain copy of a value read through the props proxy (reading an unknown leaf throws, see `tryRead`). */
function plain(value: unknown): Json | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object") return value as Json;
  if (Array.isArray(value)) return value.map((v) => plain(v) ?? null);
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(value as Obj)) {
    const p = plain(v);
    if (p !== undefined) out[k] = p;
  }
  return out;
}

function asObj(value: unknown): Obj {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Obj) : {};
}

function asList(value: unknown): Obj[] {
  return Array.isArray(value) ? value.map(asObj) : [];
}

/** The workload kinds judged, by Pulumi type: where the pod spec is and whether the pods are long-running. */
const WORKLOADS: Readonly<
  Record<string, { kind: string; podPath: readonly string[]; longRunning: boolean }>
> = {
  "kubernetes:apps/v1:Deployment": { kind: "Deployment", podPath: ["template", "spec"], longRunning: true },
  "kubernetes:apps/v1:StatefulSet": { kind: "StatefulSet", podPath: ["template", "spec"], longRunning: true },
  "kubernetes:batch/v1:Job": { kind: "Job", podPath: ["template", "spec"], longRunning: false },
  "kubernetes:batch/v1:CronJob": {
    kind: "CronJob",
    podPath: ["jobTemplate", "spec", "template", "spec"],
    longRunning: false,
  },
};

/** `Kind namespace/name` of an object: its metadata, else the Pulumi name of a chart object (`release:ns/name`). */
export function objectRef(kind: string, props: Obj, pulumiName: string): { ref: string; namespace?: string } {
  const meta = tryRead(() => {
    const m = asObj(props["metadata"]);
    const name = m["name"];
    const namespace = m["namespace"];
    return {
      name: typeof name === "string" ? name : undefined,
      namespace: typeof namespace === "string" ? namespace : undefined,
    };
  }).value;
  const fromPulumi = /^(?:[^:/]*:)?(?:([^/]+)\/)?([^/]+)$/.exec(pulumiName);
  const name = meta?.name ?? fromPulumi?.[2] ?? pulumiName;
  const namespace = meta?.namespace ?? (meta?.name === undefined ? fromPulumi?.[1] : undefined);
  return {
    ref: `${kind} ${namespace === undefined ? "" : `${namespace}/`}${name}`,
    ...(namespace !== undefined ? { namespace } : {}),
  };
}

interface Container {
  readonly name: string;
  readonly init: boolean;
  readonly readinessProbe?: Obj;
  readonly livenessProbe?: Obj;
  readonly ports: readonly Obj[];
  readonly resources: { readonly requests: Obj; readonly limits: Obj };
  readonly securityContext: Obj;
}

interface Workload {
  readonly replicas: unknown;
  readonly podSecurityContext: Obj;
  readonly containers: readonly Container[];
}

function readContainer(raw: Obj, init: boolean): Container {
  const resources = asObj(raw["resources"]);
  const probe = (k: string) => (raw[k] === undefined ? undefined : asObj(plain(raw[k])));
  const readinessProbe = probe("readinessProbe");
  const livenessProbe = probe("livenessProbe");
  return {
    name: typeof raw["name"] === "string" ? raw["name"] : "?",
    init,
    ...(readinessProbe !== undefined ? { readinessProbe } : {}),
    ...(livenessProbe !== undefined ? { livenessProbe } : {}),
    ports: asList(plain(raw["ports"])),
    resources: {
      requests: asObj(plain(resources["requests"])),
      limits: asObj(plain(resources["limits"])),
    },
    securityContext: asObj(plain(raw["securityContext"])),
  };
}

function readWorkload(props: Obj, podPath: readonly string[]): Workload {
  const spec = asObj(props["spec"]);
  let pod: Obj = spec;
  for (const k of podPath) pod = asObj(pod[k]);
  return {
    replicas: spec["replicas"],
    podSecurityContext: asObj(plain(pod["securityContext"])),
    containers: [
      ...asList(pod["initContainers"]).map((c) => readContainer(c, true)),
      ...asList(pod["containers"]).map((c) => readContainer(c, false)),
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Rules. Each returns problems of one container; the caller names the object and adds the fix.

const RESOURCES = ["cpu", "memory"] as const;

/** Present, parsable, > 0, limit >= request. */
export function resourceProblems(resources: Container["resources"]): string[] {
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const r of RESOURCES) {
    const parsed: Partial<Record<"requests" | "limits", number>> = {};
    for (const side of ["requests", "limits"] as const) {
      const raw = resources[side][r];
      if (raw === undefined || raw === null || raw === "") {
        missing.push(`${side}.${r}`);
        continue;
      }
      const q = parseQuantity(raw);
      if (q === undefined) {
        wrong.push(
          `${side}.${r} ${JSON.stringify(raw)} is not a Kubernetes quantity (e.g. 250m, 1, 256Mi, 1Gi)`,
        );
      } else if (q <= 0) {
        wrong.push(`${side}.${r} ${JSON.stringify(raw)} is not > 0`);
      } else {
        parsed[side] = q;
      }
    }
    if (parsed.requests !== undefined && parsed.limits !== undefined && parsed.limits < parsed.requests) {
      wrong.push(
        `limits.${r} ${JSON.stringify(resources.limits[r])} is below requests.${r} ${JSON.stringify(resources.requests[r])}`,
      );
    }
  }
  return [...(missing.length > 0 ? [`missing ${missing.join(", ")}`] : []), ...wrong];
}

const PROBE_DEFAULTS: Readonly<Record<string, number>> = {
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
};
const HANDLERS = ["httpGet", "tcpSocket", "grpc", "exec"] as const;

/** A probe's handler (named ports resolved to numbers) and timing (Kubernetes defaults filled), for comparison. */
function probeShape(probe: Obj, ports: readonly Obj[]): string {
  const handler: Obj = {};
  for (const h of HANDLERS) {
    if (probe[h] === undefined) continue;
    const body = { ...asObj(probe[h]) };
    if (typeof body["port"] === "string") {
      const named = ports.find((p) => p["name"] === body["port"]);
      if (typeof named?.["containerPort"] === "number") body["port"] = named["containerPort"];
    }
    handler[h] = body;
  }
  const timing: Obj = {};
  for (const [k, d] of Object.entries(PROBE_DEFAULTS)) {
    timing[k] = typeof probe[k] === "number" ? probe[k] : d;
  }
  return canonical({ handler, timing });
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Obj)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Readiness and liveness on long-running containers; liveness is not a copy of readiness. */
export function probeProblems(c: Container): string[] {
  const missing: string[] = [];
  if (c.readinessProbe === undefined) missing.push("readinessProbe");
  if (c.livenessProbe === undefined) missing.push("livenessProbe");
  if (missing.length > 0) return [`missing ${missing.join(", ")}`];
  if (
    c.readinessProbe !== undefined &&
    c.livenessProbe !== undefined &&
    probeShape(c.readinessProbe, c.ports) === probeShape(c.livenessProbe, c.ports)
  ) {
    return [
      "livenessProbe is identical to readinessProbe (same handler and timing): when a dependency slows down both fail together and the kubelet restarts pods under load; make liveness a process-only check (e.g. tcpSocket on the container port) or give it a longer period/failureThreshold than readiness",
    ];
  }
  return [];
}

const ALLOWED_ADDED_CAPABILITIES = ["NET_BIND_SERVICE"];
const capName = (v: unknown) => String(v).toUpperCase().replace(/^CAP_/, "");

/**
 * The effective security context: runAsNonRoot and runAsUser fall back to the pod's (Kubernetes merges those);
 * privilege escalation, privileged mode, the read-only root filesystem and capabilities exist only per container.
 */
export function securityProblems(container: Obj, pod: Obj): string[] {
  const out: string[] = [];
  const nonRoot = container["runAsNonRoot"] ?? pod["runAsNonRoot"];
  const user = container["runAsUser"] ?? pod["runAsUser"];
  if (user === 0) {
    out.push("runAsUser is 0 (root); set a non-zero runAsUser and runAsNonRoot: true");
  } else if (nonRoot !== true && !(typeof user === "number" && user > 0)) {
    out.push("missing runAsNonRoot: true (or a non-zero runAsUser)");
  }
  if (container["privileged"] === true) {
    out.push("privileged: true; set privileged: false");
  }
  if (container["allowPrivilegeEscalation"] !== false) {
    out.push(
      `allowPrivilegeEscalation is ${JSON.stringify(container["allowPrivilegeEscalation"] ?? "unset (defaults to true)")}; set allowPrivilegeEscalation: false`,
    );
  }
  if (container["readOnlyRootFilesystem"] !== true) {
    out.push(
      `readOnlyRootFilesystem is ${JSON.stringify(container["readOnlyRootFilesystem"] ?? "unset")}; set readOnlyRootFilesystem: true (mount an emptyDir where the process writes)`,
    );
  }
  const caps = asObj(container["capabilities"]);
  const drop = Array.isArray(caps["drop"]) ? caps["drop"].map(capName) : [];
  if (!drop.includes("ALL")) {
    out.push(`capabilities.drop is ${JSON.stringify(caps["drop"] ?? [])}; drop ["ALL"]`);
  }
  const added = Array.isArray(caps["add"]) ? caps["add"].map(capName) : [];
  const extra = added.filter((a) => !ALLOWED_ADDED_CAPABILITIES.includes(a));
  if (extra.length > 0) {
    out.push(`capabilities.add has ${extra.join(", ")}; add nothing but NET_BIND_SERVICE`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

export const workloadSafety: ResourceValidationPolicy = {
  name: "nova-workload-safety",
  description:
    "Requires production Deployments, StatefulSets, Jobs and CronJobs (init containers included) to have positive CPU and memory requests and limits, distinct readiness and liveness probes on long-running containers, a non-root, non-escalating, read-only, capability-dropping security context and an explicit replica count of at least two.",
  enforcementLevel: "mandatory",
  configSchema,
  validateResource: (args, reportViolation) => {
    const workload = WORKLOADS[args.type];
    if (workload === undefined) {
      return;
    }
    const { cfg, ctx } = policyContext<WorkloadSafetyConfig>(args, configSchema);
    const props = args.props as Obj;
    const { ref, namespace } = objectRef(workload.kind, props, args.name);
    const scope = workloadScope(ctx, cfg.environments, namespace);
    if (!scope.applies) {
      return;
    }
    const where = `${ref} (${scope.label})`;
    const chartFix = fix("set it in charts/nova-stack (values-production.yaml) and re-run pulumi preview");
    const read = tryRead(() => readWorkload(props, workload.podPath));
    if (read.unknown || read.value === undefined) {
      reportViolation(
        `${where}: the pod spec is unknown during preview, so its safety cannot be checked.${chartFix}`,
      );
      return;
    }
    const w = read.value;
    if (workload.kind === "Deployment") {
      if (w.replicas === undefined) {
        if (!cfg.allowUnsetReplicas) {
          reportViolation(`${where}: spec.replicas is unset; threshold >= ${cfg.minReplicas}.${chartFix}`);
        }
      } else if (typeof w.replicas !== "number" || w.replicas < cfg.minReplicas) {
        reportViolation(
          `${where}: replicas ${JSON.stringify(w.replicas)}; threshold >= ${cfg.minReplicas} (or enable the HPA, which leaves spec.replicas unset).${fix("pulumi config set nova-rollout:apiReplicas 2 (and workerReplicas)")}`,
        );
      }
    }
    if (!w.containers.some((c) => !c.init)) {
      reportViolation(`${where}: no containers found.${chartFix}`);
    }
    for (const c of w.containers) {
      const who = `${where}, ${c.init ? "init container" : "container"} "${c.name}"`;
      const resources = resourceProblems(c.resources);
      if (resources.length > 0) {
        reportViolation(
          `${who}: ${resources.join("; ")}; threshold: cpu and memory requests and limits > 0, limit >= request.${fix("set resources.requests/limits in charts/nova-stack (values.yaml / values-<environment>.yaml, e.g. cpu 250m, memory 256Mi) and re-run pulumi preview")}`,
        );
      }
      const probes = workload.longRunning && !c.init ? probeProblems(c) : [];
      if (probes.length > 0) {
        reportViolation(
          `${who}: ${probes.join("; ")}; threshold: readiness and liveness probes, liveness distinct from readiness.${fix("edit the probes in charts/nova-stack/templates/_workload.tpl and re-run pulumi preview")}`,
        );
      }
      const security = securityProblems(c.securityContext, w.podSecurityContext);
      if (security.length > 0) {
        reportViolation(
          `${who}: ${security.join("; ")}; threshold: runAsNonRoot, allowPrivilegeEscalation false, privileged not true, readOnlyRootFilesystem true, capabilities drop ALL and add at most NET_BIND_SERVICE.${fix("set it in the container securityContext (charts/nova-stack/templates/_helpers.tpl, nova-stack.containerSecurityContext) and re-run pulumi preview")}`,
        );
      }
    }
  },
};
