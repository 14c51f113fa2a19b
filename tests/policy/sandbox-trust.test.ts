// The sandbox rehearses the signed release with its own throwaway keys: the sandbox enforcement
// (policy/config/local.json) judges a sandbox stack's bundle against .sandbox/trust/roster.json, made by
// tools/sandbox/trust.mjs; production never trusts those keys, whatever config it is judged with.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readinessGate } from "../../policy/policies";
import { fileSigner, loadProductionEnforcement } from "../../src/evidence";
import { produceBundle, type ProjectFixture, SANDBOX_PROJECT } from "./fixtures";
import { fileConfig, runResourcePolicy } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();
const TRUST_SCRIPT = path.resolve(__dirname, "../../tools/sandbox/trust.mjs");

function sandboxProject(): ProjectFixture {
  return fixture.remakeProject(SANDBOX_PROJECT);
}

/** What `npm run sandbox:up` makes: the sandbox's keys and roster under <project>/.sandbox/trust. */
function makeSandboxTrust(p: ProjectFixture): string {
  const dir = path.join(p.dir, ".sandbox", "trust");
  execFileSync(process.execPath, [TRUST_SCRIPT, dir]);
  return dir;
}

async function gate(p: ProjectFixture, file: "local" | "production"): Promise<string[]> {
  const outcome = await runResourcePolicy(readinessGate, {
    type: "pulumi:pulumi:Stack",
    name: `nova-rollout-${p.stack}`,
    stack: p.stack,
    props: {},
    config: fileConfig(readinessGate, file, { projectDir: p.dir }),
  });
  return [...outcome.messages];
}

describe("the sandbox roster (local enforcement)", () => {
  it("accepts a sandbox stack's bundle signed by the sandbox preflight key", async () => {
    const p = sandboxProject();
    const trust = makeSandboxTrust(p);
    await produceBundle(p, {}, fileSigner(path.join(trust, "preflight.pem")));
    expect(await gate(p, "local")).toEqual([]);
  });

  it("rejects a bundle signed by a key outside the sandbox roster, naming the roster", async () => {
    const p = sandboxProject();
    makeSandboxTrust(p);
    // Signed by the committed roster's preflight key of the fixture: not a sandbox key.
    await produceBundle(p);
    const v = await gate(p, "local");
    expect(v.join("\n")).toMatch(/\[signature\].*sandbox roster \(\.sandbox\/trust\/roster\.json\)/);
  });

  it("names npm run sandbox:up when the sandbox has not made its roster", async () => {
    const p = sandboxProject();
    await produceBundle(p);
    const v = (await gate(p, "local")).join("\n");
    expect(v).toMatch(/roster\.json/);
    expect(v).toContain("npm run sandbox:up");
  });
});

describe("production never trusts the sandbox's keys", () => {
  it.each(["production", "local"] as const)(
    "a production stack's bundle signed by the sandbox key is blocked (judged with %s.json)",
    async (file) => {
      const p = fixture.project;
      const trust = makeSandboxTrust(p);
      await produceBundle(p, {}, fileSigner(path.join(trust, "preflight.pem")));
      const v = (await gate(p, file)).join("\n");
      expect(v).toMatch(/\[signature\].*committed roster/);
      expect(v).not.toContain("sandbox roster");
    },
  );

  it("a production enforcement whose trustRoster points into .sandbox/ is refused (the gate fails closed)", async () => {
    const p = fixture.project;
    makeSandboxTrust(p);
    const file = path.join(p.dir, "policy/config/production.json");
    const doc = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, Record<string, unknown>>;
    doc["nova-readiness-gate"] = { ...doc["nova-readiness-gate"], trustRoster: ".sandbox/trust/roster.json" };
    fs.writeFileSync(file, JSON.stringify(doc));
    expect(() => loadProductionEnforcement(p.dir)).toThrow(/inside the sandbox directory/);
    await produceBundle(p);
    const v = (await gate(p, "production")).join("\n");
    expect(v).toMatch(/inside the sandbox directory.*fails closed/);
  });
});
