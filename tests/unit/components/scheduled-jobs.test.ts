import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, Marker, settle, type MockState } from "../support/mocks";

let mocks: MockState;
let mod: typeof import("../../../components/scheduled-jobs");

beforeAll(async () => {
  mocks = installMocks();
  mod = await import("../../../components/scheduled-jobs");
});

describe("ScheduledJobs", () => {
  it("pauses each CronJob, and resumes it only after verification", async () => {
    const jobs = new mod.ScheduledJobs("jobs", {
      namespace: "nova-prod",
      cronJobs: ["nova-billing-drill", "nova-reports"],
      kubeconfig: pulumi.secret("apiVersion: v1"),
      context: "prod",
      releaseKey: ["r1"],
    });
    const verification = new Marker("verify");
    const resumed = new mod.ResumeScheduledJobs(
      "jobs",
      {
        namespace: "nova-prod",
        cronJobs: ["nova-billing-drill", "nova-reports"],
        kubeconfig: pulumi.secret("apiVersion: v1"),
        context: "prod",
        releaseKey: ["r1"],
        pauses: jobs.pauses,
      },
      { dependsOn: [verification] },
    );
    expect(resumed.resumes).toHaveLength(2);
    await settle();
    const pause = mocks.named("jobs-pause-nova-billing-drill");
    expect(pause.inputs.create).toContain(
      `patch cronjob nova-billing-drill --type=merge -p '{"spec":{"suspend":true}}'`,
    );
    expect(pause.inputs.create).toContain("--context prod --namespace nova-prod");
    const resume = mocks.named("jobs-resume-nova-reports");
    expect(resume.inputs.create).toContain(`'{"spec":{"suspend":false}}'`);
    // Each resume waits for the verification and for its own pause, and runs again whenever that pause ran again.
    expect(resume.dependsOn).toEqual(expect.arrayContaining(["verify", "jobs-pause-nova-reports"]));
    expect(resume.inputs.triggers).toEqual(["r1", "jobs-pause-nova-reports-id"]);
  });

  it("refuses resumes that do not pair with the pauses", () => {
    expect(
      () =>
        new mod.ResumeScheduledJobs("odd", {
          namespace: "ns",
          cronJobs: ["a", "b"],
          kubeconfig: "x",
          releaseKey: [],
          pauses: [new Marker("only-one")],
        }),
    ).toThrow(/one pause per CronJob/);
  });

  it("refuses a CronJob listed twice", () => {
    expect(
      () =>
        new mod.ScheduledJobs("dupe", {
          namespace: "ns",
          cronJobs: ["a", "a"],
          kubeconfig: "x",
          releaseKey: [],
        }),
    ).toThrow(/duplicate CronJob names/);
  });

  it.each([
    [true, "paused"],
    [false, "resumed"],
  ])("writes a script that tolerates an absent CronJob (suspend=%s)", (suspend, verb) => {
    const script = mod.suspendScript("ns", "job's", suspend);
    expect(script).toContain("--ignore-not-found -o name");
    expect(script).toContain(`cronjob/job's ${verb}`);
    expect(script).toContain(`'job'"'"'s'`);
    expect(script).not.toContain("--context");
  });
});
