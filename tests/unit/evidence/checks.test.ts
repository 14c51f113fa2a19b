import { describe, expect, it } from "vitest";
import { checkBillingDrill, drillTime } from "../../../src/evidence/checks/billing-drill";
import { checkCoverage, DEFAULT_COVERAGE_THRESHOLDS } from "../../../src/evidence/checks/coverage";
import { checkE2eSmoke } from "../../../src/evidence/checks/e2e";
import {
  checkGkeCluster,
  checkKubeconfig,
  type ExecFileLike,
  gcloudClusterAccess,
  type GkeClusterAccessFn,
} from "../../../src/evidence/checks/kubeconfig";
import { checkRegistryDigests, checkRegistryPush } from "../../../src/evidence/checks/registry";
import { registryScheme } from "../../../src/registry/oci";
import { checkSampleData } from "../../../src/evidence/checks/sample-data";
import { checkStagingStack, type StagingUpdate } from "../../../src/evidence/checks/staging-stack";
import { evidenceTimestamp, parseEvidenceTimestamp } from "../../../src/evidence/paths";
import { collectEvidence } from "../../../src/evidence/collector";
import {
  DIGESTS,
  fakeRegistry,
  makeProject,
  offlineRegistry,
  NOW,
  OTHER_DIGESTS,
  passingOptions,
} from "../../policy/fixtures";

const art = (path: string, text: string) => ({ path, bytes: Buffer.from(text) });
const summary = (s: number, b: number, f: number, l: number) =>
  art(
    "coverage/coverage-summary.json",
    JSON.stringify({
      total: { statements: { pct: s }, branches: { pct: b }, functions: { pct: f }, lines: { pct: l } },
    }),
  );

describe("coverage", () => {
  it.each([
    [[60, 50, 70, 60], "pass"],
    [[59, 50, 70, 60], "fail"],
    [[60, 49.9, 70, 60], "fail"],
    [[60, 50, 69, 60], "fail"],
    [[60, 50, 70, 59.99], "fail"],
  ] as const)("%j -> %s", (pct, verdict) => {
    expect(checkCoverage(summary(pct[0], pct[1], pct[2], pct[3]), DEFAULT_COVERAGE_THRESHOLDS).verdict).toBe(
      verdict,
    );
  });
  it("fails without a summary or with garbage", () => {
    expect(checkCoverage(undefined, DEFAULT_COVERAGE_THRESHOLDS).verdict).toBe("fail");
    expect(checkCoverage(art("c.json", "{}"), DEFAULT_COVERAGE_THRESHOLDS).verdict).toBe("fail");
  });
});

describe("e2e smoke", () => {
  const report = (projects: string[], tests: { projectName: string; status: string }[], unexpected: number) =>
    art(
      "r.json",
      JSON.stringify({
        config: { projects: projects.map((name) => ({ name })) },
        suites: [{ specs: [{ tests }] }],
        stats: { unexpected },
      }),
    );
  it.each([
    ["a passing smoke run", report(["smoke"], [{ projectName: "smoke", status: "expected" }], 0), "pass"],
    ["no smoke project", report(["full"], [{ projectName: "full", status: "expected" }], 0), "fail"],
    ["unexpected failures", report(["smoke"], [{ projectName: "smoke", status: "unexpected" }], 1), "fail"],
    ["zero tests", report(["smoke"], [], 0), "fail"],
    ["only skipped tests", report(["smoke"], [{ projectName: "smoke", status: "skipped" }], 0), "fail"],
  ] as const)("%s -> %s", (_l, a, verdict) => {
    expect(checkE2eSmoke(a).verdict).toBe(verdict);
  });
});

const PASSING_DRILL = [
  "2026-11-24T09:00:00.000Z billing drill env=staging mode=live",
  "2026-11-24T09:00:00.001Z release: 2026.11.3",
  "2026-11-24T09:00:00.001Z commit: 3f9c2e1",
  "2026-11-24T09:00:00.002Z step charge-test-tenants ok (3/3 tenants)",
  "2026-11-24T09:00:00.003Z result: pass",
  "",
].join("\n");

