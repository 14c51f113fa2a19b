// Progress of `up` and `rollback`: synthetic engine event sequences in, one line per playbook step and per
// verification check out (or one JSON object per event with --json); secret outputs are never read.
import { describe, expect, it, vi } from "vitest";
import { progress, progressLines } from "../../../cli/output";
import {
  progressLine,
  ProgressTracker,
  stepProgress,
  type ProgressEvent,
  type ProgressEventSource,
  type UpdateKind,
} from "../../../cli/step-progress";
import { parseCheckResult } from "../../../components/post-deploy-verification";

const urn = (types: string, name: string) => `urn:pulumi:production::nova-rollout::${types}::${name}`;
const CMD = "command:local:Command";
const CHART = "nova:release:NovaRelease$kubernetes:helm.sh/v4:Chart";
const VERIFY = `nova:verify:PostDeployVerification$${CMD}`;

const U = {
  provider: urn("pulumi:providers:kubernetes", "nova-k8s"),
  apiDigest: urn(`nova:images:ReleaseImages$${CMD}`, "nova-api-digest"),
  secret: urn("nova:secrets:AppSecrets$kubernetes:core/v1:Secret", "nova-secret"),
  dump: urn(`nova:database:DatabaseSafeguards$${CMD}`, "nova-db-dump"),
  pause: urn(`nova:jobs:ScheduledJobs$${CMD}`, "nova-jobs-pause-nova-billing-drill"),
  chart: urn(CHART, "nova-release"),
  apiDeployment: urn(`${CHART}$kubernetes:apps/v1:Deployment`, "nova-release:nova-prod/nova-api"),
  apiHealth: urn(VERIFY, "nova-verify-api-health"),
  workerReady: urn(VERIFY, "nova-verify-worker-readyz"),
  e2e: urn(VERIFY, "nova-verify-synthetic-e2e"),
  resume: urn(`nova:jobs:ResumeScheduledJobs$${CMD}`, "nova-jobs-resume-nova-billing-drill"),
};

const CANARY = "hunter2-canary";
/** The engine's envelope for a secret output (its value blinded, or in plain text with --show-secrets). */
const secretEnvelope = (plaintext: string) => ({
  "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
  plaintext,
});
const result = (check: string, ok: boolean, attempts: number, elapsedMs: number, detail: string) =>
  JSON.stringify({ check, ok, attempts, elapsedMs, detail });

type Step = readonly [at: number, event: ProgressEventSource];
const pre = (u: string, op = "create"): ProgressEventSource => ({
  resourcePreEvent: { metadata: { urn: u, type: "", op } },
});
const done = (u: string, op = "create", outputs?: Record<string, unknown>): ProgressEventSource => ({
  resOutputsEvent: { metadata: { urn: u, type: "", op, ...(outputs ? { new: { outputs } } : {}) } },
});
const failed = (u: string, op = "create"): ProgressEventSource => ({
  resOpFailedEvent: { metadata: { urn: u, type: "", op } },
});
const said = (u: string, message: string): ProgressEventSource => ({ diagnosticEvent: { urn: u, message } });

/** Runs a sequence through a tracker started at 0 and finished at `end` (`ok`): the lines a person reads. */
function run(kind: UpdateKind, steps: readonly Step[], end: number, ok: boolean): ProgressEvent[] {
  const t = new ProgressTracker(kind, 0, parseCheckResult);
  return [
    ...t.begin(),
    ...steps.flatMap(([at, e]) => t.observe(e, at)),
    ...t.finish(ok, end),
    ...t.observe(pre(U.resume), end + 1),
  ];
}

const RELEASE: Step[] = [
  [50, pre(U.provider, "same")],
  [60, pre(U.apiDigest, "refresh")],
  [100, pre(U.apiDigest)],
  [110, pre(U.secret, "update")],
  [300, done(U.apiDigest, "create", { stdout: "sha256:abc" })],
  [400, done(U.secret, "update", { data: secretEnvelope(CANARY) })],
  [450, pre(U.dump)],
  [460, done(U.dump, "create", { stdout: `dumped with ${CANARY}` })],
  [500, pre(U.pause)],
  [900, done(U.pause)],
  [1000, pre(U.chart)],
  [1010, pre(U.apiDeployment, "update")],
  [2000, done(U.apiDeployment, "update")],
  [2100, pre(U.apiHealth)],
  [2110, pre(U.workerReady)],
  [
    2300,
    done(U.apiHealth, "create", { stdout: `probing\n${result("api-health", true, 1, 204, "HTTP 204")}` }),
  ],
  [2400, done(U.workerReady, "create", { stdout: result("worker-readyz", true, 2, 1234, "HTTP 200") })],
  [2500, pre(U.resume)],
  [2600, done(U.resume)],
  [2700, done(U.chart)],
];

