import { describe, expect, it } from "vitest";
import { productionTarget } from "../../policy/policies";
import { enforcementFor, fileConfig, runResourcePolicy } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

function run(file: "production" | "staging" | "local" = "production", type = "pulumi:pulumi:Stack") {
  return runResourcePolicy(productionTarget, {
    type,
    name: "nova-rollout-production",
    props: {},
    config: fileConfig(productionTarget, file, { projectDir: fixture.project.dir }),
  });
}

describe("nova-production-target", () => {
  it("passes a production stack that keeps the committed baseline", async () => {
    expect((await run()).messages).toEqual([]);
  });

  it("is mandatory under every committed enforcement", () => {
    for (const file of ["production", "staging", "local"] as const) {
      expect(enforcementFor(productionTarget, file)).toBe("mandatory");
    }
  });

  it("ignores a staging stack aimed at no protected target", async () => {
    fixture.remakeProject({
      stack: "staging",
      environment: "staging",
      extraConfig: { "nova-rollout:namespace": "nova-staging" },
    });
    const out = await runResourcePolicy(productionTarget, {
      type: "pulumi:pulumi:Stack",
      stack: "staging",
      props: {},
      config: fileConfig(productionTarget, "staging", { projectDir: fixture.project.dir }),
    });
    expect(out.messages).toEqual([]);
  });

  describe.each([
    [
      "a stack labelled staging aimed at the protected namespace",
      { environment: "staging", extraConfig: { "nova-rollout:namespace": "nova-prod" } },
      /\[environment\].*targets namespace nova-prod.*declares environment staging/,
    ],
    [
      "a stack renamed prod-eu aimed at the protected GKE project",
      { stack: "prod-eu", environment: "staging", extraConfig: { "nova-rollout:gcpProject": "nova-prod" } },
      /GCP project nova-prod/,
    ],
    [
      "a registry that is not allowed (the stack's own registry is no anchor)",
      { extraConfig: { "nova-rollout:imageRegistry": "registry.example.com/nova" } },
      /\[registry\]: Image registry registry\.example\.com\/nova is not an allowed production registry/,
    ],
    [
      "required secrets narrowed",
      { extraConfig: { "nova-rollout:requiredSecrets": ["databaseUrl"] } },
      /\[required-secrets\].*leaves out jwtSigningKey, billingApiKey/,
    ],
    [
      "the billing drill left running",
      { extraConfig: { "nova-rollout:pausedCronJobs": ["nova-reports"] } },
      /\[paused-cronjobs\].*leaves out nova-billing-drill/,
    ],
    [
      "another evidence directory",
      { extraConfig: { "nova-rollout:evidenceDir": "/tmp/planted" } },
      /\[evidence-dir\].*\/tmp\/planted; threshold: production evidence lives in tests\/drills\/logs/,
    ],
  ])("blocks %s", (_what, opts, expected) => {
    it("with the production enforcement, whatever the stack's name", async () => {
      const p = fixture.remakeProject(opts);
      const out = await runResourcePolicy(productionTarget, {
        type: "pulumi:pulumi:Stack",
        stack: p.stack,
        props: {},
        config: fileConfig(productionTarget, "production", { projectDir: p.dir }),
      });
      expect(out.messages.join("\n")).toMatch(expected);
    });
  });

  it.each(["staging", "local"] as const)(
    "blocks a production stack judged with the %s enforcement",
    async (file) => {
      const out = await run(file);
      expect(out.messages.join("\n")).toMatch(
        new RegExp(
          `is production \\(it declares environment production\\) but the policy pack runs with the ${file} enforcement`,
        ),
      );
    },
  );

  it("fails closed when the committed enforcement is missing", async () => {
    fixture.project.write("policy/config/production.json", "{ not json");
    const out = await run();
    expect(out.messages.join("\n")).toMatch(/Cannot read the committed production enforcement.*fails closed/);
  });

  it("reports each finding once per stack: later gated resources point at the first", async () => {
    fixture.remakeProject({ extraConfig: { "nova-rollout:imageRegistry": "registry.example.com/nova" } });
    const first = await run("production", "pulumi:pulumi:Stack");
    const second = await run("production", "kubernetes:core/v1:Namespace");
    expect(first.messages).toHaveLength(1);
    expect(first.messages[0]).toMatch(/\[registry\]/);
    expect(second.messages).toEqual([
      "Blocked by the 1 finding reported for urn:pulumi:production::nova-rollout::pulumi:pulumi:Stack::nova-rollout-production.",
    ]);
  });
});
