import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, Marker, settle, type MockState } from "../support/mocks";

let mocks: MockState;
let mod: typeof import("../../../components/ci-schedules");

beforeAll(async () => {
  mocks = installMocks();
  mod = await import("../../../components/ci-schedules");
});

const args = {
  workflows: ["nova-rms/nova-rms:billing-drill-production.yml", "nova-rms/nova-rms:nightly e2e.yml"],
  apiUrl: "https://api.github.com",
  dryRun: false,
  script: "dist/src/ci/schedules.js",
  releaseKey: ["r1"],
};

describe("CiSchedules", () => {
  it("disables the listed workflows before the release and enables them only after verification", async () => {
    const pause = new mod.CiSchedules("jobs", args);
    const verification = new Marker("ci-verify");
    const resume = new mod.ResumeCiSchedules(
      "jobs",
      { ...args, pauses: pause.pauses },
      { dependsOn: [verification] },
    );
    expect(pause.pauses).toHaveLength(1);
    expect(resume.resumes).toHaveLength(1);
    await settle();
    const paused = mocks.named("jobs-pause-ci-schedules");
    expect(paused.inputs.create).toBe(
      "node dist/src/ci/schedules.js disable --api https://api.github.com nova-rms/nova-rms:billing-drill-production.yml 'nova-rms/nova-rms:nightly e2e.yml'",
    );
    // No token among the inputs (so none in state): the command reads the deploying process's GITHUB_TOKEN.
    expect(paused.inputs.environment).toBeUndefined();
    const resumed = mocks.named("jobs-resume-ci-schedules");
    expect(String(resumed.inputs.create)).toMatch(/^node dist\/src\/ci\/schedules\.js enable --api /);
    expect(resumed.dependsOn).toEqual(expect.arrayContaining(["ci-verify", "jobs-pause-ci-schedules"]));
    expect(resumed.inputs.triggers).toEqual(["r1", "jobs-pause-ci-schedules-id"]);
  });

  it("registers nothing without workflows, passes --dry-run, and refuses a workflow listed twice", async () => {
    const none = new mod.CiSchedules("none", { ...args, workflows: [] });
    expect(none.pauses).toEqual([]);
    expect(mod.schedulesCommand({ ...args, dryRun: true }, true)).toContain(
      "enable --api https://api.github.com --dry-run ",
    );
    expect(() => new mod.CiSchedules("dup", { ...args, workflows: ["a/b:c.yml", "a/b:c.yml"] })).toThrow(
      /duplicate workflows/,
    );
    await settle();
    expect(mocks.resources.filter((r) => r.name.startsWith("none-"))).toEqual([]);
  });
});