describe("billing drill", () => {
  const log = (days: number, text = PASSING_DRILL) =>
    art(
      `tests/drills/logs/staging/${evidenceTimestamp(new Date(NOW.getTime() - days * 86_400_000))}-billing-drill.log`,
      text,
    );
  it.each([
    [6, "pass"],
    [6.99, "pass"],
    [7, "fail"],
    [8, "fail"],
  ] as const)("%d days old -> %s", (days, verdict) => {
    expect(checkBillingDrill([log(days)], NOW, 7, "staging").verdict).toBe(verdict);
  });
  it("uses the newest log and an explicit completed_at line over the file name", () => {
    const explicit = art(
      "tests/drills/logs/staging/billing-drill.log",
      "completed_at: 2026-11-24T12:00:00Z\nresult: pass\n",
    );
    expect(drillTime(explicit.path, explicit.bytes.toString())?.toISOString()).toBe(
      "2026-11-24T12:00:00.000Z",
    );
    expect(checkBillingDrill([log(9), explicit], NOW, 7, "staging").verdict).toBe("pass");
  });
  it("fails a failed drill and missing logs", () => {
    expect(checkBillingDrill([log(1, "result: fail")], NOW, 7, "staging").verdict).toBe("fail");
    expect(checkBillingDrill([], NOW, 7, "staging").found).toBe("no billing-drill log");
  });
  it("names the release and commit the log says it belongs to", () => {
    const r = checkBillingDrill([log(1)], NOW, 7, "staging");
    expect(r.verdict).toBe("pass");
    expect(r.found).toMatch(/\(1\.0 days ago\), release 2026\.11\.3, commit 3f9c2e1$/);
    expect(r.remedy).toContain("pnpm drill:billing --env-file tests/drills/staging.drill.env");
  });
  it("needs no marker line: a fresh log without a failure line passes", () => {
    expect(
      checkBillingDrill([log(1, "charged test tenants: 3\nreconciled: 3/3\n")], NOW, 7, "staging").verdict,
    ).toBe("pass");
  });
});

describe.each([
  ["a result: fail line", "result: fail\n"],
  ["a time-stamped result: fail line (the drill's own format)", "2026-11-24T09:00:00.003Z result: fail\n"],
  ["a status: failed line", "status: failed\n"],
  ["a result: error line after steps", "step reconcile-invoices ok\n2026-11-24T09:00:00Z result: error\n"],
] as const)("billing drill with %s", (_label, text) => {
  it("fails, saying what it found", () => {
    const r = checkBillingDrill(
      [
        art(
          `tests/drills/logs/staging/${evidenceTimestamp(new Date(NOW.getTime() - 86_400_000))}-billing-drill.log`,
          text,
        ),
      ],
      NOW,
      7,
      "staging",
    );
    expect(r.verdict).toBe("fail");
    expect(r.found).toMatch(/result: fail/);
    expect(r.threshold).toContain("no failure line");
  });
});

const DAY_MS = 86_400_000;
const seedLog = (days: number, text: string) =>
  art(
    `tests/drills/logs/staging/${evidenceTimestamp(new Date(NOW.getTime() - days * DAY_MS))}-seed-sample-data.log`,
    text,
  );
const CLEAN_SEED =
  "2026-11-24T09:11:58Z release: 2026.11.3\nseeding tenants: 3\nseed completed: 3 tenants, 120 invoices, errors: 0\n";

