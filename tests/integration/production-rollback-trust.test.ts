// A rollback restores only what was admitted before, requested by someone allowed to: on a production-shaped stack
// with the committed production enforcement (only the roster is the test's), an engineer's signed rollback record for
// a release that was never approved or deployed changes nothing, through plain `pulumi up` (the program guard) and
// through `rollout up` (the pack and the guard).
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeRecord } from "../../src/evidence";
import { kubectl, sandboxImageDigests } from "./harness";
import { ProductionWorld } from "./production-world";
import { type EvidenceProject, PEOPLE, productionRegistry, signAs, stateResources } from "./scenario";

const STACK = "it-prod-rbtrust";
const NS = "it-prod-rbtrust";
let world: ProductionWorld;
let stack: Stack;
let evidence: EvidenceProject;

/** Whether the namespace exists in the sandbox cluster. */
async function namespaceExists(): Promise<boolean> {
  try {
    await kubectl("get", "namespace", NS, "-o", "name");
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  world = await ProductionWorld.create("nova-prod-rbtrust-it-", [NS]);
  stack = await world.projectStack(STACK, world.prodConfig(NS, { imageTag: "sandbox" }));
  evidence = world.evidence(STACK);
}, 600_000);

afterAll(async () => {
  await world?.dispose();
}, 900_000);

describe.sequential("a rollback record cannot admit a release that was never admitted", () => {
  it("an engineer's signed rollback record for an unapproved, never deployed release changes nothing", async () => {
    // The release has an intact signed bundle with every check passed, but no freeze window, approval or update on
    // record: it was never admitted.
    const digests = sandboxImageDigests();
    await world.stage(digests);
    evidence.setDrillAge(1);
    evidence.setCoverage({ statements: 80, branches: 70, functions: 80, lines: 80 });
    const { bundle } = await evidence.preflight("sandbox", digests, world.stagingHistory, {
      registry: productionRegistry(),
    });
    expect(bundle.checks.filter((c) => c.verdict !== "pass")).toEqual([]);
    const now = Date.now();
    const file = writeRecord(
      evidence.evidenceDir,
      {
        kind: "rollback",
        stack: STACK,
        release: "sandbox",
        imageDigests: digests,
        bundleSha256: bundle.contentSha256,
        targetVersion: 1,
        reason: "restore the known good release",
        requestedBy: PEOPLE.engineer.name,
        createdAt: new Date(now - 60_000).toISOString(),
        expiresAt: new Date(now + 3_600_000).toISOString(),
      },
      new Date(now),
    );
    // Signed with the engineer's own roster key: the signature is valid, the role and the admission are not.
    signAs(file, PEOPLE.engineer);

    const plain = await world.run("pulumi", ["up", "--stack", STACK, "--yes", "--non-interactive"]);
    expect(plain.code, plain.out).not.toBe(0);
    expect(plain.out).toMatch(/Nothing was changed/);
    expect(plain.out).toMatch(
      /Rollback record by Eve Engineer admits nothing: their roster roles \[engineer\] include no role allowed to roll back/,
    );
    expect(plain.out).toMatch(
      /names no approval: a production rollback restores only a release the gate admitted before/,
    );

    const cli = await world.rollout(["up", "--stack", STACK]);
    expect(cli.code, cli.out).not.toBe(0);
    expect(cli.out).toMatch(/Rollback record by Eve Engineer admits nothing/);

    // Nothing was created: no resource in the stack's state beyond the stack itself, no namespace in the cluster.
    const created = (await stateResources(stack)).filter((r) => r.type !== "pulumi:pulumi:Stack");
    expect(created.filter((r) => !r.type.startsWith("pulumi:providers:"))).toEqual([]);
    expect(await namespaceExists()).toBe(false);
  });
});
