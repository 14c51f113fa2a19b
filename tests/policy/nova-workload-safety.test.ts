import { describe, expect, it } from "vitest";
import { workloadSafety } from "../../policy/policies";
import { parseQuantity } from "../../policy/policies/workload-safety";
import { PRODUCTION, STAGING } from "../chart/fixtures";
import { type K8sObject, renderChart } from "../chart/helm";
import { enforcementFor, fileConfig, runResourcePolicy, UNKNOWN } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

type Obj = Record<string, unknown>;

function container(name = "api"): Obj {
  return {
    name,
    ports: [{ name: "http", containerPort: 8080 }],
    readinessProbe: { httpGet: { path: "/v1/health", port: "http" }, periodSeconds: 10 },
    livenessProbe: { tcpSocket: { port: "http" }, periodSeconds: 20 },
    resources: {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    },
    securityContext: {
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    },
  };
}

function podSpec(): { securityContext: Obj; containers: Obj[]; initContainers?: Obj[] } {
  return {
    securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
    containers: [container()],
  };
}

function deployment() {
  return { spec: { replicas: 2 as unknown, template: { spec: podSpec() } } };
}
type Deployment = ReturnType<typeof deployment>;
type Mutator = (d: Deployment) => void;

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

function run(mutate: Mutator = () => undefined, extra: { name?: string; config?: Obj } = {}) {
  const d = deployment();
  mutate(d);
  return runResourcePolicy(workloadSafety, {
    type: DEPLOYMENT,
    name: extra.name ?? "nova-release:nova-app/nova-api",
    props: d,
    config: { projectDir: fixture.project.dir, ...extra.config },
  });
}
const c0 = (d: Deployment) => d.spec.template.spec.containers[0]!;
const sc0 = (d: Deployment) => c0(d)["securityContext"] as Obj;
const res0 = (d: Deployment) => c0(d)["resources"] as Record<string, Record<string, unknown>>;

describe("parseQuantity", () => {
  it.each<[unknown, number]>([
    ["0", 0],
    ["0m", 0],
    ["0Mi", 0],
    ["100m", 0.1],
    ["1", 1],
    ["0.5", 0.5],
    [".5", 0.5],
    ["256Mi", 256 * 1024 ** 2],
    ["1Gi", 1024 ** 3],
    ["1e3", 1000],
    ["1E3", 1000],
    ["2k", 2000],
    ["1M", 1e6],
    ["1E", 1e18],
    ["500u", 0.0005],
    ["-1", -1],
    ["+2", 2],
    [2, 2],
  ])("%j is %d", (value, expected) => {
    expect(parseQuantity(value)).toBeCloseTo(expected, 12);
  });

  it("keeps decimal suffixes exact, so 100m equals 0.1", () => {
    expect(parseQuantity("100m")).toBe(parseQuantity("0.1"));
    expect(parseQuantity("1500m")).toBe(parseQuantity("1.5"));
  });

  it.each<unknown>(["", "lots", "1.2.3", "1KB", "1mi", "1e", "Mi", "1 Gi", true, null, {}, Number.NaN])(
    "rejects %j",
    (value) => {
      expect(parseQuantity(value)).toBeUndefined();
    },
  );
});