describe.each<[string, UpdateKind, Step[], number, boolean, string[]]>([
  [
    "a release: steps in order, parallel steps ended when their work is over, each check with its probe's result",
    "release",
    RELEASE,
    3000,
    true,
    [
      "▶ gate  started",
      "✔ gate  done (0.1 s)",
      "▶ images  started",
      "▶ secrets  started",
      "✔ images  done (0.2 s)",
      "✔ secrets  done (0.3 s)",
      "▶ dump  started",
      "✔ dump  done (0.0 s)",
      "▶ pause  started",
      "✔ pause  done (0.4 s)",
      "▶ chart  started",
      "✔ chart  done (1.0 s)",
      "▶ verification  started",
      "  ▶ check api-health … started",
      "  ▶ check worker-readyz … started",
      "  ✔ check api-health … ok (1 attempt, 204 ms)",
      "  ✔ check worker-readyz … ok (2 attempts, 1.2 s)",
      "✔ verification  done (0.3 s)",
      "▶ resume  started",
      "✔ resume  done (0.1 s)",
    ],
  ],
  [
    "a failing check: its probe's failure summary among the engine's diagnostics, the step failed naming it",
    "release",
    [
      [100, pre(U.apiHealth)],
      [110, pre(U.workerReady)],
      [150, said(U.apiHealth, "<{%reset%}>[api-health] attempt 1/3: HTTP 500<{%reset%}>")],
      [200, done(U.workerReady, "create", { stdout: result("worker-readyz", true, 1, 80, "HTTP 200") })],
      [900, said(U.apiHealth, "[api-health] FAILED after 3 attempt(s): HTTP 500 from /v1/health")],
      [960, failed(U.apiHealth)],
    ],
    1000,
    false,
    [
      "▶ gate  started",
      "✔ gate  done (0.1 s)",
      "▶ verification  started",
      "  ▶ check api-health … started",
      "  ▶ check worker-readyz … started",
      "  ✔ check worker-readyz … ok (1 attempt, 80 ms)",
      "  ✖ check api-health … failed (860 ms): FAILED after 3 attempt(s): HTTP 500 from /v1/health",
      "✖ verification  failed (0.9 s): api-health",
    ],
  ],
  [
    "a failing check whose result line is in the engine's error: parsed as the program parses it",
    "release",
    [
      [100, pre(U.apiHealth)],
      [
        700,
        said(
          U.apiHealth,
          `command failed: exit status 1\n${result("api-health", false, 3, 612, "HTTP 503")}`,
        ),
      ],
      [710, failed(U.apiHealth)],
    ],
    800,
    false,
    [
      "▶ gate  started",
      "✔ gate  done (0.1 s)",
      "▶ verification  started",
      "  ▶ check api-health … started",
      "  ✖ check api-health … failed (3 attempts, 612 ms): HTTP 503",
      "✖ verification  failed (0.6 s): api-health",
    ],
  ],
  [
    "the update fails while a check runs: the check and its step end as interrupted",
    "release",
    [
      [100, pre(U.pause)],
      [120, failed(U.pause)],
      [130, pre(U.apiHealth)],
    ],
    400,
    false,
    [
      "▶ gate  started",
      "✔ gate  done (0.1 s)",
      "▶ pause  started",
      "✖ pause  failed (0.0 s): nova-jobs-pause-nova-billing-drill",
      "▶ verification  started",
      "  ▶ check api-health … started",
      "  ✖ check api-health … failed (270 ms): interrupted",
      "✖ verification  failed (0.3 s): interrupted",
    ],
  ],
  [
    "the gate blocks: nothing started, the gate failed",
    "release",
    [[50, pre(U.provider, "same")]],
    700,
    false,
    ["▶ gate  started", "✖ gate  failed (0.7 s)"],
  ],
  [
    "a rollback: no database steps, unchanged resources untold, a replaced check told once",
    "rollback",
    [
      [100, pre(U.dump)],
      [120, done(U.dump)],
      [130, pre(U.secret, "same")],
      [140, done(U.secret, "same")],
      [200, pre(U.apiHealth, "create-replacement")],
      [
        400,
        done(U.apiHealth, "create-replacement", { stdout: result("api-health", true, 1, 90, "HTTP 204") }),
      ],
      [401, pre(U.apiHealth, "replace")],
      [402, done(U.apiHealth, "replace", { stdout: result("api-health", true, 1, 90, "HTTP 204") })],
      [500, pre(U.resume, "update")],
      [600, done(U.resume, "update")],
      [700, pre(U.apiHealth, "delete-replaced")],
    ],
    800,
    true,
    [
      "▶ gate  started",
      "✔ gate  done (0.2 s)",
      "▶ verification  started",
      "  ▶ check api-health … started",
      "  ✔ check api-health … ok (1 attempt, 90 ms)",
      "✔ verification  done (0.2 s)",
      "▶ resume  started",
      "✔ resume  done (0.1 s)",
    ],
  ],
  [
    "a secret output is never read: the check is ok by its command's success, with no detail",
    "release",
    [
      [100, pre(U.e2e)],
      [
        300,
        done(U.e2e, "create", {
          stdout: secretEnvelope(result("synthetic-e2e", true, 1, 5, `token ${CANARY}`)),
        }),
      ],
      [310, pre(U.workerReady)],
      [400, done(U.workerReady, "create", { stdout: "[secret]" })],
    ],
    500,
    true,
    [
      "▶ gate  started",
      "✔ gate  done (0.1 s)",
      "▶ verification  started",
      "  ▶ check synthetic-e2e … started",
      "  ✔ check synthetic-e2e … ok (200 ms)",
      "  ▶ check worker-readyz … started",
      "  ✔ check worker-readyz … ok (90 ms)",
      "✔ verification  done (0.3 s)",
    ],
  ],
])("%s", (_what, kind, steps, end, ok, lines) => {
  it("tells each step and check as it starts and ends", () => {
    expect(run(kind, steps, end, ok).map(progressLine)).toEqual(lines);
  });
});

