/**
 * The restricted Pod Security Standard as pure checks over plain pod data: what a namespace labelled
 * `pod-security.kubernetes.io/enforce: restricted` (at `latest`) refuses at admission, nova-workload-safety refuses at
 * preview. Restricted includes every baseline control:
 * - baseline: no host namespaces (hostNetwork, hostPID, hostIPC), no Windows HostProcess, not privileged, no hostPath
 *   volume, no hostPort, AppArmor only RuntimeDefault/Localhost (fields and the beta annotations), SELinux only the
 *   container types and never a user or role, procMount only Default, seccomp never Unconfined, only the namespaced
 *   safe sysctls, no `host` in probes and lifecycle handlers;
 * - restricted: volumes only of the inline types listed below, allowPrivilegeEscalation false, runAsNonRoot true (pod
 *   or every container; false anywhere is refused), runAsUser never 0, seccomp RuntimeDefault or Localhost (pod or
 *   every container), capabilities drop ALL and add nothing but NET_BIND_SERVICE (spelled exactly so).
 * The checks are never weaker than admission; where admission relaxes a control (Windows pods, user-namespaced pods)
 * they stay strict. Each problem names the field, the value found and what to set instead.
 */

type Obj = Record<string, unknown>;

/** The sysctls the baseline standard lets a pod set (namespaced and isolated from other pods on the node). */
export const SAFE_SYSCTLS: readonly string[] = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_wmem",
];

/** The inline volume sources the restricted standard allows. */
export const RESTRICTED_VOLUME_SOURCES: readonly string[] = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "image",
  "persistentVolumeClaim",
  "projected",
  "secret",
];

/** SELinux types a pod or container may ask for. */
export const SELINUX_TYPES: readonly string[] = [
  "container_t",
  "container_init_t",
  "container_kvm_t",
  "container_engine_t",
];

/** Seccomp and AppArmor profile types the standard allows. */
export const PROFILE_TYPES: readonly string[] = ["RuntimeDefault", "Localhost"];

/** The one capability a container may add. */
export const ADDABLE_CAPABILITY = "NET_BIND_SERVICE";

/** The beta AppArmor annotation on pod metadata, one per container. */
export const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

/** A pod volume: its name and the source fields it sets (everything but `name`). */
export interface PodVolume {
  readonly name: string;
  readonly sources: readonly string[];
}

/** The pod-level fields the standard restricts, read as plain values. */
export interface PodView {
  readonly hostNetwork?: unknown;
  readonly hostPID?: unknown;
  readonly hostIPC?: unknown;
  readonly securityContext: Obj;
  readonly volumes: readonly PodVolume[];
  /** Pod metadata annotations (at least every AppArmor one). */
  readonly annotations: Readonly<Record<string, unknown>>;
}

/** A probe or lifecycle handler of a container, by field (`livenessProbe`, `lifecycle.preStop`, …). */
export interface ContainerHandler {
  readonly field: string;
  readonly handler: Obj;
}

/** The container-level fields the standard restricts (init, regular and ephemeral containers alike). */
export interface ContainerView {
  readonly securityContext: Obj;
  readonly ports: readonly Obj[];
  readonly handlers: readonly ContainerHandler[];
}

function asObj(value: unknown): Obj {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Obj) : {};
}

/** Set to something else than "unset" (undefined, null) or `false`: the only values a boolean control allows. */
const isOn = (v: unknown) => v !== undefined && v !== null && v !== false;
const isSet = (v: unknown) => v !== undefined && v !== null && v !== "";
const show = (v: unknown) => JSON.stringify(v);
const quoteAll = (values: readonly unknown[]) => values.map(show).join(", ");

const HOST_NAMESPACES: readonly [keyof PodView, string][] = [
  ["hostNetwork", "network"],
  ["hostPID", "process"],
  ["hostIPC", "IPC"],
];

/**
 * Security-context controls that exist on both the pod and its containers: Windows HostProcess, AppArmor profile
 * type, SELinux options. `path` prefixes each field (`securityContext.` for the pod, nothing for a container).
 */
