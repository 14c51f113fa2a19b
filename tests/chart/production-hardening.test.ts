/**
 * Chart layer, issue 15: what keeps users from seeing errors during a rollout, read on the renders the program
 * produces (values file + what `NovaRelease` passes, see ./fixtures.ts): drain, isolation, disruption, spread,
 * priority, capacity and the CronJob's history. Runs the real helm binary; a missing helm FAILS the suite.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PRODUCTION, PRODUCTION_PROGRAM, REQUIRED, STAGING } from "./fixtures";
import {
  CHART_DIR,
  type K8sObject,
  at,
  containersOf,
  getObject,
  helmTemplate,
  ofKind,
  podSpecOf,
  renderChart,
} from "./helm";

const DEPLOYMENTS = ["nova-api", "nova-worker"] as const;
const SELECTOR = (component: string): Record<string, string> => ({
  "app.kubernetes.io/name": "nova-stack",
  "app.kubernetes.io/instance": "nova-release",
  "app.kubernetes.io/component": component,
});
const RELEASE_SELECTOR = {
  "app.kubernetes.io/name": "nova-stack",
  "app.kubernetes.io/instance": "nova-release",
};

let prodCache: K8sObject[] | undefined;
const prod = (): K8sObject[] => (prodCache ??= renderChart(PRODUCTION));
let stagingCache: K8sObject[] | undefined;
const staging = (): K8sObject[] => (stagingCache ??= renderChart(STAGING));

/** Labels of the pods a workload creates. */
function podLabels(workload: K8sObject): Record<string, string> {
  const path =
    workload.kind === "CronJob"
      ? ["spec", "jobTemplate", "spec", "template", "metadata", "labels"]
      : ["spec", "template", "metadata", "labels"];
  return at(workload, ...path) as Record<string, string>;
}

/** True when matchLabels selects the given labels. */
function selects(matchLabels: unknown, labels: Record<string, string>): boolean {
  return Object.entries(matchLabels as Record<string, string>).every(([k, v]) => labels[k] === v);
}

describe.each([
  ["production", prod],
  ["staging", staging],
] as const)("drain on shutdown (%s)", (environment, objects) => {
  it.each(DEPLOYMENTS)("%s sleeps in preStop (built-in sleep) for less than its grace period", (name) => {
    const deployment = getObject(objects(), "Deployment", name);
    const pod = podSpecOf(deployment);
    const [container] = containersOf(deployment);
    const grace = pod.terminationGracePeriodSeconds as number;
    const preStop = at(container, "lifecycle", "preStop");
    // The image has no shell: the sleep action, never exec.
    expect(Object.keys(preStop as object)).toEqual(["sleep"]);
    const sleep = at(preStop, "sleep", "seconds") as number;
    expect(sleep).toBeGreaterThan(0);
    expect(sleep, `${environment} ${name}: preStop ${sleep}s < grace ${grace}s`).toBeLessThan(grace);
    // Leaves the app real time to drain after SIGTERM.
    expect(grace - sleep).toBeGreaterThanOrEqual(20);
  });
});

