import { describe, expect, it } from "vitest";
import { verificationMetricChecks } from "../../policy/policies";
import { enforcementFor, fileConfig, runResourcePolicy } from "./harness";
import { SANDBOX_PROJECT } from "./fixtures";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

const CHECK = (name: string) => ({ name, query: "sum(rate(http_requests_total[5m]))", condition: "> 0" });
const DECLARED = {
  "nova-rollout:prometheusUrl": "https://prometheus.example",
  "nova-rollout:metricChecks": [CHECK("error-ratio"), CHECK("latency-p95"), CHECK("billing-job-failures")],
};

function run(
  file: "production" | "staging" | "local",
  overrides: Record<string, unknown> = {},
  type = "pulumi:pulumi:Stack",
) {
  return runResourcePolicy(verificationMetricChecks, {
    type,
    stack: fixture.project.stack,
    props: {},
    config: fileConfig(verificationMetricChecks, file, { projectDir: fixture.project.dir, ...overrides }),
  });
}

describe("nova-verification-metric-checks", () => {
  it("is mandatory for production and advisory elsewhere", () => {
    expect(enforcementFor(verificationMetricChecks, "production")).toBe("mandatory");
    expect(enforcementFor(verificationMetricChecks, "staging")).toBe("advisory");
    expect(enforcementFor(verificationMetricChecks, "local")).toBe("advisory");
  });

  it("refuses a production stack without metric checks, saying what to add", async () => {
    const out = await run("production");
    expect(out.messages).toEqual([
      expect.stringMatching(
        /^Stack production \(production\) declares no post-deploy metric checks; threshold: at least one\. Fix: add them to the stack's nova-rollout:metricChecks/,
      ),
    ]);
  });

  it("passes a production stack that declares its metric checks", async () => {
    fixture.remakeProject({ extraConfig: DECLARED });
    expect((await run("production")).messages).toEqual([]);
  });

  it("counts a malformed metricChecks value as none (fail closed)", async () => {
    fixture.remakeProject({
      extraConfig: {
        ...DECLARED,
        "nova-rollout:metricChecks": [{ name: "Bad Name", query: "", condition: "?" }],
      },
    });
    expect((await run("production")).messages).toEqual([
      expect.stringMatching(/declares no post-deploy metric checks/),
    ]);
  });

  it("names the required checks a stack leaves out", async () => {
    fixture.remakeProject({
      extraConfig: { ...DECLARED, "nova-rollout:metricChecks": [CHECK("error-ratio")] },
    });
    const out = await run("production", {
      requiredChecks: ["error-ratio", "latency-p95", "billing-job-failures"],
    });
    expect(out.messages).toEqual([
      expect.stringMatching(
        /declares the metric checks \[error-ratio\] but not latency-p95, billing-job-failures; threshold: error-ratio, latency-p95, billing-job-failures\./,
      ),
    ]);
  });

  it("judges a stack labelled staging aimed at the protected namespace as production", async () => {
    const p = fixture.remakeProject({
      stack: "prod-eu",
      environment: "staging",
      extraConfig: { "nova-rollout:namespace": "nova-prod" },
    });
    const out = await runResourcePolicy(verificationMetricChecks, {
      type: "pulumi:pulumi:Stack",
      stack: p.stack,
      props: {},
      config: fileConfig(verificationMetricChecks, "production", { projectDir: p.dir }),
    });
    expect(out.messages).toEqual([
      expect.stringMatching(/^Stack prod-eu \(production: targets .*namespace nova-prod/),
    ]);
  });

  it("reports the sandbox stack without metric checks as advisory under the local enforcement", async () => {
    fixture.remakeProject(SANDBOX_PROJECT);
    const out = await run("local");
    expect(out.messages).toEqual([
      expect.stringMatching(/^Stack local \(sandbox\) declares no post-deploy metric checks/),
    ]);
  });

  it("leaves a sandbox stack alone under the production enforcement (production only)", async () => {
    fixture.remakeProject(SANDBOX_PROJECT);
    expect((await run("production")).messages).toEqual([]);
  });

  it("checks only the gated resource types", async () => {
    expect((await run("production", {}, "kubernetes:apps/v1:Deployment")).messages).toEqual([]);
    expect((await run("production", {}, "pulumi:providers:kubernetes")).messages).toHaveLength(1);
  });
});
