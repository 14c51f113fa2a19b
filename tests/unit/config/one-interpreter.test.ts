// The program (src/config parseStackSettings) and the gate/CLI (src/evidence settingsFromConfigMap) read the same
// stack config through the same schema: the same config must give the same answers to both.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseStackSettings, stackViewOf } from "../../../src/config";
import { settingsFromConfigMap } from "../../../src/evidence";
import { productionRaw, sandboxRaw } from "../support/config-fixtures";

const projectDir = "/repo";

function flat(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [`nova-rollout:${k}`, v]));
}

describe.each([
  ["production", productionRaw()],
  ["sandbox", sandboxRaw()],
  ["sandbox with pausedCronJobs and requiredSecrets unset", sandboxRaw({ pausedCronJobs: undefined })],
  [
    "production with lists as JSON text",
    productionRaw({
      pausedCronJobs: '["nova-billing-drill","nova-reports"]',
      requiredSecrets: '["databaseUrl"]',
    }),
  ],
  ["sandbox with a custom evidence directory", sandboxRaw({ evidenceDir: "evidence/out" })],
])("%s", (_name, raw) => {
  const program = parseStackSettings(raw, { stack: "s", projectDir });
  const gate = settingsFromConfigMap("s", flat(raw), "test", projectDir);

  it("the view of the settings the program parsed is the gate's own view", () => {
    expect(stackViewOf(program, flat(raw), "test")).toEqual(gate);
  });

  it("the gate accepts it as the program does", () => {
    expect(gate.ok).toBe(true);
    if (gate.ok) expect(gate.settings.configProblems).toEqual([]);
  });

  it("gives the same release, digests, registry, target, paused CronJobs, required secrets and evidence directory", () => {
    if (!gate.ok) throw new Error("gate settings missing");
    const g = gate.settings;
    expect({
      environment: g.environment,
      release: g.release,
      digests: g.digests,
      registry: g.imageRegistry,
      namespace: g.namespace,
      pausedCronJobs: g.pausedCronJobs,
      requiredSecrets: g.requiredSecrets,
      evidenceDir: path.resolve(projectDir, g.evidenceDir),
    }).toEqual({
      environment: program.environment,
      release: program.images.tag,
      digests: { api: program.images.api.digest, worker: program.images.worker.digest },
      registry: program.images.registry,
      namespace: program.namespace,
      pausedCronJobs: program.pausedCronJobs,
      requiredSecrets: program.secrets.required,
      evidenceDir: program.evidenceDir,
    });
  });
});

describe("a partly valid config", () => {
  it("still yields the release for the gate, and carries the program's problems", () => {
    const raw = sandboxRaw({ apiReplicas: "zero", alertmanagerUrl: "not a url" });
    const gate = settingsFromConfigMap("s", flat(raw), "test", projectDir);
    expect(gate.ok).toBe(true);
    if (!gate.ok) return;
    expect(gate.settings.release).toBe("sandbox");
    expect(gate.settings.configProblems.map((p) => p.key).sort()).toEqual([
      "nova-rollout:alertmanagerUrl",
      "nova-rollout:apiReplicas",
    ]);
    expect(() => parseStackSettings(raw, { stack: "s", projectDir })).toThrow(
      /apiReplicas[\s\S]*alertmanagerUrl|alertmanagerUrl[\s\S]*apiReplicas/,
    );
  });

  it("fails closed, naming the key, when the release digest is malformed", () => {
    const gate = settingsFromConfigMap(
      "s",
      flat(sandboxRaw({ apiImageDigest: "sha256:abc" })),
      "test",
      projectDir,
    );
    expect(gate.ok).toBe(false);
    if (gate.ok) return;
    expect(gate.problems.join("\n")).toMatch(/nova-rollout:apiImageDigest .*sha256/);
  });
});

describe("the view of parsed settings", () => {
  it("takes the program's verdict instead of validating the whole config again", () => {
    const parsed = parseStackSettings(sandboxRaw(), { stack: "s", projectDir });
    // A key the program would refuse: the view of what the program already accepted carries no second verdict.
    const edited = flat(sandboxRaw({ apiReplicas: "zero" }));
    expect(settingsFromConfigMap("s", edited, "test", projectDir)).toMatchObject({
      ok: true,
      settings: { configProblems: [{ key: "nova-rollout:apiReplicas" }] },
    });
    expect(stackViewOf(parsed, edited, "test")).toMatchObject({ ok: true, settings: { configProblems: [] } });
  });

  it("still fails closed when the program's settings carry no digests to bind the release to", () => {
    const parsed = parseStackSettings(sandboxRaw(), { stack: "s", projectDir });
    const view = stackViewOf(parsed, flat(sandboxRaw({ apiImageDigest: undefined })), "test");
    expect(view).toEqual({
      ok: false,
      problems: ["nova-rollout:apiImageDigest is not set in test"],
      source: "test",
    });
  });
});

describe("metric checks in stack config", () => {
  const checks = (list: unknown) => JSON.stringify(list);
  it("parses a list with defaults", () => {
    const s = parseStackSettings(
      sandboxRaw({
        prometheusUrl: "http://127.0.0.1:39090",
        metricChecks: checks([{ name: "traffic", query: "sum(rate(x[5m]))", condition: "> 0" }]),
      }),
      { stack: "s", projectDir },
    );
    expect(s.verification.metricChecks).toEqual([
      {
        name: "traffic",
        query: "sum(rate(x[5m]))",
        condition: "> 0",
        evaluations: 3,
        intervalSeconds: 10,
        failureLimit: 0,
      },
    ]);
  });

  it.each([
    [
      "without prometheusUrl",
      { metricChecks: checks([{ name: "t", query: "q", condition: "> 0" }]) },
      /nova-rollout:prometheusUrl: required when metricChecks/,
    ],
    [
      "with a bad condition",
      { prometheusUrl: "http://p:9090", metricChecks: checks([{ name: "t", query: "q", condition: "big" }]) },
      /nova-rollout:metricChecks: \[0\]\[condition\] expected a condition/,
    ],
    [
      "with a name listed twice",
      {
        prometheusUrl: "http://p:9090",
        metricChecks: checks([
          { name: "t", query: "q", condition: "> 0" },
          { name: "t", query: "r", condition: "> 0" },
        ]),
      },
      /"t" is listed twice/,
    ],
    [
      "with a failure limit as large as the evaluations",
      {
        prometheusUrl: "http://p:9090",
        metricChecks: checks([{ name: "t", query: "q", condition: "> 0", evaluations: 2, failureLimit: 2 }]),
      },
      /failureLimit must be below evaluations/,
    ],
  ])("is refused %s, naming the key", (_what, extra, message) => {
    expect(() => parseStackSettings(sandboxRaw(extra), { stack: "s", projectDir })).toThrow(message);
  });
});
