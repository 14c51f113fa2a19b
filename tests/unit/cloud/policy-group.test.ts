// The release pack as a Pulumi Cloud policy group runs it: the service downloads the published pack and the CLI runs it
// from the pack's install directory (no Pulumi.yaml above it, so no upward project search), with the stack config the
// engine passes (PULUMI_STACK / PULUMI_CONFIG) and the policy config the service holds (an object, not a file path).
// Classification still follows the target and the gate still blocks; a missing or odd config only makes it stricter.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { productionTarget, readinessGate, setPolicyRuntime } from "../../../policy/policies";
import { makeProject, NOW, SANDBOX_PROJECT, type ProjectFixture } from "../../policy/fixtures";
import { enforcementFor, packConfigFile, runResourcePolicy } from "../../policy/harness";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A project (its stack file, evidence and committed enforcement) and a pack install directory outside it. */
function serverSide(opts: Parameters<typeof makeProject>[0] = {}): {
  project: ProjectFixture;
  packDir: string;
} {
  const project = makeProject(opts);
  const packDir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-policy-group-"));
  const { config } = parse(
    fs.readFileSync(path.join(project.dir, `Pulumi.${project.stack}.yaml`), "utf8"),
  ) as {
    config: Record<string, unknown>;
  };
  // As the engine hands the analyzer its environment; the working directory is the pack's, not the project's.
  const restore = setPolicyRuntime({
    now: () => NOW,
    env: { PULUMI_STACK: project.stack, PULUMI_CONFIG: JSON.stringify(config) },
    searchStarts: [packDir],
  });
  cleanups.push(
    restore,
    () => project.cleanup(),
    () => fs.rmSync(packDir, { recursive: true, force: true }),
  );
  return { project, packDir };
}

/** The service's policy config for one policy: the committed production entry plus `extra` (no enforcementLevel). */
function groupConfig(policy: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { enforcementLevel: _level, ...entry } = packConfigFile("production")[policy] ?? {};
  return { ...entry, ...extra };
}

const atRoot = (policy: typeof productionTarget, stack: string, config: Record<string, unknown>) =>
  runResourcePolicy(policy, {
    type: "pulumi:pulumi:Stack",
    name: `nova-rollout-${stack}`,
    stack,
    props: {},
    config,
  });

describe("the release pack in a policy group", () => {
  it("judges a production stack with the committed production config given as an object", async () => {
    const { project } = serverSide({
      environment: "staging",
      extraConfig: { "nova-rollout:namespace": "nova-prod" },
    });
    const config = groupConfig("nova-readiness-gate", { projectDir: project.dir });
    const out = await atRoot(readinessGate, project.stack, config);
    expect(out.messages.join("\n")).toMatch(/No readiness evidence|bundle/i);
    // Classified by the target (namespace nova-prod), not the label staging: the production target names it.
    const target = await atRoot(
      productionTarget,
      project.stack,
      groupConfig("nova-production-target", { projectDir: project.dir }),
    );
    expect(target.messages.join("\n")).toMatch(/targets namespace nova-prod/);
  });

  it("leaves a sandbox stack alone under the same group config (the findings above are production's)", async () => {
    const { project } = serverSide(SANDBOX_PROJECT);
    const out = await atRoot(
      productionTarget,
      project.stack,
      groupConfig("nova-production-target", { projectDir: project.dir }),
    );
    expect(out.messages).toEqual([]);
  });

  it("blocks a production stack when the group gives no config at all (the enforcement is unnamed)", async () => {
    const { project } = serverSide();
    const out = await atRoot(productionTarget, project.stack, { projectDir: project.dir });
    expect(out.messages.join("\n")).toMatch(
      /Stack production is production .* but the policy pack runs with the unnamed enforcement/,
    );
    // With no config the policies' own levels apply: both block.
    expect(productionTarget.enforcementLevel).toBe("mandatory");
    expect(readinessGate.enforcementLevel).toBe("mandatory");
  });

  it("still blocks when the group config names no project directory", async () => {
    // The pack then judges with the enforcement it finds from its working directory, or fails closed without one.
    const { project } = serverSide();
    const out = await atRoot(readinessGate, project.stack, groupConfig("nova-readiness-gate"));
    expect(out.messages.length).toBeGreaterThan(0);
  });

  it("blocks a production stack judged with the local config", async () => {
    const { project } = serverSide();
    const { enforcementLevel: _l, ...local } = packConfigFile("local")["nova-production-target"] ?? {};
    const out = await atRoot(productionTarget, project.stack, { ...local, projectDir: project.dir });
    expect(out.messages.join("\n")).toMatch(
      /runs with the local enforcement; production is judged only with/,
    );
    expect(enforcementFor(productionTarget, "local")).toBe("mandatory");
  });

  describe.each<[string, unknown]>([
    ["an empty list", []],
    ["a list without the root stack", ["kubernetes:core/v1:ConfigMap"]],
    ["a string", "none"],
  ])("gatedTypes given as %s", (_label, gatedTypes) => {
    it("still gates the root stack of a production stack", async () => {
      const { project } = serverSide();
      const config = groupConfig("nova-readiness-gate", { projectDir: project.dir, gatedTypes });
      const out = await atRoot(readinessGate, project.stack, config);
      expect(out.messages.join("\n")).toMatch(/\[bundle\]/);
    });
  });
});