describe("drain on shutdown: production rollouts", () => {
  it.each(DEPLOYMENTS)("%s waits minReadySeconds >= 5 before counting a new pod available", (name) => {
    const deployment = getObject(prod(), "Deployment", name);
    expect(at(deployment, "spec", "minReadySeconds")).toBeGreaterThanOrEqual(5);
    expect(at(deployment, "spec", "strategy", "rollingUpdate")).toEqual({ maxUnavailable: 0, maxSurge: 1 });
  });

  it("refuses a preStop sleep as long as the grace period", () => {
    const result = helmTemplate({
      valuesFiles: PRODUCTION.valuesFiles,
      set: { ...PRODUCTION_PROGRAM, "worker.preStopSleepSeconds": 120 },
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(
      /worker\.preStopSleepSeconds \(120\) must be below worker\.terminationGracePeriodSeconds \(120\)/,
    );
  });
});

describe("isolation: NetworkPolicies of the production render", () => {
  const policies = (): K8sObject[] => ofKind(prod(), "NetworkPolicy");
  const policy = (name: string): K8sObject => getObject(prod(), "NetworkPolicy", name);

  it("renders a default deny plus exactly the playbook's paths", () => {
    expect(
      policies()
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual([
      "nova-api-ingress",
      "nova-billing-egress",
      "nova-database-egress",
      "nova-default-deny",
      "nova-dns-egress",
      "nova-worker-callers",
      "nova-worker-ingress",
    ]);
    for (const p of policies()) expect(p.apiVersion).toBe("networking.k8s.io/v1");
  });

  it("denies all ingress and egress of every pod by default", () => {
    const deny = policy("nova-default-deny");
    expect(at(deny, "spec")).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("lets anything reach the api's http port only", () => {
    const p = policy("nova-api-ingress");
    expect(at(p, "spec", "podSelector", "matchLabels")).toEqual(SELECTOR("api"));
    expect(at(p, "spec", "policyTypes")).toEqual(["Ingress"]);
    expect(at(p, "spec", "ingress")).toEqual([{ ports: [{ port: "http", protocol: "TCP" }] }]);
  });

  it("lets only the api call the worker, on both ends of the path", () => {
    const ingress = policy("nova-worker-ingress");
    expect(at(ingress, "spec", "podSelector", "matchLabels")).toEqual(SELECTOR("worker"));
    expect(at(ingress, "spec", "ingress")).toEqual([
      {
        ports: [{ port: "http", protocol: "TCP" }],
        from: [{ podSelector: { matchLabels: SELECTOR("api") } }],
      },
    ]);
    const egress = policy("nova-worker-callers");
    expect(at(egress, "spec", "podSelector", "matchLabels")).toEqual(SELECTOR("api"));
    expect(at(egress, "spec", "policyTypes")).toEqual(["Egress"]);
    expect(at(egress, "spec", "egress")).toEqual([
      {
        ports: [{ port: 3001, protocol: "TCP" }],
        to: [{ podSelector: { matchLabels: SELECTOR("worker") } }],
      },
    ]);
    const worker = getObject(prod(), "Deployment", "nova-worker");
    const [container] = containersOf(worker);
    expect(at(container, "ports", 0, "containerPort")).toBe(3001);
  });

  it("lets every pod of the release resolve names through kube-dns (UDP and TCP 53)", () => {
    const p = policy("nova-dns-egress");
    expect(at(p, "spec", "podSelector", "matchLabels")).toEqual(RELEASE_SELECTOR);
    expect(at(p, "spec", "egress")).toEqual([
      {
        ports: [
          { port: 53, protocol: "UDP" },
          { port: 53, protocol: "TCP" },
        ],
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
          },
        ],
      },
    ]);
  });

  it("lets every pod of the release reach the database CIDRs on 5432", () => {
    const p = policy("nova-database-egress");
    expect(at(p, "spec", "podSelector", "matchLabels")).toEqual(RELEASE_SELECTOR);
    expect(at(p, "spec", "egress")).toEqual([
      { ports: [{ port: 5432, protocol: "TCP" }], to: [{ ipBlock: { cidr: "10.0.0.0/8" } }] },
    ]);
  });

  it("lets every pod of the release reach the billing provider on HTTPS, private ranges excluded", () => {
    const p = policy("nova-billing-egress");
    expect(at(p, "spec", "podSelector", "matchLabels")).toEqual(RELEASE_SELECTOR);
    expect(at(p, "spec", "egress")).toEqual([
      {
        ports: [{ port: 443, protocol: "TCP" }],
        to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] } }],
      },
    ]);
  });

  it("selects the pods of all three workloads with the release-wide egress policies", () => {
    const workloads = [...ofKind(prod(), "Deployment"), ...ofKind(prod(), "CronJob")];
    expect(workloads).toHaveLength(3);
    for (const name of ["nova-dns-egress", "nova-database-egress", "nova-billing-egress"]) {
      const selector = at(policy(name), "spec", "podSelector", "matchLabels");
      for (const w of workloads)
        expect(selects(selector, podLabels(w)), `${name} -> ${w.metadata.name}`).toBe(true);
    }
  });

  it("takes the CIDRs, ports and peers from values", () => {
    const objects = renderChart({
      valuesFiles: PRODUCTION.valuesFiles,
      set: {
        ...PRODUCTION_PROGRAM,
        "networkPolicy.database.cidrs[0]": "10.20.0.0/24",
        "networkPolicy.database.port": 6432,
        "networkPolicy.billing.cidrs[0]": "203.0.113.0/24",
        "networkPolicy.api.from[0].namespaceSelector.matchLabels.team": "edge",
      },
      extraArgs: ["--set", "networkPolicy.billing.except=null"],
    });
    expect(at(getObject(objects, "NetworkPolicy", "nova-database-egress"), "spec", "egress")).toEqual([
      { ports: [{ port: 6432, protocol: "TCP" }], to: [{ ipBlock: { cidr: "10.20.0.0/24" } }] },
    ]);
    expect(at(getObject(objects, "NetworkPolicy", "nova-billing-egress"), "spec", "egress", 0, "to")).toEqual(
      [{ ipBlock: { cidr: "203.0.113.0/24" } }],
    );
    expect(at(getObject(objects, "NetworkPolicy", "nova-api-ingress"), "spec", "ingress", 0, "from")).toEqual(
      [{ namespaceSelector: { matchLabels: { team: "edge" } } }],
    );
  });

  it("renders no NetworkPolicy when disabled", () => {
    const objects = renderChart({ set: { ...REQUIRED, "networkPolicy.enabled": false } });
    expect(ofKind(objects, "NetworkPolicy")).toEqual([]);
  });
});

