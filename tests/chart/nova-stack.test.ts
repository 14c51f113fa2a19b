/**
 * Chart layer (docs/GUIDE §6.3): charts/nova-stack renders for every values file, passes `helm lint --strict`,
 * keeps the contract the policies rely on, and its schema rejects the mistakes that matter.
 *
 * Runs the real helm binary (see ./helm.ts for how it is found). A missing helm FAILS the suite.
 */
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import {
  type K8sObject,
  at,
  containersOf,
  findHelm,
  getObject,
  helmLint,
  helmTemplate,
  ofKind,
  podSpecOf,
  renderChart,
  runHelm,
} from "./helm";
import {
  API_DIGEST,
  PRODUCTION_PROGRAM,
  REGISTRY,
  REQUIRED,
  STAGING_PROGRAM,
  WORKER_DIGEST,
} from "./fixtures";

const DIGEST_REF = /^[^@\s]+\/[^@\s:]+@sha256:[a-f0-9]{64}$/;

interface ValuesCase {
  /** Label for the test names. */
  readonly name: string;
  /** Values files layered over values.yaml. */
  readonly valuesFiles: readonly string[];
  /** What the program passes on top of the values file (default: REQUIRED only). */
  readonly set?: Readonly<Record<string, string | number | boolean>>;
  readonly environment: string;
  readonly autoscaling: boolean;
  /** Expected replicas when autoscaling is off, or HPA floor/ceiling when on. */
  readonly api: { readonly replicas: number; readonly maxReplicas: number };
  readonly worker: { readonly replicas: number; readonly maxReplicas: number };
}

const VALUES_CASES: readonly ValuesCase[] = [
  {
    name: "values.yaml",
    valuesFiles: [],
    environment: "staging",
    autoscaling: false,
    api: { replicas: 2, maxReplicas: 6 },
    worker: { replicas: 2, maxReplicas: 6 },
  },
  {
    name: "values-staging.yaml",
    valuesFiles: ["values-staging.yaml"],
    environment: "staging",
    autoscaling: false,
    api: { replicas: 2, maxReplicas: 2 },
    worker: { replicas: 1, maxReplicas: 2 },
  },
  {
    name: "values-production.yaml",
    valuesFiles: ["values-production.yaml"],
    // values-production.yaml no longer sets replicas/autoscaling: the program always passes them.
    set: PRODUCTION_PROGRAM,
    environment: "production",
    autoscaling: true,
    api: { replicas: 3, maxReplicas: 10 },
    worker: { replicas: 2, maxReplicas: 6 },
  },
];

const WORKLOADS = [
  {
    deployment: "nova-api",
    port: 8080,
    path: "/v1/health",
    servicePort: 80,
    repository: "nova-rms-api",
    digest: API_DIGEST,
  },
  {
    deployment: "nova-worker",
    port: 3001,
    path: "/readyz",
    servicePort: 3001,
    repository: "nova-rms-worker",
    digest: WORKER_DIGEST,
  },
] as const;

/** The kinds a release rolls: they carry the release id; nothing else does. */
const WORKLOAD_KINDS: readonly string[] = ["Deployment", "CronJob"];

function asRecord(value: unknown, what: string): Record<string, unknown> {
  expect(value, what).toBeTypeOf("object");
  expect(value, what).not.toBeNull();
  return value as Record<string, unknown>;
}

/**
 * How helm 3.18 (santhosh-tekuri/jsonschema) names an offending value: `at '/api/image/digest': …`, or for a key
 * the schema does not allow: `additional properties 'replicaCount' not allowed`.
 */
function schemaViolation(field: string, kind: "value" | "unknown-key" = "value"): RegExp {
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return kind === "unknown-key"
    ? new RegExp(`additional properties '${escape(field)}' not allowed`)
    : new RegExp(`at '/${field.split(".").map(escape).join("/")}'`);
}

describe("helm toolchain", () => {
  it("finds a helm v3.18 binary (run `npm run setup` when this fails)", () => {
    expect(findHelm()).toBeTruthy();
    const version = runHelm(["version", "--short"]);
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/^v3\.18\b/);
  });
});

