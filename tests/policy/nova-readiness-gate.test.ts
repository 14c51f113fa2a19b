import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readinessGate } from "../../policy/policies";
import { evidenceTimestamp } from "../../src/evidence";
import {
  DIGESTS,
  fakeRegistry,
  FIXTURES,
  NOW,
  OTHER_DIGESTS,
  produceBundle,
  type ProjectFixture,
  RELEASE,
  setCoverage,
  setDrillAge,
} from "./fixtures";
import { enforcementFor, fileConfig, runResourcePolicy, UNKNOWN } from "./harness";
import { usePolicyTestContext } from "./support";

const GATED = [
  ["pulumi:providers:kubernetes", "nova-k8s"],
  ["gcp:container/cluster:Cluster", "nova-gke"],
  ["pulumi:pulumi:Stack", "nova-rollout-production"],
] as const;

function namespaceProps(overrides: Record<string, unknown> = {}) {
  return {
    metadata: {
      name: "nova-prod",
      annotations: {
        "rollout.nova.dev/release": RELEASE,
        "rollout.nova.dev/api-digest": DIGESTS.api,
        "rollout.nova.dev/worker-digest": DIGESTS.worker,
        "rollout.nova.dev/environment": "production",
        ...overrides,
      },
    },
  };
}

const fixture = usePolicyTestContext();

function gate(
  type = "pulumi:providers:kubernetes",
  name = "nova-k8s",
  props: Record<string, unknown> = {},
  file: "production" | "staging" = "production",
) {
  return runResourcePolicy(readinessGate, {
    type,
    name,
    props,
    config: fileConfig(readinessGate, file, { projectDir: fixture.project.dir }),
  });
}

describe("nova-readiness-gate passing fixture", () => {
  it.each(GATED)("allows %s when the bundle is fresh, bound and passing", async (type, name) => {
    await produceBundle(fixture.project);
    expect((await gate(type, name)).messages).toEqual([]);
  });

  it.each(["kubernetes:core/v1:Namespace", "kubernetes:core/v1:NamespacePatch"])(
    "allows the namespace (%s) carrying the matching release record",
    async (type) => {
      await produceBundle(fixture.project);
      expect((await gate(type, "nova-namespace", namespaceProps())).messages).toEqual([]);
    },
  );

  it("ignores resources that are not gated", async () => {
    expect((await gate("kubernetes:apps/v1:Deployment", "nova-api")).messages).toEqual([]);
  });

  it("allows a billing drill 6 days old", async () => {
    setDrillAge(fixture.project, 6);
    await produceBundle(fixture.project);
    expect((await gate()).messages).toEqual([]);
  });
});

