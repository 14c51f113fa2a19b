import { describe, expect, it } from "vitest";
import { workloadAvailability } from "../../policy/policies";
import { pdbProtects, selects } from "../../policy/policies/workload-availability";
import { PRODUCTION, STAGING } from "../chart/fixtures";
import { type K8sObject, renderChart } from "../chart/helm";
import {
  enforcementFor,
  fileConfig,
  runStackPolicy,
  type StackResourceSpec,
  stackResources,
  UNKNOWN,
} from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

type Obj = Record<string, unknown>;
const NS = "nova-app";
const LABELS = { "app.kubernetes.io/name": "nova-stack", "app.kubernetes.io/component": "api" };

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";

function deployment(
  spec: Obj = {},
  name = "nova-api",
  namespace: string | undefined = NS,
): StackResourceSpec {
  return {
    type: DEPLOYMENT,
    name: `nova-release:${namespace ?? ""}/${name}`,
    props: {
      metadata: { name, ...(namespace !== undefined ? { namespace } : {}) },
      spec: { template: { metadata: { labels: { ...LABELS } } }, ...spec },
    },
  };
}
function hpa(spec: Obj = {}, name = "nova-api", namespace = NS): StackResourceSpec {
  return {
    type: HPA,
    name: `nova-release:${namespace}/${name}`,
    props: {
      metadata: { name, namespace },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "nova-api" },
        minReplicas: 2,
        maxReplicas: 6,
        ...spec,
      },
    },
  };
}
function pdb(spec: Obj = {}, name = "nova-api", namespace = NS): StackResourceSpec {
  return {
    type: PDB,
    name: `nova-release:${namespace}/${name}`,
    props: {
      metadata: { name, namespace },
      spec: { maxUnavailable: 1, selector: { matchLabels: LABELS }, ...spec },
    },
  };
}
const stack: StackResourceSpec = { type: "pulumi:pulumi:Stack", name: "nova-rollout-production" };

function run(specs: StackResourceSpec[], config: Obj = {}, stackName = "production") {
  return runStackPolicy(workloadAvailability, {
    // One call per object: chart objects of different kinds share a Pulumi name (their URNs differ by type).
    resources: [stack, ...specs].flatMap((s) => stackResources([s], stackName)),
    config: { projectDir: fixture.project.dir, ...config },
  });
}

describe("selects", () => {
  const labels = { a: "1", b: "2" };
  it.each<[string, Parameters<typeof selects>[0], boolean]>([
    ["a subset of the labels", { matchLabels: { a: "1" }, matchExpressions: [] }, true],
    ["an empty selector (all pods)", { matchLabels: {}, matchExpressions: [] }, true],
    ["a different value", { matchLabels: { a: "2" }, matchExpressions: [] }, false],
    ["a missing label", { matchLabels: { c: "3" }, matchExpressions: [] }, false],
    ["In", { matchLabels: {}, matchExpressions: [{ key: "a", operator: "In", values: ["1", "9"] }] }, true],
    ["NotIn", { matchLabels: {}, matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] }, false],
    ["Exists", { matchLabels: {}, matchExpressions: [{ key: "b", operator: "Exists", values: [] }] }, true],
    [
      "DoesNotExist",
      { matchLabels: {}, matchExpressions: [{ key: "b", operator: "DoesNotExist", values: [] }] },
      false,
    ],
    [
      "an unknown operator",
      { matchLabels: {}, matchExpressions: [{ key: "a", operator: "Gt", values: [] }] },
      false,
    ],
  ])("%s → %s", (_l, selector, expected) => {
    expect(selects(selector, labels)).toBe(expected);
  });
});

describe("pdbProtects", () => {
  it.each<[Obj, number, boolean]>([
    [{ maxUnavailable: 1 }, 2, true],
    [{ maxUnavailable: 2 }, 2, false],
    [{ maxUnavailable: "50%" }, 2, true],
    [{ maxUnavailable: "100%" }, 2, false],
    [{ minAvailable: 1 }, 2, true],
    [{ minAvailable: 0 }, 2, false],
    [{ minAvailable: "0%" }, 2, false],
    [{}, 2, true],
  ])("%j with floor %d → %s", (pdbSpec, floor, expected) => {
    expect(pdbProtects(pdbSpec, floor)).toBe(expected);
  });
});