function sharedContextProblems(sc: Obj, path: string): string[] {
  const out: string[] = [];
  if (isOn(asObj(sc["windowsOptions"])["hostProcess"])) {
    out.push(
      `${path}windowsOptions.hostProcess is ${show(asObj(sc["windowsOptions"])["hostProcess"])}; remove it (HostProcess containers run with the node's privileges)`,
    );
  }
  const appArmor = sc["appArmorProfile"];
  if (appArmor !== undefined && appArmor !== null) {
    const type = asObj(appArmor)["type"];
    if (typeof type !== "string" || !PROFILE_TYPES.includes(type)) {
      out.push(
        `${path}appArmorProfile.type is ${show(type ?? "unset")}; set RuntimeDefault (or Localhost with a profile), or remove appArmorProfile`,
      );
    }
  }
  const seLinux = sc["seLinuxOptions"];
  if (seLinux !== undefined && seLinux !== null) {
    const o = asObj(seLinux);
    const type = o["type"];
    if (isSet(type) && !(typeof type === "string" && SELINUX_TYPES.includes(type))) {
      out.push(
        `${path}seLinuxOptions.type is ${show(type)}; remove it or use one of ${SELINUX_TYPES.join(", ")}`,
      );
    }
    for (const k of ["user", "role"] as const) {
      if (isSet(o[k])) {
        out.push(`${path}seLinuxOptions.${k} is ${show(o[k])}; remove it (a custom SELinux ${k} is refused)`);
      }
    }
  }
  return out;
}

