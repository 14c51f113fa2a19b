// The step budget: engine resource events (with their arrival times) mapped to playbook steps, and its table in the
// launch summary.
import { describe, expect, it } from "vitest";
import { parseLaunchReport, renderLaunchReport } from "../../../cli/launch-report";
import type { LaunchSummary } from "../../../src/comms/launch-summary";
import {
  PLAYBOOK_STEPS,
  stepBudget,
  stepOfUrn,
  timedStepEvent,
  type StepBudget,
  type StepBudgetInput,
  type TimedStepEvent,
} from "../../../src/comms/step-budget";

const urn = (types: string, name: string) => `urn:pulumi:production::nova-rollout::${types}::${name}`;
const CMD = "command:local:Command";
const CHART = "nova:release:NovaRelease$kubernetes:helm.sh/v4:Chart";

const U = {
  provider: urn("pulumi:providers:kubernetes", "nova-k8s"),
  namespace: urn("nova:cluster:ReleaseNamespace$kubernetes:core/v1:Namespace", "nova-namespace"),
  apiDigest: urn(`nova:images:ReleaseImages$${CMD}`, "nova-api-digest"),
  workerDigest: urn(`nova:images:ReleaseImages$${CMD}`, "nova-worker-digest"),
  secret: urn("nova:secrets:AppSecrets$kubernetes:core/v1:Secret", "nova-secret"),
  dump: urn(`nova:database:DatabaseSafeguards$${CMD}`, "nova-db-dump"),
  rehearsal: urn(`nova:database:DatabaseSafeguards$${CMD}`, "nova-db-migration-rehearsal"),
  pause: urn(`nova:jobs:ScheduledJobs$${CMD}`, "nova-jobs-pause-nova-billing-drill"),
  chart: urn(CHART, "nova-release"),
  apiDeployment: urn(`${CHART}$kubernetes:apps/v1:Deployment`, "nova-release:nova-prod/nova-api"),
  apiService: urn(`${CHART}$kubernetes:core/v1:Service`, "nova-release:nova-prod/nova-api"),
  chartSecret: urn(`${CHART}$kubernetes:core/v1:Secret`, "nova-release:nova-prod/nova-secret"),
  apiHealth: urn(`nova:verify:PostDeployVerification$${CMD}`, "nova-verify-api-health"),
  workerReady: urn(`nova:verify:PostDeployVerification$${CMD}`, "nova-verify-worker-readyz"),
  resume: urn(`nova:jobs:ResumeScheduledJobs$${CMD}`, "nova-jobs-resume-nova-billing-drill"),
  component: urn("nova:database:DatabaseSafeguards", "nova-db"),
  stack: urn("pulumi:pulumi:Stack", "nova-rollout-production"),
};

describe.each([
  ["the kubernetes provider", U.provider, undefined],
  ["the namespace (release record)", U.namespace, undefined],
  ["a component", U.component, undefined],
  ["the root stack", U.stack, undefined],
  ["the api digest check", U.apiDigest, "images"],
  ["the worker digest check", U.workerDigest, "images"],
  ["the app Secret", U.secret, "secrets"],
  ["the database dump", U.dump, "dump"],
  ["the migration rehearsal", U.rehearsal, "rehearsal"],
  ["a CronJob pause", U.pause, "pause"],
  ["the chart", U.chart, "chart"],
  ["a rendered Deployment", U.apiDeployment, "chart"],
  ["a rendered Service", U.apiService, "chart"],
  ["a rendered Secret (not the app Secret)", U.chartSecret, "chart"],
  ["a verification check", U.apiHealth, "verification"],
  ["a CronJob resume", U.resume, "resume"],
  ["a command of another name", urn(CMD, "nova-something"), undefined],
  ["a Secret of another name", urn("kubernetes:core/v1:Secret", "other-secret"), undefined],
])("stepOfUrn: %s", (_what, u, step) => {
  it(`maps to ${String(step)}`, () => {
    expect(stepOfUrn(u)).toBe(step);
  });
});

