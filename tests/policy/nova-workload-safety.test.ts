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
  return { securityContext: { runAsNonRoot: true, runAsUser: 10001 }, containers: [container()] };
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

  it("accepts runAsUser != 0 without runAsNonRoot, and NET_BIND_SERVICE", async () => {
    const out = await run((d) => {
      d.spec.template.spec.securityContext = {};
      sc0(d)["runAsUser"] = 1000;
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
      "container overriding runAsNonRoot",
      (d) => {
        d.spec.template.spec.securityContext = { runAsNonRoot: true };
        sc0(d)["runAsNonRoot"] = false;
      },
      /missing runAsNonRoot: true/,
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
      /capabilities\.add has SYS_ADMIN; add nothing but NET_BIND_SERVICE/,
    ],
    ["privileged mode", (d) => (sc0(d)["privileged"] = true), /privileged: true; set privileged: false/],
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