/** Problems of the pod as a whole: host namespaces, volumes, sysctls, the pod security context, annotations. */
export function podProblems(pod: PodView): string[] {
  const out: string[] = [];
  for (const [field, ns] of HOST_NAMESPACES) {
    if (isOn(pod[field])) {
      out.push(
        `${field} is ${show(pod[field])}; remove it (or set ${field}: false): the pod must not share the node's ${ns} namespace`,
      );
    }
  }
  for (const v of pod.volumes) {
    const bad = v.sources.filter((s) => !RESTRICTED_VOLUME_SOURCES.includes(s));
    if (bad.length > 0) {
      out.push(
        `volume ${show(v.name)} uses ${bad.join(", ")}${bad.includes("hostPath") ? " (the node's filesystem)" : ""}; use one of ${RESTRICTED_VOLUME_SOURCES.join(", ")} (an emptyDir for scratch space)`,
      );
    }
  }
  const sc = pod.securityContext;
  const sysctls = Array.isArray(sc["sysctls"]) ? sc["sysctls"].map((s) => asObj(s)["name"]) : [];
  const unsafe = sysctls.filter((n) => typeof n !== "string" || !SAFE_SYSCTLS.includes(n));
  if (unsafe.length > 0) {
    out.push(
      `securityContext.sysctls sets ${quoteAll(unsafe)}; remove ${unsafe.length === 1 ? "it" : "them"}: only the safe sysctls are allowed (${SAFE_SYSCTLS.join(", ")})`,
    );
  }
  if (isSet(sc["runAsNonRoot"]) && sc["runAsNonRoot"] !== true) {
    out.push(`securityContext.runAsNonRoot is ${show(sc["runAsNonRoot"])}; set runAsNonRoot: true`);
  }
  if (sc["runAsUser"] === 0) {
    out.push("securityContext.runAsUser is 0 (root); set a non-zero runAsUser (e.g. 10001)");
  }
  const seccomp = sc["seccompProfile"];
  if (seccomp !== undefined && seccomp !== null) {
    const type = asObj(seccomp)["type"];
    if (typeof type !== "string" || !PROFILE_TYPES.includes(type)) {
      out.push(
        `securityContext.seccompProfile.type is ${show(type ?? "unset")}; set seccompProfile.type: RuntimeDefault (or Localhost with a profile)`,
      );
    }
  }
  out.push(...sharedContextProblems(sc, "securityContext."));
  for (const [k, v] of Object.entries(pod.annotations)) {
    if (!k.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
    const ok = v === "" || v === "runtime/default" || (typeof v === "string" && v.startsWith("localhost/"));
    if (!ok) {
      out.push(
        `annotation ${k} is ${show(v)}; set runtime/default (or localhost/<profile>), or remove the annotation`,
      );
    }
  }
  return out;
}

/**
 * Problems of one container, given the pod's security context (runAsNonRoot and the seccomp profile may come from the
 * pod; every other control is the container's own).
 */
export function containerProblems(c: ContainerView, podSecurityContext: Obj): string[] {
  const out: string[] = [];
  const sc = c.securityContext;
  if (isOn(sc["privileged"])) {
    out.push(`privileged is ${show(sc["privileged"])}; set privileged: false`);
  }
  if (sc["allowPrivilegeEscalation"] !== false) {
    out.push(
      `allowPrivilegeEscalation is ${show(sc["allowPrivilegeEscalation"] ?? "unset (defaults to true)")}; set allowPrivilegeEscalation: false`,
    );
  }
  const nonRoot = sc["runAsNonRoot"];
  if (isSet(nonRoot) && nonRoot !== true) {
    out.push(`runAsNonRoot is ${show(nonRoot)}; set runAsNonRoot: true`);
  } else if (!isSet(nonRoot) && podSecurityContext["runAsNonRoot"] !== true) {
    out.push(
      "missing runAsNonRoot: true (neither the container nor the pod sets it; a non-zero runAsUser alone does not satisfy the restricted standard); set runAsNonRoot: true",
    );
  }
  if (sc["runAsUser"] === 0) {
    out.push("runAsUser is 0 (root); set a non-zero runAsUser and runAsNonRoot: true");
  }
  const seccomp = sc["seccompProfile"];
  if (seccomp !== undefined && seccomp !== null) {
    const type = asObj(seccomp)["type"];
    if (typeof type !== "string" || !PROFILE_TYPES.includes(type)) {
      out.push(
        `seccompProfile.type is ${show(type ?? "unset")}; set seccompProfile.type: RuntimeDefault (or Localhost with a profile)`,
      );
    }
  } else if (
    podSecurityContext["seccompProfile"] === undefined ||
    podSecurityContext["seccompProfile"] === null
  ) {
    out.push(
      "seccompProfile is unset on the container and the pod (the runtime then runs it Unconfined); set seccompProfile.type: RuntimeDefault in the pod securityContext",
    );
  }
  const caps = asObj(sc["capabilities"]);
  const drop = Array.isArray(caps["drop"]) ? (caps["drop"] as unknown[]) : [];
  if (!drop.includes("ALL")) {
    out.push(`capabilities.drop is ${show(caps["drop"] ?? [])}; drop ["ALL"] (spelled exactly so)`);
  }
  const added = Array.isArray(caps["add"]) ? (caps["add"] as unknown[]) : [];
  const extra = added.filter((a) => a !== ADDABLE_CAPABILITY);
  if (extra.length > 0) {
    out.push(
      `capabilities.add has ${quoteAll(extra)}; add nothing but ${show(ADDABLE_CAPABILITY)} (spelled exactly so)`,
    );
  }
  if (isSet(sc["procMount"]) && sc["procMount"] !== "Default") {
    out.push(
      `procMount is ${show(sc["procMount"])}; remove it (or set procMount: Default): keep /proc masked`,
    );
  }
  out.push(...sharedContextProblems(sc, ""));
  for (const p of c.ports) {
    if (isSet(p["hostPort"]) && p["hostPort"] !== 0) {
      const port = typeof p["name"] === "string" ? p["name"] : String(p["containerPort"]);
      out.push(
        `ports[${port}].hostPort is ${show(p["hostPort"])}; remove hostPort (a Service exposes the port, not the node)`,
      );
    }
  }
  for (const { field, handler } of c.handlers) {
    for (const kind of ["httpGet", "tcpSocket"] as const) {
      const host = asObj(handler[kind])["host"];
      if (isSet(host)) {
        out.push(
          `${field}.${kind}.host is ${show(host)}; remove host (probes and hooks target the pod's own IP)`,
        );
      }
    }
  }
  return out;
}