describe("nova-workload-safety", () => {
  it("passes a safe production Deployment", async () => {
    expect((await run()).messages).toEqual([]);
  });

  it("accepts an HPA-managed Deployment without replicas", async () => {
    expect((await run((d) => (d.spec.replicas = undefined))).messages).toEqual([]);
  });

  it("does not apply to sandbox stacks and is advisory there", async () => {
    fixture.remakeProject({ environment: "sandbox" });
    expect((await run((d) => (d.spec.replicas = 1))).messages).toEqual([]);
    expect(enforcementFor(workloadSafety, "local")).toBe("advisory");
    expect(enforcementFor(workloadSafety, "production")).toBe("mandatory");
  });

  it("applies to a non-production label listed in environments", async () => {
    fixture.remakeProject({ environment: "sandbox" });
    const out = await run((d) => delete sc0(d)["readOnlyRootFilesystem"], {
      config: fileConfig(workloadSafety, "local", { projectDir: fixture.project.dir }),
    });
    expect(out.messages.join("\n")).toMatch(/^Deployment nova-app\/nova-api \(sandbox\), container "api"/);
  });

  describe("production follows the target, not the label", () => {
    it("judges a sandbox-labelled stack aimed at a protected namespace as production", async () => {
      fixture.remakeProject({
        environment: "sandbox",
        extraConfig: { "nova-rollout:namespace": "nova-prod" },
      });
      const out = await run((d) => (d.spec.replicas = 1));
      expect(out.messages.join("\n")).toMatch(
        /Deployment nova-app\/nova-api \(production: targets namespace nova-prod\): replicas 1; threshold >= 2/,
      );
    });

    it("judges a sandbox-labelled stack aimed at a protected kubeconfig context as production", async () => {
      fixture.remakeProject({
        environment: "sandbox",
        extraConfig: { "nova-rollout:kubeconfigContext": "gke_nova-prod_us-central1_nova-prod" },
      });
      const out = await run((d) => (d.spec.replicas = 1));
      expect(out.messages.join("\n")).toMatch(
        /targets kubeconfig context gke_nova-prod_us-central1_nova-prod/,
      );
    });

    it("judges an object in a protected namespace as production whatever the stack", async () => {
      fixture.remakeProject({ environment: "sandbox" });
      const out = await run(
        (d) => {
          (d as Obj)["metadata"] = { name: "nova-api", namespace: "nova-prod" };
          d.spec.replicas = 1;
        },
        { name: "nova-release:nova-app/nova-api" },
      );
      expect(out.messages.join("\n")).toMatch(/\(production: targets namespace nova-prod\): replicas 1/);
    });

    it("fails closed when the committed enforcement is unreadable", async () => {
      fixture.remakeProject({ environment: "sandbox" });
      fixture.project.write("policy/config/production.json", "{ not json");
      const out = await run((d) => (d.spec.replicas = 1));
      expect(out.messages.join("\n")).toMatch(/\(production: the committed enforcement is unreadable\)/);
    });
  });

  it("names the object from its metadata", async () => {
    const out = await run((d) => {
      (d as Obj)["metadata"] = { name: "nova-worker", namespace: "nova-other" };
      d.spec.replicas = 1;
    });
    expect(out.messages.join("\n")).toMatch(/^Deployment nova-other\/nova-worker \(production\): replicas 1/);
  });

  it("reports a pod spec unknown during preview", async () => {
    const out = await run((d) => (res0(d)["limits"] = UNKNOWN as unknown as Record<string, unknown>));
    expect(out.messages.join("\n")).toMatch(/unknown during preview/);
  });

  it("accepts resources given as numbers and limits equal to requests", async () => {
    const out = await run((d) => {
      res0(d)["requests"] = { cpu: 1, memory: "1Gi" };
      res0(d)["limits"] = { cpu: "1000m", memory: "1024Mi" };
    });
    expect(out.messages).toEqual([]);
  });

  it("accepts the same probe handler with different timing", async () => {
    const out = await run((d) => {
      c0(d)["livenessProbe"] = { httpGet: { path: "/v1/health", port: "http" }, failureThreshold: 6 };
    });
    expect(out.messages).toEqual([]);
  });

  it("accepts runAsNonRoot and seccomp set on the container only, and NET_BIND_SERVICE", async () => {
    const out = await run((d) => {
      d.spec.template.spec.securityContext = {};
      sc0(d)["runAsNonRoot"] = true;
      sc0(d)["seccompProfile"] = { type: "Localhost", localhostProfile: "profiles/nova.json" };
      sc0(d)["capabilities"] = { drop: ["ALL"], add: ["NET_BIND_SERVICE"] };
    });
    expect(out.messages).toEqual([]);
  });

  describe.each<[string, Mutator, RegExp]>([
    ["one replica", (d) => (d.spec.replicas = 1), /replicas 1; threshold >= 2/],
    ["no readiness probe", (d) => delete c0(d)["readinessProbe"], /missing readinessProbe/],
    ["no liveness probe", (d) => delete c0(d)["livenessProbe"], /missing livenessProbe/],
    ["no cpu request", (d) => delete res0(d)["requests"]!["cpu"], /missing requests\.cpu/],
    ["no memory limit", (d) => delete res0(d)["limits"]!["memory"], /missing limits\.memory/],
    ["a zero cpu request", (d) => (res0(d)["requests"]!["cpu"] = "0"), /requests\.cpu "0" is not > 0/],
    ["a zero milli-cpu limit", (d) => (res0(d)["limits"]!["cpu"] = "0m"), /limits\.cpu "0m" is not > 0/],
    ["a zero memory limit", (d) => (res0(d)["limits"]!["memory"] = "0Mi"), /limits\.memory "0Mi" is not > 0/],
    [
      "an unparsable memory request",
      (d) => (res0(d)["requests"]!["memory"] = "128MB"),
      /requests\.memory "128MB" is not a Kubernetes quantity/,
    ],
    [
      "a cpu limit below the request",
      (d) => (res0(d)["limits"]!["cpu"] = "50m"),
      /limits\.cpu "50m" is below requests\.cpu "100m"/,
    ],
    [
      "a memory limit below the request",
      (d) => (res0(d)["limits"]!["memory"] = "0.1Gi"),
      /limits\.memory "0\.1Gi" is below requests\.memory "128Mi"/,
    ],
    [
      "liveness identical to readiness",
      (d) => (c0(d)["livenessProbe"] = structuredClone(c0(d)["readinessProbe"])),
      /livenessProbe is identical to readinessProbe .*restarts pods under load; make liveness a process-only check/,
    ],
    [
      "liveness identical to readiness once named ports and default timing resolve",
      (d) => (c0(d)["livenessProbe"] = { httpGet: { path: "/v1/health", port: 8080 } }),
      /livenessProbe is identical to readinessProbe/,
    ],
    ["root allowed", (d) => (d.spec.template.spec.securityContext = {}), /missing runAsNonRoot: true/],
    [
      "a non-zero runAsUser without runAsNonRoot (the restricted standard needs runAsNonRoot)",
      (d) => {
        d.spec.template.spec.securityContext = { seccompProfile: { type: "RuntimeDefault" } };
        sc0(d)["runAsUser"] = 1000;
      },
      /container "api": missing runAsNonRoot: true \(neither the container nor the pod sets it; a non-zero runAsUser alone/,
    ],
    [
      "container overriding runAsNonRoot",
      (d) => {
        d.spec.template.spec.securityContext = { runAsNonRoot: true };
        sc0(d)["runAsNonRoot"] = false;
      },
      /container "api": runAsNonRoot is false; set runAsNonRoot: true/,
    ],
    ["runAsUser 0", (d) => (sc0(d)["runAsUser"] = 0), /runAsUser is 0 \(root\)/],
    [
      "privilege escalation left at its default",
      (d) => delete sc0(d)["allowPrivilegeEscalation"],
      /allowPrivilegeEscalation is "unset \(defaults to true\)"; set allowPrivilegeEscalation: false/,
    ],
    [
      "privilege escalation allowed",
      (d) => (sc0(d)["allowPrivilegeEscalation"] = true),
      /allowPrivilegeEscalation is true/,
    ],
    [
      "a writable root filesystem",
      (d) => delete sc0(d)["readOnlyRootFilesystem"],
      /readOnlyRootFilesystem is "unset"; set readOnlyRootFilesystem: true/,
    ],
    [
      "readOnlyRootFilesystem only at pod level (not a pod field)",
      (d) => {
        delete sc0(d)["readOnlyRootFilesystem"];
        d.spec.template.spec.securityContext["readOnlyRootFilesystem"] = true;
      },
      /readOnlyRootFilesystem is "unset"/,
    ],
    [
      "capabilities not dropped",
      (d) => delete sc0(d)["capabilities"],
      /capabilities\.drop is \[\]; drop \["ALL"\]/,
    ],
    [
      "capabilities partly dropped",
      (d) => (sc0(d)["capabilities"] = { drop: ["NET_RAW"] }),
      /capabilities\.drop is \["NET_RAW"\]/,
    ],
    [
      "an added capability",
      (d) => (sc0(d)["capabilities"] = { drop: ["ALL"], add: ["NET_BIND_SERVICE", "CAP_SYS_ADMIN"] }),
      /capabilities\.add has "CAP_SYS_ADMIN"; add nothing but "NET_BIND_SERVICE"/,
    ],
    ["privileged mode", (d) => (sc0(d)["privileged"] = true), /privileged is true; set privileged: false/],
    [
      "an init container without resources",
      (d) => (d.spec.template.spec.initContainers = [{ ...container("migrate"), resources: {} }]),
      /container "migrate": missing requests\.cpu, limits\.cpu, requests\.memory, limits\.memory/,
    ],
    [
      "an init container running as root",
      (d) => {
        const init = container("migrate");
        (init["securityContext"] as Obj)["runAsUser"] = 0;
        d.spec.template.spec.initContainers = [init];
      },
      /init container "migrate": runAsUser is 0/,
    ],
  ])("blocks %s", (_l, mutate, expected) => {
    it("reports it", async () => {
      const out = await run(mutate);
      expect(out.messages.join("\n")).toMatch(expected);
      for (const m of out.messages) {
        expect(m).toMatch(/^Deployment nova-app\/nova-api \(production\)/);
        expect(m).toMatch(/ Fix: /);
      }
    });
  });

  it("does not require probes on init containers", async () => {
    const out = await run((d) => {
      const init = container("migrate");
      delete init["readinessProbe"];
      delete init["livenessProbe"];
      d.spec.template.spec.initContainers = [init];
    });
    expect(out.messages).toEqual([]);
  });

  describe("the restricted Pod Security Standard", () => {
    const pod = (d: Deployment) => d.spec.template.spec as unknown as Obj;
    const podSc = (d: Deployment) => d.spec.template.spec.securityContext;
    const meta = (d: Deployment, annotations: Obj) =>
      ((d.spec.template as Obj)["metadata"] = { annotations: { ...annotations } });

    it("accepts every value the standard allows", async () => {
      const out = await run((d) => {
        Object.assign(pod(d), {
          hostNetwork: false,
          hostPID: false,
          hostIPC: false,
          volumes: [
            { name: "a", configMap: { name: "cm" } },
            { name: "b", csi: { driver: "secrets-store.csi.k8s.io" } },
            { name: "c", downwardAPI: { items: [] } },
            { name: "d", emptyDir: {} },
            { name: "e", ephemeral: { volumeClaimTemplate: { spec: {} } } },
            { name: "f", image: { reference: "registry/x@sha256:abc" } },
            { name: "g", persistentVolumeClaim: { claimName: "data" } },
            { name: "h", projected: { sources: [] } },
            { name: "i", secret: { secretName: "s" } },
          ],
        });
        Object.assign(podSc(d), {
          sysctls: [
            { name: "net.ipv4.ip_unprivileged_port_start", value: "0" },
            { name: "net.ipv4.tcp_keepalive_time", value: "60" },
          ],
          appArmorProfile: { type: "RuntimeDefault" },
          seLinuxOptions: { type: "container_t", level: "s0:c123,c456" },
          windowsOptions: { hostProcess: false },
        });
        meta(d, {
          "container.apparmor.security.beta.kubernetes.io/api": "runtime/default",
          "container.apparmor.security.beta.kubernetes.io/sidecar": "localhost/nova",
        });
        Object.assign(sc0(d), {
          procMount: "Default",
          seccompProfile: { type: "RuntimeDefault" },
          appArmorProfile: { type: "Localhost", localhostProfile: "nova" },
          seLinuxOptions: { type: "container_init_t" },
        });
        c0(d)["ports"] = [{ name: "http", containerPort: 8080, hostPort: 0 }];
      });
      expect(out.messages).toEqual([]);
    });

    describe.each<[string, Mutator, RegExp]>([
      ["hostNetwork", (d) => (pod(d)["hostNetwork"] = true), /, pod: hostNetwork is true; remove it/],
      ["hostPID", (d) => (pod(d)["hostPID"] = true), /, pod: hostPID is true; remove it .*process namespace/],
      ["hostIPC", (d) => (pod(d)["hostIPC"] = true), /, pod: hostIPC is true; remove it .*IPC namespace/],
      [
        "a hostPath volume",
        (d) => (pod(d)["volumes"] = [{ name: "node", hostPath: { path: "/var/run" } }]),
        /pod: volume "node" uses hostPath \(the node's filesystem\); use one of configMap, csi, downwardAPI, emptyDir/,
      ],
      [
        "an nfs volume",
        (d) => (pod(d)["volumes"] = [{ name: "share", nfs: { server: "nfs", path: "/" } }]),
        /pod: volume "share" uses nfs; use one of/,
      ],
      [
        "a gcePersistentDisk volume",
        (d) => (pod(d)["volumes"] = [{ name: "disk", gcePersistentDisk: { pdName: "pd" } }]),
        /pod: volume "disk" uses gcePersistentDisk;/,
      ],
      [
        "a hostPath volume whose path is unknown at preview",
        (d) => (pod(d)["volumes"] = [{ name: "node", hostPath: UNKNOWN }]),
        /pod: volume "node" uses hostPath/,
      ],
      [
        "an unsafe sysctl",
        (d) => (podSc(d)["sysctls"] = [{ name: "kernel.msgmax", value: "65536" }]),
        /pod: securityContext\.sysctls sets "kernel\.msgmax"; remove it: only the safe sysctls are allowed/,
      ],
      [
        "a seccomp profile Unconfined on the pod",
        (d) => (podSc(d)["seccompProfile"] = { type: "Unconfined" }),
        /pod: securityContext\.seccompProfile\.type is "Unconfined"; set seccompProfile\.type: RuntimeDefault/,
      ],
      [
        "runAsNonRoot false on the pod (the containers setting it does not help)",
        (d) => {
          podSc(d)["runAsNonRoot"] = false;
          sc0(d)["runAsNonRoot"] = true;
        },
        /pod: securityContext\.runAsNonRoot is false; set runAsNonRoot: true/,
      ],
      [
        "runAsUser 0 on the pod",
        (d) => {
          podSc(d)["runAsUser"] = 0;
          sc0(d)["runAsUser"] = 10001;
        },
        /pod: securityContext\.runAsUser is 0 \(root\)/,
      ],
      [
        "AppArmor Unconfined on the pod",
        (d) => (podSc(d)["appArmorProfile"] = { type: "Unconfined" }),
        /pod: securityContext\.appArmorProfile\.type is "Unconfined"; set RuntimeDefault/,
      ],
      [
        "an AppArmor annotation unconfined",
        (d) => meta(d, { "container.apparmor.security.beta.kubernetes.io/api": "unconfined" }),
        /pod: annotation container\.apparmor\.security\.beta\.kubernetes\.io\/api is "unconfined"; set runtime\/default/,
      ],
      [
        "an SELinux type outside the container types",
        (d) => (podSc(d)["seLinuxOptions"] = { type: "spc_t" }),
        /pod: securityContext\.seLinuxOptions\.type is "spc_t"; remove it or use one of container_t/,
      ],
      [
        "an SELinux user",
        (d) => (podSc(d)["seLinuxOptions"] = { user: "system_u" }),
        /pod: securityContext\.seLinuxOptions\.user is "system_u"; remove it/,
      ],
      [
        "an SELinux role",
        (d) => (podSc(d)["seLinuxOptions"] = { role: "system_r" }),
        /pod: securityContext\.seLinuxOptions\.role is "system_r"; remove it/,
      ],
      [
        "a Windows HostProcess pod",
        (d) => (podSc(d)["windowsOptions"] = { hostProcess: true }),
        /pod: securityContext\.windowsOptions\.hostProcess is true; remove it/,
      ],
      [
        "a hostPort",
        (d) => (c0(d)["ports"] = [{ name: "http", containerPort: 8080, hostPort: 8080 }]),
        /container "api": ports\[http\]\.hostPort is 8080; remove hostPort/,
      ],
      [
        "a seccomp profile Unconfined on the container",
        (d) => (sc0(d)["seccompProfile"] = { type: "Unconfined" }),
        /container "api": seccompProfile\.type is "Unconfined"; set seccompProfile\.type: RuntimeDefault/,
      ],
      [
        "no seccomp profile on the pod or the container",
        (d) => delete podSc(d)["seccompProfile"],
        /container "api": seccompProfile is unset on the container and the pod .*; set seccompProfile\.type: RuntimeDefault/,
      ],
      [
        "procMount Unmasked",
        (d) => (sc0(d)["procMount"] = "Unmasked"),
        /container "api": procMount is "Unmasked"; remove it \(or set procMount: Default\)/,
      ],
      [
        "AppArmor Unconfined on the container",
        (d) => (sc0(d)["appArmorProfile"] = { type: "Unconfined" }),
        /container "api": appArmorProfile\.type is "Unconfined"/,
      ],
      [
        "an SELinux type on the container",
        (d) => (sc0(d)["seLinuxOptions"] = { type: "unconfined_t" }),
        /container "api": seLinuxOptions\.type is "unconfined_t"/,
      ],
      [
        "a Windows HostProcess container",
        (d) => (sc0(d)["windowsOptions"] = { hostProcess: true }),
        /container "api": windowsOptions\.hostProcess is true/,
      ],
      [
        "capabilities.drop spelled in lower case (admission does not read it as ALL)",
        (d) => (sc0(d)["capabilities"] = { drop: ["all"] }),
        /container "api": capabilities\.drop is \["all"\]; drop \["ALL"\] \(spelled exactly so\)/,
      ],
      [
        "NET_BIND_SERVICE spelled with a CAP_ prefix",
        (d) => (sc0(d)["capabilities"] = { drop: ["ALL"], add: ["CAP_NET_BIND_SERVICE"] }),
        /container "api": capabilities\.add has "CAP_NET_BIND_SERVICE"; add nothing but "NET_BIND_SERVICE"/,
      ],
      [
        "a probe with a host",
        (d) =>
          (c0(d)["readinessProbe"] = { httpGet: { path: "/v1/health", port: "http", host: "10.0.0.1" } }),
        /container "api": readinessProbe\.httpGet\.host is "10\.0\.0\.1"; remove host/,
      ],
      [
        "a startup probe with a host",
        (d) => (c0(d)["startupProbe"] = { tcpSocket: { port: 8080, host: "metadata.internal" } }),
        /container "api": startupProbe\.tcpSocket\.host is "metadata\.internal"/,
      ],
      [
        "a lifecycle hook with a host",
        (d) =>
          (c0(d)["lifecycle"] = {
            preStop: { httpGet: { path: "/drain", port: 8080, host: "169.254.169.254" } },
          }),
        /container "api": lifecycle\.preStop\.httpGet\.host is "169\.254\.169\.254"/,
      ],
      [
        "an init container with a hostPort",
        (d) =>
          (d.spec.template.spec.initContainers = [
            { ...container("migrate"), ports: [{ containerPort: 9000, hostPort: 9000 }] },
          ]),
        /init container "migrate": ports\[9000\]\.hostPort is 9000/,
      ],
    ])("blocks %s", (_l, mutate, expected) => {
      it("reports it with the fix", async () => {
        const control = await run();
        expect(control.messages).toEqual([]);
        const out = await run(mutate);
        expect(out.messages.join("\n")).toMatch(expected);
        for (const m of out.messages) {
          expect(m).toMatch(/^Deployment nova-app\/nova-api \(production\)/);
          expect(m).toMatch(/threshold: the restricted Pod Security Standard.* Fix: /);
        }
      });
    });

    it("reads only what it judges: an unknown annotation, env value or secret name does not hide the pod", async () => {
      const out = await run((d) => {
        meta(d, { "rollout.nova.dev/secrets-checksum": UNKNOWN });
        c0(d)["env"] = [{ name: "RELEASE", value: UNKNOWN }];
        pod(d)["volumes"] = [{ name: "s", secret: { secretName: UNKNOWN } }];
        pod(d)["hostNetwork"] = true;
      });
      expect(out.messages).toEqual([expect.stringMatching(/, pod: hostNetwork is true/)]);
    });

    it("refuses an unknown pod-level field as unknown, never as safe", async () => {
      const out = await run((d) => (pod(d)["hostPID"] = UNKNOWN));
      expect(out.messages.join("\n")).toMatch(/the pod spec is unknown during preview/);
    });
  });

  describe("every pod-bearing kind, in any API version", () => {
    const template = () => ({ metadata: { labels: { app: "x" } }, spec: podSpec() as Obj });
    const batchTemplate = () => {
      const t = template();
      const c = container("task");
      delete c["readinessProbe"];
      delete c["livenessProbe"];
      t.spec["containers"] = [c];
      t.spec["restartPolicy"] = "Never";
      return t;
    };
    const metadata = { name: "x", namespace: "nova-app" };
    type Props = { props: Obj; podOf: (p: Obj) => Obj };
    const viaTemplate = (spec: Obj): Props => ({
      props: { metadata, spec },
      podOf: (p) => ((p["spec"] as Obj)["template"] as Obj)["spec"] as Obj,
    });
    const kinds: [string, () => Props][] = [
      ["kubernetes:apps/v1:DaemonSet", () => viaTemplate({ template: template() })],
      ["kubernetes:apps/v1:ReplicaSet", () => viaTemplate({ replicas: 2, template: template() })],
      ["kubernetes:core/v1:ReplicationController", () => viaTemplate({ replicas: 2, template: template() })],
      ["kubernetes:apps/v1beta2:StatefulSet", () => viaTemplate({ template: template() })],
      ["kubernetes:extensions/v1beta1:Deployment", () => viaTemplate({ replicas: 2, template: template() })],
      ["kubernetes:batch/v1:Job", () => viaTemplate({ template: batchTemplate() })],
      [
        "kubernetes:batch/v1beta1:CronJob",
        () => ({
          props: {
            metadata,
            spec: { schedule: "@daily", jobTemplate: { spec: { template: batchTemplate() } } },
          },
          podOf: (p) =>
            ((((p["spec"] as Obj)["jobTemplate"] as Obj)["spec"] as Obj)["template"] as Obj)["spec"] as Obj,
        }),
      ],
      [
        "kubernetes:core/v1:Pod",
        () => ({ props: { metadata, spec: podSpec() }, podOf: (p) => p["spec"] as Obj }),
      ],
      [
        "kubernetes:core/v1:PodTemplate",
        () => ({
          props: { metadata, template: batchTemplate() },
          podOf: (p) => (p["template"] as Obj)["spec"] as Obj,
        }),
      ],
    ];
    const check = (type: string, props: Obj) =>
      runResourcePolicy(workloadSafety, { type, props, config: { projectDir: fixture.project.dir } });

    describe.each(kinds)("%s", (type, make) => {
      const kind = type.split(":")[2];
      it("passes when compliant", async () => {
        expect((await check(type, make().props)).messages).toEqual([]);
      });
      it("refuses hostNetwork", async () => {
        const { props, podOf } = make();
        podOf(props)["hostNetwork"] = true;
        expect((await check(type, props)).messages).toEqual([
          expect.stringMatching(new RegExp(`^${kind} nova-app/x \\(production\\), pod: hostNetwork is true`)),
        ]);
      });
      it("refuses a privileged container", async () => {
        const { props, podOf } = make();
        const c = (podOf(props)["containers"] as Obj[])[0]!;
        (c["securityContext"] as Obj)["privileged"] = true;
        expect((await check(type, props)).messages.join("\n")).toMatch(
          new RegExp(`^${kind} nova-app/x \\(production\\), container "\\w+": privileged is true`),
        );
      });
    });

    it("judges a bare Pod's ephemeral containers on security only", async () => {
      const debug = { name: "debug", image: "busybox", securityContext: { privileged: true } };
      const out = await check("kubernetes:core/v1:Pod", {
        metadata,
        spec: { ...podSpec(), ephemeralContainers: [debug] },
      });
      expect(out.messages).toHaveLength(1);
      expect(out.messages[0]).toMatch(
        /^Pod nova-app\/x \(production\), ephemeral container "debug": privileged is true; .*allowPrivilegeEscalation is "unset/,
      );
    });

    it("requires probes on a bare Pod that restarts, not on one that runs to completion", async () => {
      const c = container();
      delete c["readinessProbe"];
      delete c["livenessProbe"];
      const restarting = await check("kubernetes:core/v1:Pod", {
        metadata,
        spec: { ...podSpec(), containers: [c] },
      });
      expect(restarting.messages.join("\n")).toMatch(/missing readinessProbe, livenessProbe/);
      const task = await check("kubernetes:core/v1:Pod", {
        metadata,
        spec: { ...podSpec(), restartPolicy: "OnFailure", containers: [c] },
      });
      expect(task.messages).toEqual([]);
    });

    it.each([
      "kubernetes:apps/v1:DeploymentPatch",
      "kubernetes:core/v1:PodPatch",
      "kubernetes:apps/v1:DaemonSetPatch",
    ])("refuses a %s: a field-by-field change of a live object cannot be judged whole", async (type) => {
      const kind = type.split(":")[2];
      const out = await check(type, { metadata, spec: { template: { spec: { hostNetwork: true } } } });
      expect(out.messages).toEqual([
        expect.stringMatching(
          new RegExp(
            `^${kind} nova-app/x \\(production\\): a ${kind} changes a live .* Fix: put the change in charts/nova-stack`,
          ),
        ),
      ]);
    });

    it("leaves patches of sandbox stacks alone, like every other rule", async () => {
      fixture.remakeProject({ environment: "sandbox" });
      const out = await check("kubernetes:apps/v1:DeploymentPatch", { metadata, spec: {} });
      expect(out.messages).toEqual([]);
    });

    it("ignores kinds outside the core workload groups", async () => {
      expect((await check("kubernetes:example.com/v1:Deployment", { spec: {} })).messages).toEqual([]);
      expect((await check("kubernetes:core/v1:ConfigMap", { data: {} })).messages).toEqual([]);
    });
  });

  describe("batch and stateful workloads", () => {
    const batchContainer = () => {
      const c = container("billing-drill");
      delete c["readinessProbe"];
      delete c["livenessProbe"];
      return c;
    };
    const cronJob = (c: Obj) => ({
      metadata: { name: "nova-billing-drill", namespace: "nova-app" },
      spec: { jobTemplate: { spec: { template: { spec: { ...podSpec(), containers: [c] } } } } },
    });
    const job = (c: Obj) => ({
      metadata: { name: "nova-migrate", namespace: "nova-app" },
      spec: { template: { spec: { ...podSpec(), containers: [c] } } },
    });
    const statefulSet = (c: Obj) => ({
      metadata: { name: "nova-cache", namespace: "nova-app" },
      spec: { replicas: 1, template: { spec: { ...podSpec(), containers: [c] } } },
    });
    const check = (type: string, props: Obj) =>
      runResourcePolicy(workloadSafety, { type, props, config: { projectDir: fixture.project.dir } });

    it("passes a safe CronJob and Job without probes", async () => {
      expect((await check("kubernetes:batch/v1:CronJob", cronJob(batchContainer()))).messages).toEqual([]);
      expect((await check("kubernetes:batch/v1:Job", job(batchContainer()))).messages).toEqual([]);
    });

    it("blocks a CronJob whose container escalates privileges and has a zero memory request", async () => {
      const c = batchContainer();
      (c["securityContext"] as Obj)["allowPrivilegeEscalation"] = true;
      (c["resources"] as Record<string, Obj>)["requests"]!["memory"] = "0";
      const out = await check("kubernetes:batch/v1:CronJob", cronJob(c));
      expect(out.messages).toHaveLength(2);
      expect(out.messages.join("\n")).toMatch(
        /^CronJob nova-app\/nova-billing-drill \(production\), container "billing-drill": requests\.memory "0" is not > 0/m,
      );
      expect(out.messages.join("\n")).toMatch(/container "billing-drill": allowPrivilegeEscalation is true/);
    });

    it("blocks a Job without limits", async () => {
      const c = batchContainer();
      (c["resources"] as Record<string, Obj>)["limits"] = {};
      const out = await check("kubernetes:batch/v1:Job", job(c));
      expect(out.messages.join("\n")).toMatch(
        /^Job nova-app\/nova-migrate .*missing limits\.cpu, limits\.memory/,
      );
    });

    it("requires probes on a StatefulSet but leaves its replicas to the availability policy", async () => {
      expect((await check("kubernetes:apps/v1:StatefulSet", statefulSet(container()))).messages).toEqual([]);
      const out = await check("kubernetes:apps/v1:StatefulSet", statefulSet(batchContainer()));
      expect(out.messages.join("\n")).toMatch(
        /^StatefulSet nova-app\/nova-cache \(production\), container "billing-drill": missing readinessProbe, livenessProbe/,
      );
    });

    it("ignores other kinds", async () => {
      expect((await check("kubernetes:core/v1:Service", { spec: {} })).messages).toEqual([]);
    });
  });

  describe("the chart's own render", () => {
    const typeOf = (o: K8sObject) =>
      `kubernetes:${o.apiVersion.includes("/") ? o.apiVersion : `core/${o.apiVersion}`}:${o.kind}`;
    async function judge(objects: readonly K8sObject[], file: "production" | "staging", stack: string) {
      const messages: string[] = [];
      for (const o of objects) {
        const out = await runResourcePolicy(workloadSafety, {
          type: typeOf(o),
          name: `nova-release:${o.metadata.namespace ?? ""}/${o.metadata.name}`,
          stack,
          props: o,
          config: fileConfig(workloadSafety, file, { projectDir: fixture.project.dir }),
        });
        messages.push(...out.messages);
      }
      return messages;
    }
    const workloads = (objects: readonly K8sObject[]) =>
      objects
        .filter((o) => ["Deployment", "CronJob", "Job", "StatefulSet"].includes(o.kind))
        .map((o) => o.kind);

    it("passes every rule on the production render", async () => {
      const objects = renderChart(PRODUCTION);
      expect(workloads(objects).sort()).toEqual(["CronJob", "Deployment", "Deployment"]);
      expect(await judge(objects, "production", "production")).toEqual([]);
    });

    it("passes every new rule on the staging render; only the replica floor flags the single staging worker", async () => {
      fixture.remakeProject({ stack: "staging", environment: "staging" });
      const messages = await judge(renderChart(STAGING), "staging", "staging");
      expect(messages).toEqual([
        expect.stringMatching(/^Deployment nova-test\/nova-worker \(staging\): replicas 1;/),
      ]);
    });
  });
});