describe.each(VALUES_CASES)("nova-stack with $name", (c) => {
  const options = { valuesFiles: c.valuesFiles, set: c.set ?? REQUIRED };
  // Rendered once per values file; each test reads from it.
  let cache: K8sObject[] | undefined;
  const objects = (): K8sObject[] => (cache ??= renderChart(options));

  it("passes helm lint --strict", () => {
    const result = helmLint(options);
    expect(result.status, `${result.command}\n${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it("renders and parses every document", () => {
    const kinds = objects().map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        "ServiceAccount/nova",
        "Service/nova-api",
        "Service/nova-worker",
        "Deployment/nova-api",
        "Deployment/nova-worker",
        "PodDisruptionBudget/nova-api",
        "PodDisruptionBudget/nova-worker",
        "CronJob/nova-billing-drill",
        "NetworkPolicy/nova-default-deny",
        "PriorityClass/nova-test-nova-serving",
        "PriorityClass/nova-test-nova-batch",
      ]),
    );
    for (const o of objects()) {
      if (o.kind === "PriorityClass") {
        // Cluster-scoped: no namespace, the namespace is in the name instead.
        expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBeUndefined();
        expect(o.metadata.name).toMatch(/^nova-test-nova-/);
      } else {
        expect(o.metadata.namespace, `${o.kind}/${o.metadata.name} namespace`).toBe("nova-test");
      }
      const labels = asRecord(o.metadata.labels, `${o.kind}/${o.metadata.name} labels`);
      expect(labels["app.kubernetes.io/name"]).toBe("nova-stack");
      expect(labels["app.kubernetes.io/instance"]).toBe("nova-release");
      expect(labels["app.kubernetes.io/managed-by"]).toBe("Helm");
      expect(labels["rollout.nova.dev/environment"]).toBe(c.environment);
      // The release id only where a release changes the object anyway: the workloads.
      const workload = WORKLOAD_KINDS.includes(o.kind);
      expect(labels["rollout.nova.dev/release"], `${o.kind}/${o.metadata.name}`).toBe(
        workload ? "2026.11.3" : undefined,
      );
      expect(labels["app.kubernetes.io/version"], `${o.kind}/${o.metadata.name}`).toBe(
        workload ? "2026.11.3" : undefined,
      );
    }
  });

  it("records the release on every workload's pods", () => {
    for (const o of objects().filter((x) => WORKLOAD_KINDS.includes(x.kind))) {
      const template =
        o.kind === "CronJob" ? at(o, "spec", "jobTemplate", "spec", "template") : at(o, "spec", "template");
      expect(at(template, "metadata", "labels", "rollout.nova.dev/release"), o.metadata.name).toBe(
        "2026.11.3",
      );
    }
  });

  it.each(WORKLOADS)("$deployment uses <registry>/<repository>@<digest>", (w) => {
    const [container, ...rest] = containersOf(getObject(objects(), "Deployment", w.deployment));
    expect(rest).toEqual([]);
    expect(container?.image).toBe(`${REGISTRY}/${w.repository}@${w.digest}`);
    expect(container?.image).toMatch(DIGEST_REF);
  });

  it("runs the billing drill on the worker image by digest", () => {
    const [container] = containersOf(getObject(objects(), "CronJob", "nova-billing-drill"));
    expect(container?.image).toBe(`${REGISTRY}/nova-rms-worker@${WORKER_DIGEST}`);
  });

  it.each(WORKLOADS)("$deployment probes $path on the http port ($port)", (w) => {
    const [container] = containersOf(getObject(objects(), "Deployment", w.deployment));
    expect(container?.ports).toEqual([{ name: "http", containerPort: w.port, protocol: "TCP" }]);
    for (const probe of ["readinessProbe", "startupProbe"]) {
      expect(at(container, probe, "httpGet"), `${w.deployment} ${probe}`).toEqual({
        path: w.path,
        port: "http",
      });
    }
    // Liveness is process-only: it never hits the health endpoint, so it cannot restart the fleet together.
    expect(at(container, "livenessProbe", "httpGet"), `${w.deployment} livenessProbe`).toBeUndefined();
    expect(at(container, "livenessProbe", "tcpSocket"), `${w.deployment} livenessProbe`).toEqual({
      port: "http",
    });
    expect(at(container, "livenessProbe")).not.toEqual(at(container, "readinessProbe"));
    const service = getObject(objects(), "Service", w.deployment);
    expect(at(service, "spec", "type")).toBe("ClusterIP");
    expect(at(service, "spec", "ports")).toEqual([
      { name: "http", port: w.servicePort, targetPort: "http", protocol: "TCP" },
    ]);
    expect(at(service, "spec", "selector")).toEqual(
      at(getObject(objects(), "Deployment", w.deployment), "spec", "selector", "matchLabels"),
    );
  });

  it("runs every container non-root with requests and limits (CronJob included)", () => {
    const workloads = [...ofKind(objects(), "Deployment"), ...ofKind(objects(), "CronJob")];
    expect(workloads).toHaveLength(3);
    for (const workload of workloads) {
      const id = `${workload.kind}/${workload.metadata.name}`;
      const pod = podSpecOf(workload);
      expect(pod.securityContext, `${id} pod securityContext`).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(pod.serviceAccountName, id).toBe("nova");
      expect(pod.automountServiceAccountToken, id).toBe(false);
      for (const container of containersOf(workload)) {
        const cid = `${id} container ${container.name}`;
        expect(container.securityContext, cid).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 10001,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        });
        for (const kind of ["requests", "limits"]) {
          expect(at(container, "resources", kind, "cpu"), `${cid} ${kind}.cpu`).toBeDefined();
          expect(at(container, "resources", kind, "memory"), `${cid} ${kind}.memory`).toBeDefined();
        }
        expect(container.envFrom, cid).toEqual([{ secretRef: { name: "nova-app-secrets" } }]);
      }
    }
  });

  it.each(WORKLOADS)("$deployment rolls safely and restarts when secrets change", (w) => {
    const deployment = getObject(objects(), "Deployment", w.deployment);
    expect(at(deployment, "spec", "strategy")).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
    expect(at(deployment, "spec", "revisionHistoryLimit")).toBeGreaterThanOrEqual(1);
    expect(at(deployment, "spec", "template", "spec", "terminationGracePeriodSeconds")).toBeGreaterThan(0);
    expect(
      at(deployment, "spec", "template", "metadata", "annotations", "rollout.nova.dev/secrets-checksum"),
    ).toBe("c0ffee");
    const spread = at(deployment, "spec", "template", "spec", "topologySpreadConstraints");
    expect(Array.isArray(spread) && spread.length > 0, "topology spread present").toBe(true);
    for (const constraint of spread as unknown[]) {
      // Zones are hard in production only; nodes are always soft, so a small cluster still schedules.
      const hard =
        c.environment === "production" && at(constraint, "topologyKey") === "topology.kubernetes.io/zone";
      expect(at(constraint, "whenUnsatisfiable")).toBe(hard ? "DoNotSchedule" : "ScheduleAnyway");
    }
  });

  it("has a policy/v1 PodDisruptionBudget with maxUnavailable 1 and AlwaysAllow for each Deployment", () => {
    const pdbs = ofKind(objects(), "PodDisruptionBudget");
    expect(pdbs.map((p) => p.metadata.name).sort()).toEqual(["nova-api", "nova-worker"]);
    for (const pdb of pdbs) {
      expect(pdb.apiVersion).toBe("policy/v1");
      expect(at(pdb, "spec", "maxUnavailable")).toBe(1);
      expect(at(pdb, "spec", "minAvailable")).toBeUndefined();
      expect(at(pdb, "spec", "unhealthyPodEvictionPolicy")).toBe("AlwaysAllow");
      const deployment = getObject(objects(), "Deployment", pdb.metadata.name);
      expect(at(pdb, "spec", "selector")).toEqual(at(deployment, "spec", "selector"));
    }
  });

  it(`renders HPAs only when autoscaling is on (${c.autoscaling ? "on" : "off"}) and then omits replicas`, () => {
    const hpas = ofKind(objects(), "HorizontalPodAutoscaler");
    for (const [name, expected] of [
      ["nova-api", c.api],
      ["nova-worker", c.worker],
    ] as const) {
      const deployment = getObject(objects(), "Deployment", name);
      const spec = asRecord(deployment.spec, `${name} spec`);
      const hpa = hpas.find((h) => h.metadata.name === name);
      if (c.autoscaling) {
        expect(spec, `${name} must not set replicas under an HPA`).not.toHaveProperty("replicas");
        expect(hpa, `HPA ${name}`).toBeDefined();
        expect(hpa?.apiVersion).toBe("autoscaling/v2");
        expect(at(hpa, "spec", "scaleTargetRef")).toEqual({
          apiVersion: "apps/v1",
          kind: "Deployment",
          name,
        });
        expect(at(hpa, "spec", "minReplicas")).toBe(expected.replicas);
        expect(at(hpa, "spec", "maxReplicas")).toBe(expected.maxReplicas);
      } else {
        expect(spec.replicas).toBe(expected.replicas);
        expect(hpa, `HPA ${name}`).toBeUndefined();
      }
    }
    expect(hpas).toHaveLength(c.autoscaling ? 2 : 0);
  });

  it("leaves CronJob suspend to the rollout (not rendered by default)", () => {
    const cron = getObject(objects(), "CronJob", "nova-billing-drill");
    expect(cron.apiVersion).toBe("batch/v1");
    const spec = asRecord(cron.spec, "CronJob spec");
    expect(spec).not.toHaveProperty("suspend");
    expect(spec.concurrencyPolicy).toBe("Forbid");
    expect(spec.schedule).toMatch(/^\S+( \S+){4}$/);
  });

  it("creates the ServiceAccount without an API token", () => {
    const sa = getObject(objects(), "ServiceAccount", "nova");
    expect(sa.automountServiceAccountToken).toBe(false);
  });

  it("renders nothing that needs real nodes, volumes claims, Ingress or a load balancer", () => {
    const kinds = new Set(objects().map((o) => o.kind));
    expect(kinds.has("PersistentVolumeClaim")).toBe(false);
    expect(kinds.has("Ingress")).toBe(false);
    for (const service of ofKind(objects(), "Service")) {
      expect(at(service, "spec", "type")).toBe("ClusterIP");
    }
  });
});

describe("billingDrill.suspend", () => {
  it.each([true, false])("is rendered when set explicitly to %s", (suspend) => {
    const objects = renderChart({ set: { ...REQUIRED, "billingDrill.suspend": suspend } });
    expect(at(getObject(objects, "CronJob", "nova-billing-drill"), "spec", "suspend")).toBe(suspend);
  });
});

describe("commonAnnotations", () => {
  it("annotates every object (HPAs included), keeps the CronJob's own, and leaves pods alone", () => {
    const objects = renderChart({
      valuesFiles: ["values-production.yaml"],
      set: { ...PRODUCTION_PROGRAM, "commonAnnotations.pulumi\\.com/patchForce": "true" },
    });
    expect(objects.map((o) => o.kind)).toContain("HorizontalPodAutoscaler");
    for (const o of objects) {
      expect(at(o, "metadata", "annotations", "pulumi.com/patchForce"), `${o.kind}/${o.metadata.name}`).toBe(
        "true",
      );
    }
    const drill = getObject(objects, "CronJob", "nova-billing-drill");
    expect(at(drill, "metadata", "annotations", "rollout.nova.dev/suspend-owner")).toBe("rollout");
    const api = getObject(objects, "Deployment", "nova-api");
    expect(at(api, "spec", "template", "metadata", "annotations")).not.toHaveProperty(
      "pulumi.com/patchForce",
    );
  });

  it("renders no annotations block by default", () => {
    const objects = renderChart({ set: REQUIRED });
    expect(objects.filter((o) => o.metadata.annotations !== undefined).map((o) => o.kind)).toEqual([
      "CronJob",
    ]);
  });
});

interface RejectCase {
  readonly name: string;
  readonly set: Readonly<Record<string, string | number | boolean>>;
  /** The offending field that helm's error must name. */
  readonly field: string;
  /** `unknown-key` when the field is a key the schema does not allow. */
  readonly kind?: "value" | "unknown-key";
  readonly valuesFiles?: readonly string[];
}

/** REQUIRED without one key. */
function without(key: keyof typeof REQUIRED): Record<string, string> {
  return Object.fromEntries(Object.entries(REQUIRED).filter(([k]) => k !== key));
}
const WITHOUT_API_DIGEST = without("api.image.digest");
const WITHOUT_WORKER_DIGEST = without("worker.image.digest");
const WITHOUT_REGISTRY = without("imageRegistry");

const REJECT_CASES: readonly RejectCase[] = [
  { name: "a missing api digest", set: WITHOUT_API_DIGEST, field: "api.image.digest" },
  { name: "a missing worker digest", set: WITHOUT_WORKER_DIGEST, field: "worker.image.digest" },
  {
    name: "a missing digest in production",
    set: WITHOUT_WORKER_DIGEST,
    field: "worker.image.digest",
    valuesFiles: ["values-production.yaml"],
  },
  {
    name: "a tag instead of a digest",
    set: { ...REQUIRED, "api.image.digest": "latest" },
    field: "api.image.digest",
  },
  {
    name: "a tag on the digest field",
    set: { ...REQUIRED, "worker.image.digest": ":latest" },
    field: "worker.image.digest",
  },
  {
    name: "a tag in the repository",
    set: { ...REQUIRED, "api.image.repository": "nova-rms-api:latest" },
    field: "api.image.repository",
  },
  {
    name: "an upper-case digest",
    set: { ...REQUIRED, "api.image.digest": API_DIGEST.toUpperCase() },
    field: "api.image.digest",
  },
  { name: "api replicas 0", set: { ...REQUIRED, "api.replicas": 0 }, field: "api.replicas" },
  { name: "worker replicas 0", set: { ...REQUIRED, "worker.replicas": 0 }, field: "worker.replicas" },
  { name: "an unknown environment", set: { ...REQUIRED, environment: "prod" }, field: "environment" },
  {
    name: "an unknown top-level key",
    set: { ...REQUIRED, replicaCount: 3 },
    field: "replicaCount",
    kind: "unknown-key",
  },
  { name: "a missing registry", set: WITHOUT_REGISTRY, field: "imageRegistry" },
  {
    name: "an HPA ceiling of 0",
    set: { ...REQUIRED, "api.autoscaling.maxReplicas": 0 },
    field: "api.autoscaling.maxReplicas",
  },
  {
    name: "a CPU target above 100%",
    set: { ...REQUIRED, "worker.autoscaling.targetCPUUtilizationPercentage": 150 },
    field: "worker.autoscaling.targetCPUUtilizationPercentage",
  },
  {
    name: "a PDB allowing zero disruptions",
    set: { ...REQUIRED, "podDisruptionBudget.maxUnavailable": 0 },
    field: "podDisruptionBudget.maxUnavailable",
  },
  {
    name: "the removed PDB minAvailable",
    set: { ...REQUIRED, "podDisruptionBudget.minAvailable": 1 },
    field: "minAvailable",
    kind: "unknown-key",
  },
  {
    name: "production without a release id",
    set: { ...PRODUCTION_PROGRAM, release: "" },
    field: "release",
    valuesFiles: ["values-production.yaml"],
  },
  {
    name: "production with one worker replica",
    set: { ...PRODUCTION_PROGRAM, "worker.replicas": 1 },
    field: "worker.replicas",
    valuesFiles: ["values-production.yaml"],
  },
  {
    name: "production with an HPA floor of one",
    set: { ...PRODUCTION_PROGRAM, "api.autoscaling.minReplicas": 1 },
    field: "api.autoscaling.minReplicas",
    valuesFiles: ["values-production.yaml"],
  },
  {
    name: "production without PodDisruptionBudgets",
    set: { ...PRODUCTION_PROGRAM, "podDisruptionBudget.enabled": false },
    field: "podDisruptionBudget.enabled",
    valuesFiles: ["values-production.yaml"],
  },
  {
    name: "a zone spread mode that does not exist",
    set: { ...REQUIRED, "topologySpread.zoneWhenUnsatisfiable": "Never" },
    field: "topologySpread.zoneWhenUnsatisfiable",
  },
  {
    name: "a database CIDR that is not one",
    set: { ...REQUIRED, "networkPolicy.database.cidrs[0]": "db.internal" },
    field: "networkPolicy.database.cidrs.0",
  },
  {
    name: "a non-boolean suspend",
    set: { ...REQUIRED, "billingDrill.suspend": "yes" },
    field: "billingDrill.suspend",
  },
];

describe("values.schema.json", () => {
  it.each(REJECT_CASES)("rejects $name, naming $field", (r) => {
    const result = helmTemplate({ valuesFiles: r.valuesFiles ?? [], set: r.set });
    expect(result.status, `${result.command} should fail`).not.toBe(0);
    expect(result.stderr).toMatch(/values don't meet the specifications of the schema/);
    expect(result.stderr).toMatch(schemaViolation(r.field, r.kind));
  });

  it("is checked by helm lint too", () => {
    const result = helmLint({ set: { ...REQUIRED, "api.replicas": 0 } });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toMatch(schemaViolation("api.replicas"));
  });
});

describe("template guards (schema skipped)", () => {
  it("fails with a clear message when a digest is missing", () => {
    const result = helmTemplate({ set: WITHOUT_API_DIGEST, extraArgs: ["--skip-schema-validation"] });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/api\.image\.digest is required: images are pinned by digest/);
  });

  it("fails when an HPA ceiling is below its floor", () => {
    const result = helmTemplate({
      valuesFiles: ["values-production.yaml"],
      set: { ...PRODUCTION_PROGRAM, "api.autoscaling.minReplicas": 5, "api.autoscaling.maxReplicas": 4 },
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(
      /api\.autoscaling\.maxReplicas \(4\) must be >= api\.autoscaling\.minReplicas \(5\)/,
    );
  });
});

/** `kind/name` of an object, for messages and maps. */
const idOf = (o: K8sObject): string => `${o.kind}/${o.metadata.name}`;

describe.each([
  { name: "production (HPAs on)", valuesFiles: ["values-production.yaml"], set: PRODUCTION_PROGRAM },
  { name: "staging", valuesFiles: ["values-staging.yaml"], set: STAGING_PROGRAM },
])("a release touches what it changes: $name", (c) => {
  // What NovaRelease passes on every release, the patchForce annotation included.
  const base = { ...c.set, "commonAnnotations.pulumi\\.com/patchForce": "true" };
  const other = {
    "api.image.digest": `sha256:${"c3".repeat(32)}`,
    "worker.image.digest": `sha256:${"d4".repeat(32)}`,
  };
  const render = (set: Readonly<Record<string, string | number | boolean>>) =>
    new Map(renderChart({ valuesFiles: c.valuesFiles, set }).map((o) => [idOf(o), o]));

  it.each([
    { change: "the digests", set: other },
    { change: "the digests and the release id", set: { ...other, release: "2026.12.1" } },
  ])("changing $change leaves every object but the workloads identical", (r) => {
    const before = render(base);
    const after = render({ ...base, ...r.set });
    expect([...after.keys()]).toEqual([...before.keys()]);
    const changed = [...before.keys()].filter((id) => !isDeepStrictEqual(before.get(id), after.get(id)));
    expect(changed.sort()).toEqual([
      "CronJob/nova-billing-drill",
      "Deployment/nova-api",
      "Deployment/nova-worker",
    ]);
    for (const [id, o] of before) {
      if (!WORKLOAD_KINDS.includes(o.kind)) expect(after.get(id), id).toEqual(o);
    }
    // Each workload changes where it must: its pod template (the digest rolls the pods).
    for (const id of changed) {
      const template = (o: K8sObject | undefined) =>
        o?.kind === "CronJob" ? at(o, "spec", "jobTemplate", "spec", "template") : at(o, "spec", "template");
      expect(template(after.get(id)), id).not.toEqual(template(before.get(id)));
    }
  });
});