describe("the API's public entry (apiIngress)", () => {
  const ENTRY = {
    "apiIngress.enabled": true,
    "apiIngress.host": "api.nova-rms.example",
    "apiIngress.staticIpName": "nova-prod-api-ip",
    "apiIngress.certificateName": "nova-prod-api-cert",
  } as const;
  const withEntry = (extra: Record<string, string | number | boolean> = {}) =>
    renderChart({ valuesFiles: PRODUCTION.valuesFiles, set: { ...PRODUCTION_PROGRAM, ...ENTRY, ...extra } });

  it("is off by default: no Ingress, the API Service ClusterIP without a NEG", () => {
    expect(ofKind(prod(), "Ingress")).toEqual([]);
    const service = getObject(prod(), "Service", "nova-api");
    expect(at(service, "spec", "type")).toBe("ClusterIP");
    expect(at(service, "metadata", "annotations", "cloud.google.com/neg")).toBeUndefined();
  });

  it("serves the host over HTTPS only, on the platform's static address and managed certificate", () => {
    const ingress = getObject(withEntry(), "Ingress", "nova-api");
    expect(at(ingress, "metadata", "annotations")).toEqual({
      "kubernetes.io/ingress.global-static-ip-name": "nova-prod-api-ip",
      "ingress.gcp.kubernetes.io/pre-shared-cert": "nova-prod-api-cert",
      "kubernetes.io/ingress.allow-http": "false",
    });
    expect(at(ingress, "spec")).toEqual({
      ingressClassName: "gce",
      rules: [
        {
          host: "api.nova-rms.example",
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: "nova-api", port: { name: "http" } } },
              },
            ],
          },
        },
      ],
    });
    // Container-native load balancing: the load balancer reaches the pods through a NEG of the API Service.
    const service = getObject(withEntry(), "Service", "nova-api");
    expect(at(service, "metadata", "annotations", "cloud.google.com/neg")).toBe('{"ingress": true}');
    expect(at(getObject(withEntry(), "Service", "nova-worker"), "metadata", "annotations")).toBeUndefined();
  });

  it("admits exactly the load balancer's ranges (and networkPolicy.api.from) to the API's http port", () => {
    expect(at(getObject(withEntry(), "NetworkPolicy", "nova-api-ingress"), "spec", "ingress")).toEqual([
      {
        ports: [{ port: "http", protocol: "TCP" }],
        from: [{ ipBlock: { cidr: "130.211.0.0/22" } }, { ipBlock: { cidr: "35.191.0.0/16" } }],
      },
    ]);
    const peers = withEntry({ "networkPolicy.api.from[0].namespaceSelector.matchLabels.team": "edge" });
    expect(at(getObject(peers, "NetworkPolicy", "nova-api-ingress"), "spec", "ingress", 0, "from")).toEqual([
      { ipBlock: { cidr: "130.211.0.0/22" } },
      { ipBlock: { cidr: "35.191.0.0/16" } },
      { namespaceSelector: { matchLabels: { team: "edge" } } },
    ]);
  });

  it("refuses an entry without its host, address or certificate, naming each", () => {
    const r = helmTemplate({
      valuesFiles: PRODUCTION.valuesFiles,
      set: { ...PRODUCTION_PROGRAM, "apiIngress.enabled": true },
    });
    expect(r.status).not.toBe(0);
    for (const key of ["host", "staticIpName", "certificateName"])
      expect(r.stderr).toContain(`/apiIngress/${key}`);
    const bad = helmTemplate({
      valuesFiles: PRODUCTION.valuesFiles,
      set: { ...PRODUCTION_PROGRAM, ...ENTRY, "apiIngress.host": "https://api.nova-rms.example/" },
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("/apiIngress/host");
  });
});

