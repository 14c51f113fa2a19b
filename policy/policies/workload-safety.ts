/**
 * nova-workload-safety: every pod-bearing object of a production stack (Deployments, StatefulSets, DaemonSets,
 * ReplicaSets, ReplicationControllers, Jobs, CronJobs, bare Pods and PodTemplates, in any API version; init and
 * ephemeral containers included) is judged by meaning, not by the presence of fields:
 * - CPU and memory requests and limits parse as Kubernetes quantities greater than zero, each limit >= its request;
 * - long-running containers have readiness and liveness probes, and liveness is not a copy of readiness (same
 *   handler and timing: a slow dependency then fails both and the kubelet restarts pods exactly under load);
 * - the pod passes the restricted Pod Security Standard (./pod-security-standard.ts): what a namespace enforcing
 *   `restricted` refuses at admission is refused here at preview (host namespaces, hostPath and other volume types,
 *   hostPort, privileged, privilege escalation, root, seccomp, AppArmor, SELinux, procMount, sysctls, capabilities,
 *   HostProcess), and every container also mounts its root filesystem read-only;
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
import {
  APPARMOR_ANNOTATION_PREFIX,
  containerProblems,
  type ContainerHandler,
  type ContainerView,
  podProblems,
  type PodView,
  type PodVolume,
} from "./pod-security-standard";
import { POLICY_NAMES } from "../../src/contract";

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
  /** Whether the stack or object is judged as production (its label then starts with `production`). */
  readonly production: boolean;
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
    return { applies: true, label: "production", production: true };
  }
  const gate = gateInputOf(ctx);
  if (gate.input === undefined) {
    return { applies: true, label: "production: the committed enforcement is unreadable", production: true };
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
    return { applies: true, label: `production: targets ${targets.join(", ")}`, production: true };
  }
  if (stackClass.production) {
    return { applies: true, label: "production", production: true };
  }
  const env = environmentOf(ctx.settings);
  return { applies: environments.includes(env), label: env, production: false };
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

/** Where a kind keeps its pod template (`metadata` + `spec`) and whether its pods are long-running. */
interface WorkloadKind {
  readonly templatePath: readonly string[];
  readonly longRunning: boolean | ((podSpec: Obj) => boolean);
}

/**
 * The pod-bearing kinds judged, by kind in any API group and version (`apps/v1`, `extensions/v1beta1`,
 * `batch/v1beta1`, …): an older version of a kind must not escape a rule its current version has.
 */
const WORKLOAD_KINDS: Readonly<Record<string, WorkloadKind>> = {
  Deployment: { templatePath: ["spec", "template"], longRunning: true },
  StatefulSet: { templatePath: ["spec", "template"], longRunning: true },
  DaemonSet: { templatePath: ["spec", "template"], longRunning: true },
  ReplicaSet: { templatePath: ["spec", "template"], longRunning: true },
  ReplicationController: { templatePath: ["spec", "template"], longRunning: true },
  Job: { templatePath: ["spec", "template"], longRunning: false },
  CronJob: { templatePath: ["spec", "jobTemplate", "spec", "template"], longRunning: false },
  // A bare Pod restarted forever is a server; one that runs to completion is a task.
  Pod: {
    templatePath: [],
    longRunning: (spec) => spec["restartPolicy"] !== "Never" && spec["restartPolicy"] !== "OnFailure",
  },
  PodTemplate: { templatePath: ["template"], longRunning: false },
};
const WORKLOAD_GROUPS = ["apps", "extensions", "batch", "core"];

/**
 * The judged kind of a Pulumi type token (`kubernetes:<group>/<version>:<Kind>`), if it bears pods. `patch` marks the
 * provider's server-side-apply patch of such a kind (`DeploymentPatch`, `PodPatch`, …): it changes a live object
 * field by field, so its pods cannot be judged whole.
 */
export function workloadKindOf(
  type: string,
): { kind: string; spec: WorkloadKind; patch: boolean } | undefined {
  const m = /^kubernetes:([^/:]+)\/[^/:]+:([A-Za-z]+?)(Patch)?$/.exec(type);
  if (m === null || !WORKLOAD_GROUPS.includes(m[1] ?? "")) return undefined;
  const kind = m[2] ?? "";
  const spec = WORKLOAD_KINDS[kind];
  return spec === undefined ? undefined : { kind, spec, patch: m[3] !== undefined };
}

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

