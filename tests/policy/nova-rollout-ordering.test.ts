import { describe, expect, it } from "vitest";
import { rolloutOrdering } from "../../policy/policies";
import { runStackPolicy, type StackResourceSpec, stackResources } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

const CMD = "command:local:Command";
function specs(): StackResourceSpec[] {
  return [
    { type: "pulumi:pulumi:Stack", name: "nova-rollout-production" },
    { type: "nova:database:DatabaseSafeguards", name: "nova" },
    { type: CMD, name: "nova-dump", parent: "nova" },
    { type: CMD, name: "nova-migration-rehearsal", dependsOn: ["nova-dump"], parent: "nova" },
    { type: CMD, name: "nova-pause-nova-billing-drill" },
    { type: "nova:release:NovaRelease", name: "nova-release", dependsOn: ["nova-migration-rehearsal"] },
    {
      type: "kubernetes:apps/v1:Deployment",
      name: "nova-release:nova-prod/nova-api",
      parent: "nova-release",
    },
    {
      type: "kubernetes:apps/v1:Deployment",
      name: "nova-release:nova-prod/nova-worker",
      parent: "nova-release",
      dependsOn: ["nova-dump"],
    },
    { type: CMD, name: "nova-api-health" },
    { type: CMD, name: "nova-worker-readyz" },
    { type: CMD, name: "nova-alerts-quiet" },
  ];
}
function run(
  mutate: (s: StackResourceSpec[]) => StackResourceSpec[] = (s) => s,
  config: Record<string, unknown> = {},
) {
  return runStackPolicy(rolloutOrdering, {
    resources: stackResources(mutate(specs())),
    config: { projectDir: fixture.project.dir, ...config },
  });
}
const without = (name: string) => (s: StackResourceSpec[]) => s.filter((r) => r.name !== name);

describe("nova-rollout-ordering", () => {
  it("passes when the dump precedes the chart and every command exists", async () => {
    expect((await run()).messages).toEqual([]);
  });

  describe.each<[string, (s: StackResourceSpec[]) => StackResourceSpec[], RegExp]>([
    ["no dump command", without("nova-dump"), /No database dump command/],
    [
      "a Deployment not depending on the dump",
      (s) => s.map((r) => (r.name === "nova-release" ? { ...r, dependsOn: [] } : r)),
      /Deployment nova-release:nova-prod\/nova-api does not depend on nova-dump/,
    ],
    [
      "a missing pause command",
      without("nova-pause-nova-billing-drill"),
      /No pause command for CronJob nova-billing-drill/,
    ],
    ["no api health check", without("nova-api-health"), /No verification command \*-api-health/],
    ["no worker readyz check", without("nova-worker-readyz"), /\*-worker-readyz/],
    ["no alerts-quiet check", without("nova-alerts-quiet"), /\*-alerts-quiet/],
  ])("blocks %s", (_l, mutate, expected) => {
    it("reports it", async () => {
      expect((await run(mutate)).messages.join("\n")).toMatch(expected);
    });
  });

  it("attaches the violation to the offending Deployment's URN", async () => {
    const out = await run((s) => s.map((r) => (r.name === "nova-release" ? { ...r, dependsOn: [] } : r)));
    expect(out.violations[0]?.urn).toMatch(
      /kubernetes:apps\/v1:Deployment::nova-release:nova-prod\/nova-api$/,
    );
  });

  it("uses configured CronJobs over the stack's", async () => {
    expect((await run((s) => s, { pausedCronJobs: ["nova-reports"] })).messages.join()).toMatch(
      /nova-reports/,
    );
  });
});