describe("nova-readiness-gate blocks", () => {
  const cases: [string, (p: ProjectFixture) => Promise<unknown>, RegExp][] = [
    [
      "a billing drill 8 days old",
      async (p) => {
        setDrillAge(p, 8);
        await produceBundle(p);
      },
      /billing-drill.*8\.0 days ago.*younger than 7 days/,
    ],
    [
      "coverage 59/50/70/60",
      async (p) => {
        setCoverage(p, { statements: 59, branches: 50, functions: 70, lines: 60 });
        await produceBundle(p);
      },
      /coverage.*statements 59%.*statements >= 60%/,
    ],
    [
      "one byte changed in a referenced artifact",
      async (p) => {
        await produceBundle(p);
        const f = path.join(p.dir, "coverage/coverage-summary.json");
        const b = fs.readFileSync(f);
        b[10] = (b[10] ?? 0) ^ 1;
        fs.writeFileSync(f, b);
      },
      /coverage-summary\.json.*changed since preflight/,
    ],
    [
      "a signed bundle whose payload was edited after signing",
      async (p) => {
        const { envelope } = await produceBundle(p);
        const env = JSON.parse(fs.readFileSync(envelope, "utf8")) as { payload: string };
        const text = Buffer.from(env.payload, "base64").toString().replace("70", "71");
        env.payload = Buffer.from(text).toString("base64");
        fs.writeFileSync(envelope, JSON.stringify(env));
      },
      /not accepted: its signature .* does not verify/,
    ],
    [
      "a bundle for other digests",
      (p) =>
        produceBundle(p, {
          settings: { ...fixtureSettings(p), digests: OTHER_DIGESTS },
          registry: fakeRegistry(OTHER_DIGESTS),
        }),
      /bound to api digest sha256:c{64}; the stack deploys sha256:a{64}/,
    ],
    [
      "no bundle",
      () => Promise.resolve(),
      /No readiness evidence.*looked for .*tests\/drills\/logs\/production\/<YYYYMMDDTHHMMSSZ>-preflight\.json.*Fix: npm run preflight -- --stack production/,
    ],
    [
      "a staging stack whose last update used other digests",
      (p) =>
        produceBundle(p, {
          stagingHistory: () =>
            Promise.resolve([{ kind: "update", result: "succeeded", endTime: NOW, config: {} }]),
        }),
      /staging-stack.*\(absent\)/,
    ],
    [
      "no engine for the staging history",
      (p) => produceBundle(p, { stagingHistory: undefined }),
      /no Pulumi engine available/,
    ],
  ];

  describe.each(cases)("%s", (_label, arrange, expected) => {
    it.each(GATED)("on %s (production: mandatory)", async (type, name) => {
      await arrange(fixture.project);
      const out = await gate(type, name);
      expect(out.messages.join("\n")).toMatch(expected);
      expect(enforcementFor(readinessGate, "production")).toBe("mandatory");
    });

    it("reports the same failure as advisory with the staging config", async () => {
      await arrange(fixture.project);
      const out = await gate("pulumi:providers:kubernetes", "nova-k8s", {}, "staging");
      expect(out.messages.join("\n")).toMatch(expected);
      expect(enforcementFor(readinessGate, "staging")).toBe("advisory");
      expect(enforcementFor(readinessGate, "local")).toBe("advisory");
    });
  });

  it("a bundle older than maxAgeHours", async () => {
    await produceBundle(fixture.project);
    fixture.setRuntime({ now: () => new Date(NOW.getTime() + 25 * 3_600_000) });
    expect((await gate()).messages.join("\n")).toMatch(/stale.*25\.0 h old; threshold 24 h/);
  });

  it("an unparsable bundle (fail closed)", async () => {
    const { envelope } = await produceBundle(fixture.project);
    fs.writeFileSync(envelope, "{ not json");
    expect((await gate()).messages.join("\n")).toMatch(/is not accepted: not JSON/);
  });

  it.each(["kubernetes:core/v1:Namespace", "kubernetes:core/v1:NamespacePatch"])(
    "a namespace (%s) whose release record differs from the stack config",
    async (type) => {
      await produceBundle(fixture.project);
      const out = await gate(
        type,
        "nova-namespace",
        namespaceProps({ "rollout.nova.dev/api-digest": OTHER_DIGESTS.api }),
      );
      expect(out.messages.join("\n")).toMatch(/release record .* differs from the stack config/);
    },
  );

  it("an unready release on a platform's namespace (a NamespacePatch is gated like the Namespace)", async () => {
    // No bundle at all: the patch that would write the release record onto the platform's namespace is refused.
    const out = await gate("kubernetes:core/v1:NamespacePatch", "nova-namespace", namespaceProps());
    expect(out.messages.join("\n")).toMatch(/preflight/i);
  });

  it("a namespace whose release record is unknown during preview (a violation, not an advisory skip)", async () => {
    await produceBundle(fixture.project);
    const out = await gate("kubernetes:core/v1:Namespace", "nova-namespace", {
      metadata: { name: "nova-prod", annotations: UNKNOWN },
    });
    expect(out.unknownAdvisory).toBeUndefined();
    expect(out.messages.join("\n")).toMatch(/unknown during preview/);
  });

  it("a stack without a stack file or engine config", async () => {
    await produceBundle(fixture.project);
    fs.rmSync(path.join(fixture.project.dir, "Pulumi.production.yaml"));
    expect((await gate()).messages.join("\n")).toMatch(
      /Cannot determine the release.*Pulumi\.production\.yaml does not exist/,
    );
  });
});

describe("nova-readiness-gate reads the engine's stack config", () => {
  it("prefers PULUMI_CONFIG when PULUMI_STACK names the stack", async () => {
    await produceBundle(fixture.project);
    const engineConfig = JSON.stringify({
      "nova-rollout:imageTag": RELEASE,
      "nova-rollout:apiImageDigest": OTHER_DIGESTS.api,
      "nova-rollout:workerImageDigest": DIGESTS.worker,
    });
    fixture.setRuntime({ env: { PULUMI_STACK: "production", PULUMI_CONFIG: engineConfig } });
    expect((await gate()).messages.join("\n")).toMatch(/the stack deploys sha256:c{64}/);
  });

  it("ignores PULUMI_CONFIG of another stack", async () => {
    await produceBundle(fixture.project);
    fixture.setRuntime({ env: { PULUMI_STACK: "staging", PULUMI_CONFIG: "{}" } });
    expect((await gate()).messages).toEqual([]);
  });

  it("finds the project by searching upward when projectDir is not configured", async () => {
    await produceBundle(fixture.project);
    const nested = path.join(fixture.project.dir, "policy");
    fs.mkdirSync(nested, { recursive: true });
    fixture.setRuntime({ searchStarts: [nested] });
    const out = await runResourcePolicy(readinessGate, {
      type: "pulumi:providers:kubernetes",
      name: "nova-k8s",
      props: {},
    });
    expect(out.messages).toEqual([]);
  });
});