describe("disruption, autoscaling and spread of the production render", () => {
  it.each(DEPLOYMENTS)("%s has a maxUnavailable 1 PDB that never waits on unhealthy pods", (name) => {
    const pdb = getObject(prod(), "PodDisruptionBudget", name);
    expect(at(pdb, "spec")).toEqual({
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: "AlwaysAllow",
      selector: at(getObject(prod(), "Deployment", name), "spec", "selector"),
    });
  });

  it.each([
    ["nova-api", 3, 10],
    ["nova-worker", 2, 6],
  ] as const)("%s is owned by an HPA (%i-%i) with a scaling behavior", (name, min, max) => {
    const deployment = getObject(prod(), "Deployment", name);
    expect(deployment.spec).not.toHaveProperty("replicas");
    const hpa = getObject(prod(), "HorizontalPodAutoscaler", name);
    expect(at(hpa, "spec", "minReplicas")).toBe(min);
    expect(at(hpa, "spec", "maxReplicas")).toBe(max);
    expect(at(hpa, "spec", "minReplicas")).toBeGreaterThanOrEqual(2);
    expect(at(hpa, "spec", "metrics", 0, "resource", "target", "averageUtilization")).toBe(70);
    // Scale down slowly after a quiet window, scale up without one.
    expect(at(hpa, "spec", "behavior", "scaleDown", "stabilizationWindowSeconds")).toBe(300);
    expect(at(hpa, "spec", "behavior", "scaleDown", "policies")).toEqual([
      { type: "Pods", value: 1, periodSeconds: 60 },
    ]);
    expect(at(hpa, "spec", "behavior", "scaleUp", "stabilizationWindowSeconds")).toBe(0);
    expect(at(hpa, "spec", "behavior", "scaleUp", "selectPolicy")).toBe("Max");
  });

  it.each(DEPLOYMENTS)("%s spreads over zones with DoNotSchedule and softly over nodes", (name) => {
    const deployment = getObject(prod(), "Deployment", name);
    const pod = podSpecOf(deployment);
    const labels = podLabels(deployment);
    const spread = pod.topologySpreadConstraints as Record<string, unknown>[];
    const byKey = Object.fromEntries(spread.map((c) => [c.topologyKey as string, c]));
    expect(Object.keys(byKey).sort()).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
    expect(byKey["topology.kubernetes.io/zone"]).toMatchObject({
      maxSkew: 1,
      whenUnsatisfiable: "DoNotSchedule",
      matchLabelKeys: ["pod-template-hash"],
    });
    expect(byKey["kubernetes.io/hostname"]).toMatchObject({
      maxSkew: 1,
      whenUnsatisfiable: "ScheduleAnyway",
    });
    for (const c of spread) expect(selects(at(c, "labelSelector", "matchLabels"), labels)).toBe(true);
    const anti = at(pod, "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution", 0);
    expect(at(anti, "podAffinityTerm", "topologyKey")).toBe("kubernetes.io/hostname");
    expect(selects(at(anti, "podAffinityTerm", "labelSelector", "matchLabels"), labels)).toBe(true);
  });

  it("keeps zone spread soft outside production (clusters without zone labels still schedule)", () => {
    for (const name of DEPLOYMENTS) {
      const spread = podSpecOf(getObject(staging(), "Deployment", name))
        .topologySpreadConstraints as unknown[];
      for (const c of spread) expect(at(c, "whenUnsatisfiable")).toBe("ScheduleAnyway");
    }
  });
});