describe("timedStepEvent", () => {
  it("keeps the URN, the operation and the phase, never inputs or outputs", () => {
    const e = timedStepEvent(
      {
        resOutputsEvent: {
          metadata: {
            urn: U.dump,
            type: CMD,
            op: "create",
            new: { outputs: { stdout: "hunter2" }, inputs: { environment: "hunter2" } },
          } as { urn: string; type: string; op: string },
        },
      },
      1234,
    );
    expect(e).toEqual({ at: 1234, phase: "end", urn: U.dump, op: "create" });
    expect(JSON.stringify(e)).not.toContain("hunter2");
  });

  it.each([
    ["a pre event", "start", { resourcePreEvent: { metadata: { urn: U.chart, op: "update" } } }],
    ["a failed step", "end", { resOpFailedEvent: { metadata: { urn: U.apiHealth, op: "create" } } }],
  ] as const)("%s is a %s", (_what, phase, event) => {
    expect(timedStepEvent(event, 5)?.phase).toBe(phase);
  });

  it.each([
    ["a diagnostic", { diagnosticEvent: { message: "x" } }],
    ["a resource event without URN", { resourcePreEvent: { metadata: { op: "create" } } }],
  ])("ignores %s", (_what, event) => {
    expect(timedStepEvent(event as never, 5)).toBeUndefined();
  });
});

/** The events of one resource operation: begun at `from`, ended (or failed) at `to`. */
function op(u: string, operation: string, from: number, to?: number): TimedStepEvent[] {
  return [
    { at: from, phase: "start", urn: u, op: operation },
    ...(to !== undefined ? [{ at: to, phase: "end" as const, urn: u, op: operation }] : []),
  ];
}

/** A release in playbook order: gate 0–1 s, engine start and refresh 1–2 s, pre-apply 2–3 s, chart 3–9 s, … */
const release: StepBudgetInput = {
  kind: "release",
  startedAt: 100_000,
  engineStartedAt: 101_000,
  finishedAt: 110_000,
  events: [
    // The refresh pass and unrelated resources are no step.
    ...op(U.dump, "refresh", 101_100, 101_200),
    ...op(U.provider, "same", 101_900, 101_910),
    ...op(U.namespace, "update", 101_950, 101_990),
    ...op(U.apiDigest, "create-replacement", 102_000, 102_300),
    ...op(U.workerDigest, "create-replacement", 102_010, 102_250),
    ...op(U.secret, "update", 102_000, 102_100),
    ...op(U.dump, "create-replacement", 102_000, 102_600),
    ...op(U.pause, "create-replacement", 102_000, 102_200),
    ...op(U.rehearsal, "create-replacement", 102_600, 103_000),
    // The chart's own outputs arrive when the program registers them (after verification began): only its start counts.
    ...op(U.chart, "update", 103_000, 109_700),
    ...op(U.apiService, "same", 103_050, 103_060),
    ...op(U.apiDeployment, "update", 103_100, 108_900),
    ...op(U.apiHealth, "create-replacement", 109_000, 109_400),
    ...op(U.workerReady, "create-replacement", 109_010, 109_500),
    ...op(U.resume, "create-replacement", 109_500, 109_600),
    // Replaced resources are deleted at the end of the update: cleanup, no step's time.
    ...op(U.dump, "delete-replaced", 109_900, 109_950),
    ...op(U.apiHealth, "delete-replaced", 109_900, 109_950),
  ],
};

const run = (step: string, startMs: number, endMs: number) => ({
  step,
  run: true,
  startMs,
  endMs,
  wallMs: endMs - startMs,
});
const notRun = (step: string) => ({ step, run: false });

