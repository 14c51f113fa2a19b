// The step budget against the program's own resources (under mocks): every command, the app Secret and the chart
// map to the playbook step they are, so a renamed resource cannot silently drop out of the launch summary's budget.
import { loadSandboxProgram } from "../support/sandbox-program";
import { beforeAll, describe, expect, it } from "vitest";
import { PLAYBOOK_STEPS, stepOfUrn } from "../../../src/comms/step-budget";
import type { MockState } from "../support/mocks";

let mocks: MockState;

beforeAll(async () => {
  ({ mocks } = await loadSandboxProgram());
});

/** The program's resources by the step they map to (URNs without parent types: mocks do not see them). */
function byStep(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of mocks.resources) {
    const step = stepOfUrn(`urn:pulumi:local::nova-rollout::${r.type}::${r.name}`) ?? "none";
    (out[step] ??= []).push(r.name);
  }
  return out;
}

describe("the step budget on the program's resources", () => {
  it("finds every playbook step the engine runs among them", () => {
    const steps = byStep();
    expect(
      Object.keys(steps)
        .filter((s) => s !== "none")
        .sort(),
    ).toEqual(PLAYBOOK_STEPS.filter((s) => s !== "gate").sort());
    expect(steps["images"]?.sort()).toEqual(["nova-api-digest", "nova-worker-digest"]);
    expect(steps["secrets"]).toEqual(["nova-secret"]);
    expect(steps["dump"]).toEqual(["nova-db-dump"]);
    expect(steps["rehearsal"]).toEqual(["nova-db-migration-rehearsal"]);
    // The CronJobs and the CI schedules are paused in the same step, and resumed in the same step.
    expect(steps["pause"]?.sort()).toEqual([
      "nova-jobs-pause-ci-schedules",
      "nova-jobs-pause-nova-billing-drill",
    ]);
    expect(steps["chart"]).toEqual(["nova-release"]);
    expect(steps["resume"]?.sort()).toEqual([
      "nova-jobs-resume-ci-schedules",
      "nova-jobs-resume-nova-billing-drill",
    ]);
    expect(steps["verification"]).toEqual(
      expect.arrayContaining(["nova-verify-api-health", "nova-verify-worker-readyz"]),
    );
  });

  it("leaves no command of the program outside a step", () => {
    const commands = mocks.byType("command:local:Command").map((r) => r.name);
    expect(commands.length).toBeGreaterThan(5);
    expect(
      commands.filter(
        (n) => stepOfUrn(`urn:pulumi:local::nova-rollout::command:local:Command::${n}`) === undefined,
      ),
    ).toEqual([]);
  });
});