describe("secrets", () => {
  it("no event carries a secret output, whatever the resource", () => {
    const withSecrets: Step[] = [
      ...RELEASE,
      [2800, pre(U.e2e)],
      [2900, done(U.e2e, "create", { stdout: secretEnvelope(result("synthetic-e2e", true, 1, 5, CANARY)) })],
    ];
    const events = run("release", withSecrets, 3000, true);
    expect(JSON.stringify(events)).not.toContain(CANARY);
    expect(events.map(progressLine).join("\n")).not.toContain(CANARY);
  });
});

describe("an inconclusive metric check outside production", () => {
  it("passes and says it was inconclusive", () => {
    const metric = urn(VERIFY, "nova-verify-metric-error-ratio");
    const detail = "inconclusive: no data for 3 of 3 measurements";
    const lines = run(
      "release",
      [
        [100, pre(metric)],
        [200, done(metric, "create", { stdout: result("metric-error-ratio", true, 3, 95, detail) })],
      ],
      300,
      true,
    ).map(progressLine);
    expect(lines).toContain(`  ✔ check metric-error-ratio … ok (3 attempts, 95 ms): ${detail}`);
  });
});

describe("stepProgress", () => {
  const feed = (json: boolean) => {
    const written: string[] = [];
    let clock = 1000;
    const p = stepProgress({
      kind: "release",
      startedAt: 0,
      json,
      write: (t) => written.push(t),
      now: () => clock,
    });
    for (const [at, e] of RELEASE) {
      clock = at;
      p.onEvent(e);
    }
    clock = 3000;
    p.finish(true);
    p.finish(true);
    return written.join("");
  };

  it("with --json: one JSON object per line, nothing else, the same events a person reads", () => {
    const text = feed(true);
    const lines = text.trimEnd().split("\n");
    const events = lines.map((l) => JSON.parse(l) as ProgressEvent);
    expect(events.every((e) => e.kind === "release" && (e.event === "step" || e.event === "check"))).toBe(
      true,
    );
    expect(events.map(progressLine)).toEqual(run("release", RELEASE, 3000, true).map(progressLine));
    expect(events).toContainEqual({
      event: "step",
      step: "pause",
      phase: "end",
      status: "done",
      ms: 400,
      kind: "release",
    });
    expect(events).toContainEqual({
      event: "check",
      check: "api-health",
      phase: "end",
      status: "ok",
      ms: 204,
      attempts: 1,
      detail: "HTTP 204",
      kind: "release",
    });
    expect(text).not.toMatch(/[▶✔✖]/);
  });

  it("without it: the lines a person reads", () => {
    const text = feed(false);
    expect(text.split("\n")[0]).toBe("▶ gate  started");
    expect(text).toContain("  ✔ check api-health … ok (1 attempt, 204 ms)\n");
    expect(text).not.toContain("{");
  });
});

describe("progress lines beside the engine's output", () => {
  it("begin on a line of their own when the engine's output stopped mid-line", () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      progress()("    + nova-release creating (3s)");
      progressLines("▶ chart  started\n");
      progress()("    + nova-release created\n");
      progressLines("✔ chart  done (1.0 s)\n");
    } finally {
      spy.mockRestore();
    }
    expect(written.join("").split("\n")).toEqual([
      "    + nova-release creating (3s)",
      "▶ chart  started",
      "    + nova-release created",
      "✔ chart  done (1.0 s)",
      "",
    ]);
  });
});

describe("the gate's time, as in the step budget", () => {
  it("is the CLI's own work up to the engine's start; the engine's start, refresh and policy are told beside it", () => {
    const t = new ProgressTracker("release", 0, parseCheckResult);
    t.begin();
    t.engineStarted(2_600);
    const [gate] = t.observe(pre(U.pause), 8_500);
    expect(gate).toMatchObject({ step: "gate", phase: "end", status: "done", ms: 2_600, engineMs: 5_900 });
    expect(progressLine(gate as ProgressEvent)).toBe(
      "✔ gate  done (2.6 s; then 5.9 s engine start, refresh and policy)",
    );
  });

  it("a gate the policy pack blocks in the engine fails, with the engine's time told", () => {
    const t = new ProgressTracker("release", 0, parseCheckResult);
    t.begin();
    t.engineStarted(1_000);
    const [gate] = t.finish(false, 4_000);
    expect(progressLine(gate as ProgressEvent)).toBe(
      "✖ gate  failed (1.0 s; then 3.0 s engine start, refresh and policy)",
    );
  });
});