describe.each([
  [
    "a release in playbook order",
    release,
    {
      totalMs: 10_000,
      // covered: gate 0–1000, pre-apply 2000–3000, chart 3000–8900, verification 9000–9500, resume 9500–9600
      outsideMs: 10_000 - 8_500,
      steps: [
        run("gate", 0, 1000),
        run("images", 2000, 2300),
        run("secrets", 2000, 2100),
        run("dump", 2000, 2600),
        run("rehearsal", 2600, 3000),
        run("pause", 2000, 2200),
        run("chart", 3000, 8900),
        run("verification", 9000, 9500),
        run("resume", 9500, 9600),
      ],
    },
  ],
  [
    "a rollback: no database work (its dump and rehearsal are updates that run nothing), pinned images",
    {
      kind: "rollback",
      startedAt: 0,
      engineStartedAt: 500,
      finishedAt: 5000,
      events: [
        ...op(U.secret, "same", 1000, 1001),
        ...op(U.dump, "update", 1000, 1010),
        ...op(U.rehearsal, "update", 1010, 1020),
        ...op(U.pause, "create-replacement", 1000, 1200),
        ...op(U.apiDeployment, "update", 1300, 3000),
        ...op(U.apiHealth, "create-replacement", 3000, 3500),
        ...op(U.resume, "create-replacement", 3500, 3600),
      ],
    },
    {
      totalMs: 5000,
      outsideMs: 5000 - (500 + 200 + 1700 + 500 + 100),
      steps: [
        run("gate", 0, 500),
        notRun("images"),
        // Unchanged: the Secret did nothing.
        notRun("secrets"),
        notRun("dump"),
        notRun("rehearsal"),
        run("pause", 1000, 1200),
        run("chart", 1300, 3000),
        run("verification", 3000, 3500),
        run("resume", 3500, 3600),
      ],
    },
  ],
  [
    "a failed verification: the failing check ends the step, nothing resumes",
    {
      kind: "release",
      startedAt: 0,
      engineStartedAt: 1000,
      finishedAt: 8000,
      events: [
        ...op(U.dump, "create-replacement", 1500, 1700),
        ...op(U.rehearsal, "create-replacement", 1700, 1900),
        ...op(U.apiDeployment, "update", 2000, 4000),
        ...op(U.workerReady, "create-replacement", 4000, 4100),
        // api-health fails after its retries (a resOpFailedEvent ends it).
        ...op(U.apiHealth, "create-replacement", 4000, 7000),
      ],
    },
    {
      totalMs: 8000,
      outsideMs: 8000 - (1000 + 400 + 2000 + 3000),
      steps: [
        run("gate", 0, 1000),
        notRun("images"),
        notRun("secrets"),
        run("dump", 1500, 1700),
        run("rehearsal", 1700, 1900),
        notRun("pause"),
        run("chart", 2000, 4000),
        run("verification", 4000, 7000),
        notRun("resume"),
      ],
    },
  ],
  [
    "interleaved steps: the outside time is what no step covers, each step keeps its own wall time",
    {
      kind: "release",
      startedAt: 0,
      engineStartedAt: 100,
      finishedAt: 2000,
      events: [
        ...op(U.apiDigest, "create", 200, 900),
        ...op(U.dump, "create", 300, 1200),
        ...op(U.pause, "create", 250, 400),
        ...op(U.secret, "create", 1100, 1300),
        ...op(U.workerDigest, "create", 800, 1000),
      ],
    },
    {
      totalMs: 2000,
      outsideMs: 2000 - (100 + 1100),
      steps: [
        run("gate", 0, 100),
        run("images", 200, 1000),
        run("secrets", 1100, 1300),
        run("dump", 300, 1200),
        notRun("rehearsal"),
        run("pause", 250, 400),
        notRun("chart"),
        notRun("verification"),
        notRun("resume"),
      ],
    },
  ],
  [
    "an interrupted update: a step that never ended ends with the last event",
    {
      kind: "release",
      startedAt: 0,
      engineStartedAt: 100,
      finishedAt: 9000,
      events: [
        ...op(U.dump, "create", 200, 300),
        ...op(U.apiDeployment, "update", 400),
        ...op(U.namespace, "update", 4900, 5000),
      ],
    },
    {
      totalMs: 9000,
      outsideMs: 9000 - (100 + 100 + 4600),
      steps: [
        run("gate", 0, 100),
        notRun("images"),
        notRun("secrets"),
        run("dump", 200, 300),
        notRun("rehearsal"),
        notRun("pause"),
        run("chart", 400, 5000),
        notRun("verification"),
        notRun("resume"),
      ],
    },
  ],
] as const)("stepBudget: %s", (_what, input, expected) => {
  it("reports each step's window, wall time and the time outside any step", () => {
    expect(stepBudget(input)).toEqual(expected);
  });
});