describe("nova-workload-availability", () => {
  it("is mandatory in production and advisory elsewhere", () => {
    expect(enforcementFor(workloadAvailability, "production")).toBe("mandatory");
    expect(enforcementFor(workloadAvailability, "staging")).toBe("advisory");
    expect(enforcementFor(workloadAvailability, "local")).toBe("advisory");
  });

  it("passes a Deployment with two replicas and nothing else", async () => {
    expect((await run([deployment({ replicas: 2 })])).messages).toEqual([]);
  });

  it("passes a Deployment scaled by an HPA with minReplicas 2 and covered by a PDB", async () => {
    expect((await run([deployment(), hpa(), pdb()])).messages).toEqual([]);
  });

  it("passes with a PDB selecting by matchExpressions", async () => {
    const byExpression = pdb({
      selector: {
        matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["api"] }],
      },
    });
    expect((await run([deployment(), hpa(), byExpression])).messages).toEqual([]);
  });

  it("does nothing without resources", async () => {
    expect(
      (
        await runStackPolicy(workloadAvailability, {
          resources: [],
          config: { projectDir: fixture.project.dir },
        })
      ).messages,
    ).toEqual([]);
  });

  describe.each<[string, StackResourceSpec[], RegExp]>([
    [
      "one replica and no HPA",
      [deployment({ replicas: 1 })],
      /replicas 1 and no HorizontalPodAutoscaler targets it; threshold: replicas >= 2/,
    ],
    [
      "replicas unset and no HPA (Kubernetes runs one)",
      [deployment()],
      /spec\.replicas is unset \(Kubernetes runs 1\) and no HorizontalPodAutoscaler targets it/,
    ],
    [
      "an HPA with minReplicas 1",
      [deployment(), hpa({ minReplicas: 1 }), pdb()],
      /HorizontalPodAutoscaler nova-app\/nova-api has minReplicas 1 \(the HPA owns the replica count\)/,
    ],
    [
      "an HPA without minReplicas (defaults to 1)",
      [deployment(), hpa({ minReplicas: undefined }), pdb()],
      /has minReplicas 1/,
    ],
    [
      "an HPA floor below threshold even with explicit replicas 3",
      [deployment({ replicas: 3 }), hpa({ minReplicas: 1 }), pdb()],
      /has minReplicas 1/,
    ],
    [
      "an HPA but no PDB",
      [deployment(), hpa()],
      /no PodDisruptionBudget in its namespace selects its pod labels/,
    ],
    [
      "a PDB selecting other pods",
      [deployment(), hpa(), pdb({ selector: { matchLabels: { "app.kubernetes.io/component": "worker" } } })],
      /no PodDisruptionBudget in its namespace selects its pod labels/,
    ],
    [
      "a PDB in another namespace",
      [deployment(), hpa(), pdb({}, "nova-api", "elsewhere")],
      /no PodDisruptionBudget in its namespace selects/,
    ],
    [
      "a PDB that lets every pod go",
      [deployment(), hpa(), pdb({ maxUnavailable: "100%" })],
      /PodDisruptionBudget nova-app\/nova-api lets every pod be evicted at once/,
    ],
    [
      "an HPA targeting another Deployment",
      [deployment(), hpa({ scaleTargetRef: { kind: "Deployment", name: "nova-worker" } }), pdb()],
      /no HorizontalPodAutoscaler targets it/,
    ],
    [
      "an HPA in another namespace",
      [deployment(), hpa({}, "nova-api", "elsewhere"), pdb()],
      /no HorizontalPodAutoscaler targets it/,
    ],
    [
      "an HPA targeting a StatefulSet of the same name",
      [deployment(), hpa({ scaleTargetRef: { kind: "StatefulSet", name: "nova-api" } }), pdb()],
      /no HorizontalPodAutoscaler targets it/,
    ],
  ])("blocks %s", (_l, specs, expected) => {
    it("reports it, naming the Deployment and the fix", async () => {
      const out = await run(specs);
      expect(out.messages).toHaveLength(1);
      expect(out.messages[0]).toMatch(expected);
      expect(out.messages[0]).toMatch(/^Deployment nova-app\/nova-api \(production\): /);
      expect(out.messages[0]).toMatch(/ Fix: pulumi config set nova-rollout:apiReplicas 2/);
      expect(out.violations[0]?.urn).toMatch(
        /::kubernetes:apps\/v1:Deployment::nova-release:nova-app\/nova-api$/,
      );
    });
  });

  it("judges each Deployment on its own", async () => {
    const out = await run([
      deployment({ replicas: 2 }),
      deployment({ replicas: 1 }, "nova-worker"),
      hpa({ scaleTargetRef: { kind: "Deployment", name: "nova-worker" }, minReplicas: 3 }, "nova-worker"),
    ]);
    expect(out.messages).toEqual([
      expect.stringMatching(/^Deployment nova-app\/nova-worker .*no PodDisruptionBudget/),
    ]);
  });

  it("reports a Deployment unknown during preview, and notes unknown HPAs/PDBs", async () => {
    const unknown = deployment({ replicas: UNKNOWN });
    expect((await run([unknown])).messages.join("\n")).toMatch(/unknown during preview/);
    const unknownPdb = pdb({ selector: UNKNOWN });
    expect((await run([deployment(), hpa(), unknownPdb])).messages.join("\n")).toMatch(
      /\(1 HorizontalPodAutoscaler\/PodDisruptionBudget objects are unknown during preview\)/,
    );
  });

  it("does not apply to a sandbox stack that targets nothing protected", async () => {
    fixture.remakeProject({ environment: "sandbox" });
    expect((await run([deployment({ replicas: 1 })])).messages).toEqual([]);
  });

  it("applies to a sandbox stack when its label is listed in environments", async () => {
    fixture.remakeProject({ environment: "sandbox" });
    const out = await run([deployment({ replicas: 1 })], { environments: ["sandbox"] });
    expect(out.messages.join("\n")).toMatch(/^Deployment nova-app\/nova-api \(sandbox\): replicas 1/);
  });

  it("judges a sandbox-labelled stack aimed at a protected target as production", async () => {
    fixture.remakeProject({
      environment: "sandbox",
      extraConfig: { "nova-rollout:gkeClusterName": "nova-prod" },
    });
    const out = await run([deployment({ replicas: 1 })]);
    expect(out.messages.join("\n")).toMatch(/\(production: targets GKE cluster nova-prod\): replicas 1/);
  });

  it("judges a Deployment in a protected namespace as production whatever the stack", async () => {
    fixture.remakeProject({ environment: "staging" });
    const out = await run([deployment({ replicas: 1 }, "nova-api", "nova-prod")]);
    expect(out.messages.join("\n")).toMatch(
      /^Deployment nova-prod\/nova-api \(production: targets namespace nova-prod\)/,
    );
  });

  it("accepts a configured floor", async () => {
    expect((await run([deployment({ replicas: 2 })], { minReplicas: 3 })).messages.join("\n")).toMatch(
      /replicas 2 .*threshold: replicas >= 3/,
    );
  });

  describe("the chart's own render", () => {
    const toSpecs = (objects: readonly K8sObject[]): StackResourceSpec[] =>
      objects.map((o) => ({
        type: `kubernetes:${o.apiVersion.includes("/") ? o.apiVersion : `core/${o.apiVersion}`}:${o.kind}`,
        name: `nova-release:${o.metadata.namespace ?? ""}/${o.metadata.name}`,
        props: o,
      }));

    it("passes on the production render (HPA floors 3 and 2, PDBs on)", async () => {
      const specs = toSpecs(renderChart(PRODUCTION));
      expect(specs.filter((s) => s.type === DEPLOYMENT)).toHaveLength(2);
      expect(specs.filter((s) => s.type === HPA)).toHaveLength(2);
      expect(specs.filter((s) => s.type === PDB)).toHaveLength(2);
      const out = await run(specs, fileConfig(workloadAvailability, "production"));
      expect(out.messages).toEqual([]);
    });

    it("passes on the staging render with the staging config", async () => {
      fixture.remakeProject({ stack: "staging", environment: "staging" });
      const out = await run(
        toSpecs(renderChart(STAGING)),
        fileConfig(workloadAvailability, "staging"),
        "staging",
      );
      expect(out.messages).toEqual([]);
    });

    it("would flag the single staging worker if staging were judged as production", async () => {
      fixture.remakeProject({ stack: "staging", environment: "staging" });
      const out = await run(toSpecs(renderChart(STAGING)), { environments: ["staging"] }, "staging");
      expect(out.messages).toEqual([
        expect.stringMatching(
          /^Deployment nova-test\/nova-worker \(staging\): replicas 1 and no HorizontalPodAutoscaler/,
        ),
      ]);
    });
  });
});
