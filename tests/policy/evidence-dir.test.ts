/**
 * Where the evidence-reading policies look for evidence, in order: the policy config `evidenceDir` when the user set
 * it, else the stack's `nova-rollout:evidenceDir` (engine config or stack file, relative to the project), else
 * tests/drills/logs.
 */
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { changeFreeze, policies, readinessGate } from "../../policy/policies";
import { stackContext } from "../../policy/policies/common";
import { DIGESTS, NOW, produceBundle, type ProjectFixture, RELEASE } from "./fixtures";
import { configFor, fileConfig, runResourcePolicy, urnOf } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

const STACK_DIR = "evidence/from-stack";
const POLICY_DIR = "evidence/from-policy";
const DEFAULT_DIR = "tests/drills/logs";
const URN = urnOf("production", "pulumi:providers:kubernetes", "nova-k8s");

/** A fresh project whose stack file sets nova-rollout:evidenceDir. */
function projectWithStackDir(dir: string = STACK_DIR): ProjectFixture {
  return fixture.remakeProject({ extraConfig: { "nova-rollout:evidenceDir": dir } });
}

function evidenceDirFor(config: Record<string, unknown>): string | undefined {
  return stackContext(URN, { ...config, projectDir: fixture.project.dir })?.evidenceDir;
}

/** The fixture project with its evidence written under `rel` instead of the default. */
function at(p: ProjectFixture, rel: string): ProjectFixture {
  return { ...p, evidenceDir: path.join(p.dir, rel) };
}

function freezeRecord(p: ProjectFixture, rel: string): void {
  const H = 3_600_000;
  p.write(
    `${rel}/production/records/freeze-production-20261125T173000Z.json`,
    JSON.stringify({
      kind: "freeze",
      stack: "production",
      start: new Date(NOW.getTime() - H).toISOString(),
      end: new Date(NOW.getTime() + H).toISOString(),
      reason: "Release 2026.11.3 rollout",
      declaredBy: "release-manager",
    }),
  );
}

function gate(config: Record<string, unknown> = {}) {
  return runResourcePolicy(readinessGate, {
    type: "pulumi:providers:kubernetes",
    name: "nova-k8s",
    props: {},
    config: fileConfig(readinessGate, "production", { projectDir: fixture.project.dir, ...config }),
  });
}

function freeze(config: Record<string, unknown> = {}) {
  return runResourcePolicy(changeFreeze, {
    type: "kubernetes:core/v1:Namespace",
    name: "nova-namespace",
    props: {},
    config: { projectDir: fixture.project.dir, ...config },
  });
}

describe("the policies' evidence directory", () => {
  it("has no schema default, so an explicit setting is told apart from an unset one", () => {
    for (const p of policies) {
      const schema = p.configSchema?.properties ?? {};
      if ("evidenceDir" in schema) {
        expect(configFor(p), p.name).not.toHaveProperty("evidenceDir");
      }
    }
  });

  it("defaults to tests/drills/logs when neither the policy nor the stack sets it", () => {
    expect(evidenceDirFor({})).toBe(path.join(fixture.project.dir, DEFAULT_DIR));
  });

  it("uses the stack's nova-rollout:evidenceDir, relative to the project directory", () => {
    const p = projectWithStackDir();
    expect(evidenceDirFor({})).toBe(path.join(p.dir, STACK_DIR));
  });

  it("keeps an absolute nova-rollout:evidenceDir as it is", () => {
    const abs = path.join(os.tmpdir(), "nova-evidence-elsewhere");
    projectWithStackDir(abs);
    expect(evidenceDirFor({})).toBe(abs);
  });

  it("prefers the policy config over the stack's setting", () => {
    const p = projectWithStackDir();
    expect(evidenceDirFor({ evidenceDir: POLICY_DIR })).toBe(path.join(p.dir, POLICY_DIR));
  });

  it("prefers the policy config even when it is set to the default value", () => {
    const p = projectWithStackDir();
    expect(evidenceDirFor({ evidenceDir: DEFAULT_DIR })).toBe(path.join(p.dir, DEFAULT_DIR));
  });

  it("reads the stack's setting from the engine config (PULUMI_CONFIG) when the engine names the stack", () => {
    fixture.setRuntime({
      env: {
        PULUMI_STACK: "production",
        PULUMI_CONFIG: JSON.stringify({
          "nova-rollout:imageTag": RELEASE,
          "nova-rollout:apiImageDigest": DIGESTS.api,
          "nova-rollout:workerImageDigest": DIGESTS.worker,
          "nova-rollout:evidenceDir": "evidence/from-engine",
        }),
      },
    });
    expect(evidenceDirFor({})).toBe(path.join(fixture.project.dir, "evidence/from-engine"));
  });

  it("falls back to the default when the stack settings cannot be resolved", () => {
    const p = fixture.remakeProject({ extraConfig: { "nova-rollout:evidenceDir": STACK_DIR } });
    p.write(`Pulumi.${p.stack}.yaml`, "config: [unclosed\n");
    expect(evidenceDirFor({})).toBe(path.join(p.dir, DEFAULT_DIR));
  });
});

describe("the readiness gate finds the bundle", () => {
  it("in the stack's evidence directory", async () => {
    const p = projectWithStackDir();
    await produceBundle(at(p, STACK_DIR));
    expect((await gate()).messages).toEqual([]);
  });

  it("not in the default directory when the stack names another", async () => {
    const p = projectWithStackDir();
    await produceBundle(p);
    expect((await gate()).messages.join("\n")).toMatch(
      new RegExp(
        `No readiness evidence.*${path.join(p.dir, STACK_DIR, "production").replace(/[/\\.]/g, "\\$&")}`,
      ),
    );
  });

  it("in the policy config's directory, over the stack's", async () => {
    const p = projectWithStackDir();
    await produceBundle(at(p, POLICY_DIR));
    expect((await gate({ evidenceDir: POLICY_DIR })).messages).toEqual([]);
    expect((await gate()).messages.join("\n")).toMatch(/No readiness evidence/);
  });
});

describe("the change freeze finds its records", () => {
  it("in the stack's evidence directory", async () => {
    const p = projectWithStackDir();
    freezeRecord(p, STACK_DIR);
    expect((await freeze()).messages).toEqual([]);
  });

  it("in the policy config's directory, over the stack's", async () => {
    const p = projectWithStackDir();
    freezeRecord(p, STACK_DIR);
    expect((await freeze({ evidenceDir: DEFAULT_DIR })).messages.join("\n")).toMatch(
      /No active change-freeze window.*in tests\/drills\/logs\/production\/records/,
    );
  });

  it("in the default directory when neither sets one", async () => {
    freezeRecord(fixture.project, DEFAULT_DIR);
    expect((await freeze()).messages).toEqual([]);
  });
});