describe("stepBudget", () => {
  it("lists every playbook step in playbook order, the gate first", () => {
    const b = stepBudget({ kind: "release", startedAt: 0, engineStartedAt: 0, finishedAt: 0, events: [] });
    expect(b.steps.map((s) => s.step)).toEqual([...PLAYBOOK_STEPS]);
    expect(PLAYBOOK_STEPS).toEqual([
      "gate",
      "images",
      "secrets",
      "dump",
      "rehearsal",
      "pause",
      "chart",
      "verification",
      "resume",
    ]);
  });

  it("does not count a step whose resources were all unchanged", () => {
    const b = stepBudget({
      kind: "release",
      startedAt: 0,
      engineStartedAt: 10,
      finishedAt: 100,
      events: [...op(U.apiService, "same", 20, 30), ...op(U.secret, "same", 20, 25)],
    });
    expect(b.steps.filter((s) => s.run).map((s) => s.step)).toEqual(["gate"]);
    expect(b.outsideMs).toBe(90);
  });
});

describe("the launch summary's step budget table", () => {
  const budget: StepBudget = stepBudget(release);
  const summary: LaunchSummary = {
    stack: "production",
    kind: "release",
    release: "2026.11.4",
    digests: { api: `sha256:${"a".repeat(64)}`, worker: `sha256:${"b".repeat(64)}` },
    startedAt: new Date(100_000),
    finishedAt: new Date(110_000),
    changes: { update: 4 },
    verification: [{ check: "api-health", ok: true, attempts: 1, detail: "200" }],
  };

  it("lists each step with its wall time, share of the total and window; absent steps as not run", () => {
    const text = renderLaunchReport({ ...summary, stepBudget: budget });
    const section = text.slice(text.indexOf("## Step budget"), text.indexOf("## Follow-up"));
    expect(section.split("\n").filter((l) => l.startsWith("| "))).toEqual([
      "| step | wall time | share of total | from – to |",
      "| gate | 1.0 s | 10 % | +0 ms – +1.0 s |",
      "| images | 300 ms | 3 % | +2.0 s – +2.3 s |",
      "| secrets | 100 ms | 1 % | +2.0 s – +2.1 s |",
      "| dump | 600 ms | 6 % | +2.0 s – +2.6 s |",
      "| rehearsal | 400 ms | 4 % | +2.6 s – +3.0 s |",
      "| pause | 200 ms | 2 % | +2.0 s – +2.2 s |",
      "| chart | 5.9 s | 59 % | +3.0 s – +8.9 s |",
      "| verification | 500 ms | 5 % | +9.0 s – +9.5 s |",
      "| resume | 100 ms | 1 % | +9.5 s – +9.6 s |",
      "| outside any step | 1.5 s | 15 % | — |",
      "| total | 10.0 s | 100 % | — |",
    ]);
    const rollback = renderLaunchReport({
      ...summary,
      kind: "rollback",
      stepBudget: {
        ...budget,
        steps: budget.steps.map((s) => (s.step === "dump" ? { step: "dump", run: false } : s)),
      },
    });
    expect(rollback).toContain("| dump | not run | — | — |");
  });

  it("sits after the verification table, which still reads back", () => {
    const text = renderLaunchReport({ ...summary, stepBudget: budget });
    expect(text.indexOf("## Post-deploy verification")).toBeLessThan(text.indexOf("## Step budget"));
    expect(parseLaunchReport(text)?.verification).toEqual([{ check: "api-health", ok: true }]);
  });

  it("is left out of a summary without a budget", () => {
    expect(renderLaunchReport(summary)).not.toContain("Step budget");
  });
});