describe("priority classes", () => {
  it("ranks the api and worker above the billing drill, with per-namespace names", () => {
    const classes = ofKind(prod(), "PriorityClass");
    expect(classes.map((c) => c.metadata.name).sort()).toEqual([
      "nova-test-nova-batch",
      "nova-test-nova-serving",
    ]);
    const serving = getObject(prod(), "PriorityClass", "nova-test-nova-serving");
    const batch = getObject(prod(), "PriorityClass", "nova-test-nova-batch");
    for (const c of classes) {
      expect(c.apiVersion).toBe("scheduling.k8s.io/v1");
      expect(c.globalDefault).not.toBe(true);
      expect(c.metadata.namespace).toBeUndefined();
    }
    expect(serving.value as number).toBeGreaterThan(batch.value as number);
    expect(serving.value as number).toBeLessThan(1_000_000_000);
    expect(batch.preemptionPolicy).toBe("Never");
    for (const name of DEPLOYMENTS) {
      expect(podSpecOf(getObject(prod(), "Deployment", name)).priorityClassName).toBe(
        "nova-test-nova-serving",
      );
    }
    expect(podSpecOf(getObject(prod(), "CronJob", "nova-billing-drill")).priorityClassName).toBe(
      "nova-test-nova-batch",
    );
  });

  it("can be switched off (no cluster-scoped objects, no priorityClassName)", () => {
    const objects = renderChart({ set: { ...REQUIRED, "priorityClasses.create": false } });
    expect(ofKind(objects, "PriorityClass")).toEqual([]);
    for (const w of [...ofKind(objects, "Deployment"), ...ofKind(objects, "CronJob")]) {
      expect(podSpecOf(w)).not.toHaveProperty("priorityClassName");
    }
  });
});

describe("capacity in production", () => {
  it("sets memory request = limit on every container", () => {
    for (const w of [...ofKind(prod(), "Deployment"), ...ofKind(prod(), "CronJob")]) {
      for (const c of containersOf(w)) {
        expect(at(c, "resources", "requests", "memory"), `${w.metadata.name}/${c.name}`).toBe(
          at(c, "resources", "limits", "memory"),
        );
      }
    }
  });

  it("requests and limits ephemeral storage on every container (the writable layer, logs and /tmp)", () => {
    for (const w of [...ofKind(prod(), "Deployment"), ...ofKind(prod(), "CronJob")]) {
      for (const c of containersOf(w)) {
        expect(at(c, "resources", "requests", "ephemeral-storage"), `${w.metadata.name}/${c.name}`).toBe(
          "256Mi",
        );
        expect(at(c, "resources", "limits", "ephemeral-storage"), `${w.metadata.name}/${c.name}`).toBe("1Gi");
      }
    }
  });

  it("refuses a production memory request below its limit", () => {
    const result = helmTemplate({
      valuesFiles: PRODUCTION.valuesFiles,
      set: { ...PRODUCTION_PROGRAM, "api.resources.requests.memory": "512Mi" },
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/api\.resources: in production the memory request \(512Mi\) must equal/);
  });

  it("bounds /tmp (the only writable path) with an emptyDir sizeLimit", () => {
    for (const w of [...ofKind(prod(), "Deployment"), ...ofKind(prod(), "CronJob")]) {
      expect(podSpecOf(w).volumes).toEqual([{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }]);
    }
  });

  it("leaves replicas and autoscaling to the program (not in values-production.yaml)", () => {
    const file = parse(readFileSync(join(CHART_DIR, "values-production.yaml"), "utf8")) as Record<
      string,
      Record<string, unknown>
    >;
    for (const component of ["api", "worker"]) {
      expect(file[component]).not.toHaveProperty("replicas");
      expect(file[component]).not.toHaveProperty("autoscaling");
    }
  });
});

describe("billing-drill CronJob history and suspend state", () => {
  it("keeps a month of weekly runs (no TTL that would empty the history)", () => {
    const cron = getObject(prod(), "CronJob", "nova-billing-drill");
    expect(at(cron, "spec", "successfulJobsHistoryLimit")).toBeGreaterThanOrEqual(3);
    expect(at(cron, "spec", "failedJobsHistoryLimit")).toBeGreaterThanOrEqual(3);
    expect(at(cron, "spec", "jobTemplate", "spec", "ttlSecondsAfterFinished")).toBeUndefined();
  });

  it("says who owns spec.suspend: the rollout by default, the chart when pinned", () => {
    const byDefault = getObject(prod(), "CronJob", "nova-billing-drill");
    expect(at(byDefault, "metadata", "annotations")).toEqual({ "rollout.nova.dev/suspend-owner": "rollout" });
    expect(byDefault.spec).not.toHaveProperty("suspend");
    const pinned = getObject(
      renderChart({ set: { ...REQUIRED, "billingDrill.suspend": true } }),
      "CronJob",
      "nova-billing-drill",
    );
    expect(at(pinned, "metadata", "annotations")).toEqual({
      "rollout.nova.dev/suspend-owner": "chart",
      "rollout.nova.dev/suspend-pinned": "true",
    });
    expect(at(pinned, "spec", "suspend")).toBe(true);
  });
});