type ContainerRole = "init container" | "container" | "ephemeral container";

interface Container {
  readonly name: string;
  readonly role: ContainerRole;
  readonly readinessProbe?: Obj;
  readonly livenessProbe?: Obj;
  readonly ports: readonly Obj[];
  readonly resources: { readonly requests: Obj; readonly limits: Obj };
  readonly securityContext: Obj;
  /** Probes and lifecycle handlers (the standard refuses a `host` in them). */
  readonly handlers: readonly ContainerHandler[];
}

interface Workload {
  readonly replicas: unknown;
  readonly podSecurityContext: Obj;
  readonly pod: PodView;
  readonly longRunning: boolean;
  readonly containers: readonly Container[];
}

const PROBES = ["readinessProbe", "livenessProbe", "startupProbe"] as const;
const HOOKS = ["postStart", "preStop"] as const;

function readContainer(raw: Obj, role: ContainerRole): Container {
  const resources = asObj(raw["resources"]);
  const probe = (k: string) => (raw[k] === undefined ? undefined : asObj(plain(raw[k])));
  const readinessProbe = probe("readinessProbe");
  const livenessProbe = probe("livenessProbe");
  const lifecycle = asObj(plain(raw["lifecycle"]));
  const handlers: ContainerHandler[] = [];
  for (const k of PROBES) {
    const p = probe(k);
    if (p !== undefined) handlers.push({ field: k, handler: p });
  }
  for (const k of HOOKS) {
    if (lifecycle[k] !== undefined) handlers.push({ field: `lifecycle.${k}`, handler: asObj(lifecycle[k]) });
  }
  return {
    name: typeof raw["name"] === "string" ? raw["name"] : "?",
    role,
    ...(readinessProbe !== undefined ? { readinessProbe } : {}),
    ...(livenessProbe !== undefined ? { livenessProbe } : {}),
    ports: asList(plain(raw["ports"])),
    resources: {
      requests: asObj(plain(resources["requests"])),
      limits: asObj(plain(resources["limits"])),
    },
    securityContext: asObj(plain(raw["securityContext"])),
    handlers,
  };
}

/** A volume's name and the source fields it sets; a source whose value is unknown at preview counts as set. */
function readVolume(raw: Obj): PodVolume {
  const sources = Object.keys(raw).filter((k) => {
    if (k === "name") return false;
    const read = tryRead(() => raw[k]);
    return read.unknown || (read.value !== undefined && read.value !== null);
  });
  const name = tryRead(() => raw["name"]).value;
  return { name: typeof name === "string" ? name : "?", sources };
}

/** The pod's AppArmor annotations only: other annotations (a checksum, say) may be unknown at preview. */
function readAppArmorAnnotations(metadata: Obj): Record<string, unknown> {
  const annotations = asObj(metadata["annotations"]);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(annotations)) {
    if (k.startsWith(APPARMOR_ANNOTATION_PREFIX)) out[k] = plain(annotations[k]);
  }
  return out;
}