describe.each([
  [
    "a fresh clean log with errors: 0",
    seedLog(1, CLEAN_SEED),
    "pass",
    /1\.0 days ago.*errors: 0, release 2026\.11\.3$/,
  ],
  ["a fresh log without counts or error lines", seedLog(6.9, "seed completed\n"), "pass", /no errors count/],
  ["a log 7 days old", seedLog(7, CLEAN_SEED), "fail", /7\.0 days ago/],
  ["a stale log (30 days)", seedLog(30, CLEAN_SEED), "fail", /30\.0 days ago/],
  ["a log reporting errors: 2", seedLog(1, "seed completed: 3 tenants, errors: 2\n"), "fail", /errors: 2/],
  ["a log reporting 1 error", seedLog(1, "seed completed with 1 error\n"), "fail", /errors: 1/],
  [
    "a log with an error line",
    seedLog(1, "ERROR tenant 2: duplicate key\nseed completed: errors: 0\n"),
    "fail",
    /1 error line\(s\), first "ERROR tenant 2: duplicate key"/,
  ],
  ["a log without a success line", seedLog(1, "seeding tenants: 3\n"), "fail", /no success line/],
  [
    "a log without a time stamp in its name",
    art("tests/drills/logs/staging/seed-sample-data.log", CLEAN_SEED),
    "fail",
    /has no YYYYMMDDTHHMMSSZ stamp/,
  ],
  ["no log", undefined, "fail", /^no seed log$/],
] as const)("sample data: %s", (_label, artifact, verdict, found) => {
  it(`-> ${verdict}`, () => {
    const r = checkSampleData(artifact, NOW, 7, "staging");
    expect(r.verdict).toBe(verdict);
    expect(r.found).toMatch(found);
    expect(r.threshold).toMatch(/younger than 7 days/);
    expect(r.remedy).toMatch(/`pnpm seed:sample-data`/);
  });
});

const STAGING_CFG = {
  "nova-rollout:apiImageDigest": { value: DIGESTS.api },
  "nova-rollout:workerImageDigest": { value: DIGESTS.worker },
};
const entry = (
  version: number,
  kind: string,
  result: string,
  hoursAgo: number,
  config: StagingUpdate["config"] = STAGING_CFG,
): StagingUpdate => ({
  kind,
  result,
  version,
  endTime: new Date(NOW.getTime() - hoursAgo * 3_600_000),
  config,
});