function fixtureSettings(p: ProjectFixture) {
  return {
    stack: p.stack,
    project: "nova-rollout",
    release: RELEASE,
    digests: DIGESTS,
    imageRegistry: "127.0.0.1:35000/nova",
    kubeconfigPath: "kubeconfig.yaml",
    kubeconfigContext: "nova-prod",
    evidenceDir: "tests/drills/logs",
  };
}

describe("nova-readiness-gate re-judges the thresholds a production bundle was made with", () => {
  it.each([
    [
      "--min-branches 0 with branches at 40 %",
      (p: ProjectFixture) => setCoverage(p, { statements: 80, branches: 40, functions: 80, lines: 80 }),
      { coverageThresholds: { statements: 60, branches: 0, functions: 70, lines: 60 } },
      /\[thresholds\].*weakened threshold: coverage branches >= 0%; the committed policy requires >= 50%/,
    ],
    [
      "--drill-max-age-days 36500",
      (p: ProjectFixture) => setDrillAge(p, 30),
      { drillMaxAgeDays: 36_500 },
      /billing drill max age 36500 days; the committed policy requires <= 7 days/,
    ],
    [
      "another staging stack",
      (p: ProjectFixture) =>
        fs.cpSync(path.join(p.evidenceDir, "staging"), path.join(p.evidenceDir, "dev"), { recursive: true }),
      { stagingStack: "dev" },
      /staging stack "dev"; the committed policy requires "staging"/,
    ],
    [
      "a release cut in 1970",
      () => undefined,
      { releaseCut: new Date("1970-01-01T00:00:00Z") },
      /release cut 1970-01-01T00:00:00.000Z/,
    ],
    [
      "a registry outside the allowed ones",
      () => undefined,
      {
        settings: {
          stack: "production",
          project: "nova-rollout",
          release: RELEASE,
          digests: DIGESTS,
          imageRegistry: "registry.example.com/nova",
          kubeconfigPath: "kubeconfig.yaml",
          kubeconfigContext: "nova-prod",
          evidenceDir: "tests/drills/logs",
        },
      },
      /weakened threshold: registry registry\.example\.com\/nova/,
    ],
    [
      "--staging-max-age-hours 8760 and a staging update 30 days old",
      () => undefined,
      {
        stagingMaxAgeHours: 8760,
        stagingHistory: () =>
          Promise.resolve([
            {
              kind: "update",
              result: "succeeded",
              version: 7,
              endTime: new Date(NOW.getTime() - 30 * 86_400_000),
              config: {
                "nova-rollout:apiImageDigest": { value: DIGESTS.api },
                "nova-rollout:workerImageDigest": { value: DIGESTS.worker },
              },
            },
          ]),
      },
      /\[thresholds\].*weakened threshold: staging update max age 8760 h; the committed policy requires <= 72 h/,
    ],
    [
      "--sample-data-max-age-days 365 and a seed log 30 days old",
      (p: ProjectFixture) => {
        const dir = path.join(p.evidenceDir, "staging");
        for (const f of fs.readdirSync(dir).filter((n) => n.includes("seed"))) fs.rmSync(path.join(dir, f));
        p.write(
          `tests/drills/logs/staging/${evidenceTimestamp(new Date(NOW.getTime() - 30 * 86_400_000))}-seed-sample-data.log`,
          fs.readFileSync(path.join(FIXTURES, "seed-sample-data.log")),
        );
      },
      { sampleDataMaxAgeDays: 365 },
      /weakened threshold: sample-data max age 365 days; the committed policy requires <= 7 days/,
    ],
  ])("blocks a bundle made with %s", async (_what, prepare, options, expected) => {
    prepare(fixture.project);
    const { bundle } = await produceBundle(fixture.project, options);
    // The collector itself passed every check: only the re-judgement blocks it.
    expect(bundle.checks.filter((c) => c.verdict !== "pass")).toEqual([]);
    const out = await gate();
    expect(out.messages.join("\n")).toMatch(expected);
  });

  it("does not re-judge a staging stack's bundle (its gate is advisory and its options are its own)", async () => {
    const p = fixture.remakeProject({
      stack: "staging",
      environment: "staging",
      extraConfig: { "nova-rollout:namespace": "nova-staging" },
    });
    setCoverage(p, { statements: 80, branches: 40, functions: 80, lines: 80 });
    await produceBundle(p, { coverageThresholds: { statements: 60, branches: 0, functions: 70, lines: 60 } });
    const out = await runResourcePolicy(readinessGate, {
      type: "pulumi:pulumi:Stack",
      stack: "staging",
      props: {},
      config: fileConfig(readinessGate, "staging", { projectDir: p.dir }),
    });
    expect(out.messages.join("\n")).not.toMatch(/thresholds/);
  });
});
