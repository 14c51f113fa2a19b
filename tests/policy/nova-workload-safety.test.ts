import { describe, expect, it } from "vitest";
import { workloadSafety } from "../../policy/policies";
import { enforcementFor, runResourcePolicy } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

type Mutator = (d: ReturnType<typeof deployment>) => void;
function deployment() {
  return {
    spec: {
      replicas: 2 as number | undefined,
      template: {
        spec: {
          securityContext: { runAsNonRoot: true } as Record<string, unknown>,
          containers: [
            {
              name: "api",
              readinessProbe: { httpGet: { path: "/v1/health", port: 8080 } } as unknown,
              livenessProbe: { httpGet: { path: "/v1/health", port: 8080 } } as unknown,
              resources: {
                requests: { cpu: "100m", memory: "128Mi" },
                limits: { cpu: "500m", memory: "512Mi" },
              } as Record<string, Record<string, string>>,
              securityContext: {} as Record<string, unknown>,
            },
          ],
        },
      },
    },
  };
}
function run(mutate: Mutator = () => undefined) {
  const d = deployment();
  mutate(d);
  return runResourcePolicy(workloadSafety, {
    type: "kubernetes:apps/v1:Deployment",
    name: "nova-release:nova-prod/nova-api",
    props: d,
    config: { projectDir: fixture.project.dir },
  });
}
const c0 = (d: ReturnType<typeof deployment>) => d.spec.template.spec.containers[0]!;

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

  describe.each<[string, Mutator, RegExp]>([
    ["one replica", (d) => (d.spec.replicas = 1), /replicas 1; threshold >= 2/],
    ["no readiness probe", (d) => delete c0(d).readinessProbe, /missing readinessProbe/],
    ["no liveness probe", (d) => delete c0(d).livenessProbe, /missing livenessProbe/],
    ["no cpu request", (d) => delete c0(d).resources["requests"]!["cpu"], /missing requests\.cpu/],
    ["no memory limit", (d) => delete c0(d).resources["limits"]!["memory"], /missing limits\.memory/],
    ["root allowed", (d) => (d.spec.template.spec.securityContext = {}), /missing runAsNonRoot: true/],
    [
      "container overriding runAsNonRoot",
      (d) => (c0(d).securityContext = { runAsNonRoot: false }),
      /missing runAsNonRoot: true/,
    ],
  ])("blocks %s", (_l, mutate, expected) => {
    it("reports it", async () => {
      expect((await run(mutate)).messages.join("\n")).toMatch(expected);
    });
  });
});