describe.each([
  [
    "a recent successful update",
    [entry(7, "update", "succeeded", 24)],
    "pass",
    /^update #7 succeeded at .* \(24\.0 h ago\)/,
  ],
  [
    "a recent successful update followed by a refresh",
    [entry(8, "refresh", "succeeded", 1), entry(7, "update", "succeeded", 24)],
    "pass",
    /update #7 succeeded.*; newest entry refresh #8 succeeded/,
  ],
  [
    "a refresh newest with no successful update",
    [entry(3, "refresh", "succeeded", 1), entry(2, "refresh", "succeeded", 2)],
    "fail",
    /no update among the newest 2 entries.*newest entry refresh #3 succeeded/,
  ],
  [
    "a refresh newest over a failed update",
    [entry(3, "refresh", "succeeded", 1), entry(2, "update", "failed", 2)],
    "fail",
    /update #2 failed/,
  ],
  [
    "a destroy newest",
    [entry(8, "destroy", "succeeded", 1), entry(7, "update", "succeeded", 24)],
    "fail",
    /destroyed since \(destroy #8 succeeded/,
  ],
  [
    "a destroy followed by a refresh",
    [
      entry(9, "refresh", "succeeded", 1),
      entry(8, "destroy", "succeeded", 2),
      entry(7, "update", "succeeded", 24),
    ],
    "fail",
    /destroyed since/,
  ],
  ["a stale successful update", [entry(7, "update", "succeeded", 73)], "fail", /73\.0 h ago/],
  [
    "a failed update newer than a successful one",
    [entry(8, "update", "failed", 1), entry(7, "update", "succeeded", 24)],
    "fail",
    /^update #8 failed/,
  ],
  ["a failed update", [entry(7, "update", "failed", 1)], "fail", /^update #7 failed/],
  [
    "an update with other digests",
    [entry(7, "update", "succeeded", 1, { "nova-rollout:apiImageDigest": { value: OTHER_DIGESTS.api } })],
    "fail",
    /api sha256:c{64}, worker \(absent\)/,
  ],
  [
    "an update without an end time",
    [{ kind: "update", result: "succeeded", version: 7, config: STAGING_CFG }],
    "fail",
    /\(no end time\)/,
  ],
  [
    "entries out of order (ordered by version)",
    [entry(7, "update", "succeeded", 24), entry(8, "destroy", "succeeded", 1)],
    "fail",
    /destroyed since/,
  ],
  ["no history", [], "fail", /has no updates/],
] as const)("staging stack: %s", (_label, entries, verdict, found) => {
  it(`-> ${verdict}`, async () => {
    const r = await checkStagingStack({
      stagingStack: "staging",
      expected: DIGESTS,
      history: () => Promise.resolve(entries),
      now: NOW,
      maxAgeHours: 72,
    });
    expect(r.verdict).toBe(verdict);
    expect(r.found).toMatch(found);
    expect(r.threshold).toMatch(/newest update \(kind "update"\) of "staging" succeeded less than 72 h ago/);
  });
});

const RUNNING: GkeClusterAccessFn = () => Promise.resolve({ ok: true, detail: "status RUNNING" });
describe.each([
  ["a fake that says RUNNING", RUNNING, "pass", /nova-prod\/us-central1\/nova-prod: status RUNNING/],
  [
    "a fake that says PROVISIONING",
    () => Promise.resolve({ ok: false, detail: "status PROVISIONING" }),
    "fail",
    /status PROVISIONING/,
  ],
  [
    "a fake that cannot resolve credentials",
    () => Promise.resolve({ ok: false, detail: "gcloud failed: not authenticated" }),
    "fail",
    /not authenticated/,
  ],
  ["a fake that throws", () => Promise.reject(new Error("boom")), "fail", /: boom$/],
] as const)("GKE cluster access with %s", (_label, access, verdict, found) => {
  it(`-> ${verdict}`, async () => {
    const r = await checkGkeCluster({
      gcpProject: "nova-prod",
      gcpRegion: "us-central1",
      gkeClusterName: "nova-prod",
      access,
    });
    expect(r.id).toBe("kubeconfig");
    expect(r.verdict).toBe(verdict);
    expect(r.found).toMatch(found);
    expect(r.remedy).toMatch(
      /gcloud container clusters describe nova-prod --project nova-prod --region us-central1/,
    );
  });
});

describe("GKE cluster access", () => {
  it("fails without the GKE settings, naming each missing key", async () => {
    const r = await checkGkeCluster({
      gcpProject: "nova-prod",
      gcpRegion: undefined,
      gkeClusterName: undefined,
      access: RUNNING,
    });
    expect(r.verdict).toBe("fail");
    expect(r.found).toBe("clusterMode gke without gcpRegion, gkeClusterName");
    expect(r.remedy).toBe(
      "pulumi config set nova-rollout:gcpRegion <value> && pulumi config set nova-rollout:gkeClusterName <value>",
    );
  });
});

describe.each([
  ["RUNNING", () => Promise.resolve({ stdout: "RUNNING\n", stderr: "" }), true, "status RUNNING"],
  [
    "PROVISIONING",
    () => Promise.resolve({ stdout: "PROVISIONING\n", stderr: "" }),
    false,
    "status PROVISIONING",
  ],
  ["empty output", () => Promise.resolve({ stdout: "", stderr: "" }), false, "gcloud returned no status"],
  [
    "a gcloud error",
    () =>
      Promise.reject(
        Object.assign(new Error("Command failed"), {
          code: 1,
          stderr: "ERROR: (gcloud.container.clusters.describe) NOT_FOUND: cluster nova-prod\n",
        }),
      ),
    false,
    "gcloud failed: ERROR: (gcloud.container.clusters.describe) NOT_FOUND: cluster nova-prod",
  ],
  [
    "no gcloud on PATH",
    () => Promise.reject(Object.assign(new Error("spawn gcloud ENOENT"), { code: "ENOENT" })),
    false,
    "gcloud is not installed (not on PATH)",
  ],
] as const)("the default gcloud probe given %s", (_label, run, ok, detail) => {
  it(`-> ok ${ok}`, async () => {
    const calls: { file: string; args: readonly string[] }[] = [];
    const exec: ExecFileLike = (file, args) => {
      calls.push({ file, args });
      return run();
    };
    expect(await gcloudClusterAccess(exec)("nova-prod", "us-central1", "nova-prod")).toEqual({ ok, detail });
    expect(calls).toEqual([
      {
        file: "gcloud",
        args: [
          "container",
          "clusters",
          "describe",
          "nova-prod",
          "--project",
          "nova-prod",
          "--region",
          "us-central1",
          "--format=value(status)",
        ],
      },
    ]);
  });
});

describe("other checks", () => {
  it("kubeconfig must name the context", () => {
    const kc = "contexts:\n  - name: nova-prod\n    context: {cluster: c}\n";
    expect(checkKubeconfig(kc, "kc", "nova-prod").verdict).toBe("pass");
    expect(checkKubeconfig(kc, "kc", "other").verdict).toBe("fail");
    expect(checkKubeconfig(undefined, "kc", "nova-prod").verdict).toBe("fail");
    expect(checkKubeconfig(": : :", "kc", "nova-prod").verdict).toBe("fail");
  });
  it.each([
    ["127.0.0.1:35000", "http"],
    ["[::1]:5000", "http"],
    ["localhost", "http"],
    ["localhost.example.com", "https"],
    ["us-docker.pkg.dev", "https"],
  ] as const)("speaks %s for registry host %s", (host, scheme) => {
    expect(registryScheme(host)).toBe(scheme);
  });
  it("reads each image at the release tag of the stack's registry", async () => {
    const asked: string[] = [];
    const registry = fakeRegistry();
    await checkRegistryDigests({
      imageRegistry: "us-docker.pkg.dev/p/nova/",
      release: "2026.11.3",
      expected: DIGESTS,
      registry: { ...registry, digestOf: (ref) => (asked.push(ref), registry.digestOf(ref)) },
    });
    expect(asked).toEqual([
      "us-docker.pkg.dev/p/nova/nova-rms-api:2026.11.3",
      "us-docker.pkg.dev/p/nova/nova-rms-worker:2026.11.3",
    ]);
  });
  it.each([
    [DIGESTS, "pass"],
    [OTHER_DIGESTS, "fail"],
  ] as const)("registry digests %#", async (served, verdict) => {
    expect(
      (
        await checkRegistryDigests({
          imageRegistry: "127.0.0.1:35000/nova",
          release: "t",
          expected: DIGESTS,
          registry: fakeRegistry(served),
        })
      ).verdict,
    ).toBe(verdict);
  });
  it("names the registry's refusal of a read and the login that fixes it", async () => {
    const r = await checkRegistryDigests({
      imageRegistry: "us-docker.pkg.dev/p/nova",
      release: "t",
      expected: DIGESTS,
      registry: offlineRegistry("unauthorized: authentication required"),
    });
    expect(r.verdict).toBe("fail");
    expect(r.found).toContain(
      "api: us-docker.pkg.dev/p/nova/nova-rms-api:t: unauthorized: authentication required",
    );
    expect(r.remedy).toContain("skopeo login us-docker.pkg.dev");
  });
  it("passes the push check only when both repositories accept an upload", async () => {
    const asked: string[] = [];
    const registry = fakeRegistry(DIGESTS, { pushDenied: ["nova-rms-worker"] });
    const r = await checkRegistryPush({
      imageRegistry: "us-docker.pkg.dev/p/nova",
      registry: { ...registry, pushPermission: (repo) => (asked.push(repo), registry.pushPermission(repo)) },
    });
    expect(asked.sort()).toEqual([
      "us-docker.pkg.dev/p/nova/nova-rms-api",
      "us-docker.pkg.dev/p/nova/nova-rms-worker",
    ]);
    expect(r).toMatchObject({ id: "registry-push", verdict: "fail" });
    expect(r.found).toBe("api: push permitted; worker: HTTP 401 UNAUTHORIZED: authentication required");
    expect(r.remedy).toContain("log in to us-docker.pkg.dev with push rights");
    const ok = await checkRegistryPush({
      imageRegistry: "us-docker.pkg.dev/p/nova",
      registry: fakeRegistry(),
    });
    expect(ok.verdict).toBe("pass");
    const none = await checkRegistryPush({ imageRegistry: undefined, registry: fakeRegistry() });
    expect(none).toMatchObject({ verdict: "fail", found: "imageRegistry not configured" });
  });
  it("staging stack fails without an engine and when the history cannot be read", async () => {
    const base = { stagingStack: "staging", expected: DIGESTS, now: NOW, maxAgeHours: 72 };
    expect((await checkStagingStack({ ...base, history: undefined })).verdict).toBe("fail");
    expect(
      (await checkStagingStack({ ...base, history: () => Promise.reject(new Error("no pulumi")) })).found,
    ).toMatch(/no pulumi/);
  });
  it("round-trips evidence timestamps", () => {
    expect(evidenceTimestamp(new Date("2026-11-25T18:30:00.123Z"))).toBe("20261125T183000Z");
    expect(parseEvidenceTimestamp("20261125T183000Z")?.toISOString()).toBe("2026-11-25T18:30:00.000Z");
  });
});

describe.each([
  [
    "kubeconfig (unchanged: the kubeconfig must name the context; the GKE probe is not called)",
    { clusterMode: "kubeconfig" },
    "pass",
    "kubeconfig.yaml has contexts [nova-prod, nova-sandbox, nova-staging, marked-production]",
    0,
  ],
  [
    "unset (kubeconfig)",
    {},
    "pass",
    "kubeconfig.yaml has contexts [nova-prod, nova-sandbox, nova-staging, marked-production]",
    0,
  ],
  [
    "gke (the probe decides)",
    { clusterMode: "gke", gcpProject: "nova-prod", gcpRegion: "us-central1", gkeClusterName: "nova-prod" },
    "pass",
    "GKE cluster nova-prod/us-central1/nova-prod: status RUNNING",
    1,
  ],
  [
    "gke without the GKE settings",
    { clusterMode: "gke" },
    "fail",
    "clusterMode gke without gcpProject, gcpRegion, gkeClusterName",
    0,
  ],
] as const)(
  "the collector's cluster-access check with clusterMode %s",
  (_label, mode, verdict, found, calls) => {
    it(`-> ${verdict}`, async () => {
      const project = makeProject();
      try {
        const probed: string[] = [];
        const base = passingOptions(project);
        const bundle = await collectEvidence({
          ...base,
          settings: { ...base.settings, ...mode },
          gkeClusterAccess: (p, r, n) => {
            probed.push(`${p}/${r}/${n}`);
            return Promise.resolve({ ok: true, detail: "status RUNNING" });
          },
        });
        const check = bundle.checks.find((c) => c.id === "kubeconfig");
        expect(check?.verdict).toBe(verdict);
        expect(check?.found).toBe(found);
        expect(probed).toHaveLength(calls);
        // Everything else of the passing fixture still passes, so the new rules accept the committed fixtures.
        expect(bundle.checks.filter((c) => c.id !== "kubeconfig" && c.verdict !== "pass")).toEqual([]);
        expect(bundle.judgedWith).toMatchObject({ stagingMaxAgeHours: 72, sampleDataMaxAgeDays: 7 });
      } finally {
        project.cleanup();
      }
    });
  },
);