function readWorkload(props: Obj, kind: WorkloadKind): Workload {
  const spec = asObj(props["spec"]);
  let template: Obj = props;
  for (const k of kind.templatePath) template = asObj(template[k]);
  const pod = asObj(template["spec"]);
  const podSecurityContext = asObj(plain(pod["securityContext"]));
  return {
    replicas: spec["replicas"],
    podSecurityContext,
    pod: {
      hostNetwork: plain(pod["hostNetwork"]),
      hostPID: plain(pod["hostPID"]),
      hostIPC: plain(pod["hostIPC"]),
      securityContext: podSecurityContext,
      volumes: asList(pod["volumes"]).map(readVolume),
      annotations: readAppArmorAnnotations(asObj(template["metadata"])),
    },
    longRunning: typeof kind.longRunning === "function" ? kind.longRunning(pod) : kind.longRunning,
    containers: [
      ...asList(pod["initContainers"]).map((c) => readContainer(c, "init container")),
      ...asList(pod["containers"]).map((c) => readContainer(c, "container")),
      ...asList(pod["ephemeralContainers"]).map((c) => readContainer(c, "ephemeral container")),
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

/**
 * The container's security context: the restricted Pod Security Standard (runAsNonRoot and the seccomp profile may
 * come from the pod, as Kubernetes merges them) plus a read-only root filesystem, which exists only per container.
 */
export function securityProblems(container: ContainerView, pod: Obj): string[] {
  const out = containerProblems(container, pod);
  const ro = container.securityContext["readOnlyRootFilesystem"];
  if (ro !== true) {
    out.push(
      `readOnlyRootFilesystem is ${JSON.stringify(ro ?? "unset")}; set readOnlyRootFilesystem: true (mount an emptyDir where the process writes)`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

export const workloadSafety: ResourceValidationPolicy = {
  name: POLICY_NAMES.workloadSafety,
  description:
    "Requires every production pod-bearing object (Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs, bare Pods; init and ephemeral containers included) to pass the restricted Pod Security Standard with a read-only root filesystem, to have positive CPU and memory requests and limits, distinct readiness and liveness probes on long-running containers and an explicit replica count of at least two.",
  enforcementLevel: "mandatory",
  configSchema,
  validateResource: (args, reportViolation) => {
    const workload = workloadKindOf(args.type);
    if (workload === undefined) {
      return;
    }
    const { cfg, ctx } = policyContext<WorkloadSafetyConfig>(args, configSchema);
    const props = args.props as Obj;
    const { ref, namespace } = objectRef(
      workload.patch ? `${workload.kind}Patch` : workload.kind,
      props,
      args.name,
    );
    const scope = workloadScope(ctx, cfg.environments, namespace);
    if (!scope.applies) {
      return;
    }
    const where = `${ref} (${scope.label})`;
    const chartFix = fix("set it in charts/nova-stack (values-production.yaml) and re-run pulumi preview");
    if (workload.patch) {
      reportViolation(
        `${where}: a ${workload.kind}Patch changes a live ${workload.kind} field by field, so its pods cannot be judged against the restricted Pod Security Standard and the rules above; threshold: pod-bearing objects come whole from the chart.${fix("put the change in charts/nova-stack and remove the patch, then re-run pulumi preview")}`,
      );
      return;
    }
    const read = tryRead(() => readWorkload(props, workload.spec));
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
    if (!w.containers.some((c) => c.role === "container")) {
      reportViolation(`${where}: no containers found.${chartFix}`);
    }
    const pod = podProblems(w.pod);
    if (pod.length > 0) {
      reportViolation(
        `${where}, pod: ${pod.join("; ")}; threshold: the restricted Pod Security Standard.${fix("set it in the pod spec (charts/nova-stack/templates/_workload.tpl; pod securityContext: charts/nova-stack/templates/_helpers.tpl, nova-stack.podSecurityContext) and re-run pulumi preview")}`,
      );
    }
    for (const c of w.containers) {
      const who = `${where}, ${c.role} "${c.name}"`;
      // Ephemeral containers take no resources or probes (the API refuses them); they are judged on security only.
      const resources = c.role === "ephemeral container" ? [] : resourceProblems(c.resources);
      if (resources.length > 0) {
        reportViolation(
          `${who}: ${resources.join("; ")}; threshold: cpu and memory requests and limits > 0, limit >= request.${fix("set resources.requests/limits in charts/nova-stack (values.yaml / values-<environment>.yaml, e.g. cpu 250m, memory 256Mi) and re-run pulumi preview")}`,
        );
      }
      const probes = w.longRunning && c.role === "container" ? probeProblems(c) : [];
      if (probes.length > 0) {
        reportViolation(
          `${who}: ${probes.join("; ")}; threshold: readiness and liveness probes, liveness distinct from readiness.${fix("edit the probes in charts/nova-stack/templates/_workload.tpl and re-run pulumi preview")}`,
        );
      }
      const security = securityProblems(c, w.podSecurityContext);
      if (security.length > 0) {
        reportViolation(
          `${who}: ${security.join("; ")}; threshold: the restricted Pod Security Standard (runAsNonRoot, allowPrivilegeEscalation false, seccomp RuntimeDefault, capabilities drop ALL and add at most NET_BIND_SERVICE, no privileged, hostPort, procMount, custom SELinux or AppArmor) and readOnlyRootFilesystem true.${fix("set it in the container securityContext (charts/nova-stack/templates/_helpers.tpl, nova-stack.containerSecurityContext) and re-run pulumi preview")}`,
        );
      }
    }
  },
};
