// Rollback in production shape: a production-shaped stack with the committed production enforcement, two real
// releases in the sandbox registry, the real engine and Kubernetes API. A rollback is admitted by what admitted the
// release it restores (recorded in stack history) plus a rollback record; the gate's safety rules still apply.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { release, rollBack } from "../../cli/commands/release";
import { describeFailure, EXIT, fullHistory, toReleaseEntries, UserError } from "../../cli/engine";
import { readRecords } from "../../src/evidence";
import { kubectl, resetStandins, sandboxImageDigests } from "./harness";
import { ProductionWorld, publishRelease } from "./production-world";
import {
  deployments,
  type Digests,
  type EvidenceProject,
  failApiFor,
  filesUnder,
  flipByte,
  PRODUCTION_REGISTRY,
} from "./scenario";

const STACK = "it-prod-rb";
const NS = "it-prod-rb";
let world: ProductionWorld;
let stack: Stack;
let evidence: EvidenceProject;
let r1: Digests;
let r2: Digests;
const bundles: Record<string, string> = {};

async function releaseFails(): Promise<UserError> {
  try {
    await release(world.checkout, STACK, { policy: true, autoRollback: true });
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error("the release should have failed");
}

async function setRelease(tag: string, d: Digests): Promise<void> {
  await stack.setAllConfig({
    "nova-rollout:imageTag": { value: tag },
    "nova-rollout:apiImageDigest": { value: d.api },
    "nova-rollout:workerImageDigest": { value: d.worker },
  });
}

const apiImage = async () => (await deployments(NS))["nova-api"]?.image;
const suspended = async () =>
  kubectl("get", "cronjob", "nova-billing-drill", "-n", NS, "-o", "jsonpath={.spec.suspend}");

beforeAll(async () => {
  world = await ProductionWorld.create("nova-prod-rollback-it-", ["it-prod-rb"]);
  r1 = sandboxImageDigests();
  r2 = await publishRelease("r2");
  expect(r2.api).not.toBe(r1.api);
  stack = await world.projectStack(STACK, world.prodConfig(NS, { imageTag: "sandbox" }));
  // The operator (in the test roster) signs rollback records, the automatic one included.
  process.env.NOVA_OPERATOR = world.sre.name;
  process.env.NOVA_SSH_KEY_FILE = world.sre.keyFile;
  evidence = world.evidence(STACK);
}, 600_000);

afterAll(async () => {
  delete process.env.NOVA_OPERATOR;
  delete process.env.NOVA_SSH_KEY_FILE;
  await resetStandins().catch(() => undefined);
  await world?.dispose();
}, 900_000);

describe.sequential("rollback of a production-shaped stack, committed production enforcement", () => {
  it("release r1 (ready, approved) succeeds and history records what admitted it", async () => {
    bundles.r1 = await world.ready(evidence, "sandbox", r1);
    await release(world.checkout, STACK, { policy: true, autoRollback: true });
    expect(await apiImage()).toBe(`${PRODUCTION_REGISTRY}/nova-rms-api@${r1.api}`);
    const [last] = toReleaseEntries(await stack.history(1, 1, false));
    expect(last?.admission?.bundleSha256).toBe(bundles.r1);
    expect(last?.admission?.approvalSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("r2 (ready, approved) fails verification: rolled back automatically to r1, CronJob resumed, exit 6", async () => {
    await setRelease("r2", r2);
    bundles.r2 = await world.ready(evidence, "r2", r2);
    // Both api checks use 3 attempts: 6 failing answers fail r2, then the api recovers for the rollback's own checks.
    await failApiFor(6);
    const err = await releaseFails();
    expect(err.exitCode).toBe(EXIT.verificationFailed);
    expect(err.message).toMatch(/rolled back to update \d+ \(release sandbox\)/);
    expect(await apiImage()).toBe(`${PRODUCTION_REGISTRY}/nova-rms-api@${r1.api}`);
    expect(await suspended()).not.toBe("true");
    const entries = (await fullHistory(stack)).filter((e) => e.kind === "update");
    expect(entries.slice(0, 2).map((e) => [e.result, e.release])).toEqual([
      ["succeeded", "sandbox"],
      ["failed", "r2"],
    ]);
    // The rollback carried r1's admission into history, wrote its record and its launch summary.
    expect(entries[0]?.admission?.bundleSha256).toBe(bundles.r1);
    const rollbacks = readRecords(evidence.evidenceDir, STACK).rollbacks;
    expect(rollbacks.map((r) => [r.release, r.bundleSha256, r.requestedBy])).toEqual([
      ["sandbox", bundles.r1, "sre-on-call"],
    ]);
    const launches = filesUnder(path.join(evidence.evidenceDir, STACK)).filter((f) =>
      f.endsWith("-launch.md"),
    );
    expect(launches.map((f) => fs.readFileSync(f, "utf8")).join("\n")).toMatch(/Rollback summary/);
  });

  it("`rollback --to` r1 after a good r2 succeeds through the gate, admitted by r1's recorded bundle", async () => {
    await setRelease("r2", r2);
    await world.ready(evidence, "r2", r2);
    await release(world.checkout, STACK, { policy: true, autoRollback: false });
    expect(await apiImage()).toBe(`${PRODUCTION_REGISTRY}/nova-rms-api@${r2.api}`);
    const r1Version = (await fullHistory(stack)).find(
      (e) => e.kind === "update" && e.result === "succeeded" && e.release === "sandbox",
    )?.version;
    expect(r1Version).toBeDefined();
    const target = await rollBack(world.checkout, STACK, stack, {
      to: r1Version,
      reason: "drill",
    });
    expect(target.release).toBe("sandbox");
    expect(await apiImage()).toBe(`${PRODUCTION_REGISTRY}/nova-rms-api@${r1.api}`);
    expect(await suspended()).not.toBe("true");
  });

  it("changing only apiReplicas verifies the release again: a 500 then fails the update", async () => {
    await stack.setConfig("nova-rollout:apiReplicas", { value: "3" });
    await failApiFor(6);
    let error: unknown;
    try {
      await release(world.checkout, STACK, { policy: true, autoRollback: false });
    } catch (err) {
      error = err;
    }
    expect(describeFailure(error).code).toBe(EXIT.verificationFailed);
    await resetStandins();
  });

  it("a rollback to a target whose bundle was altered is blocked, exits 8 and says where the stack stands", async () => {
    await setRelease("r2", r2);
    await world.ready(evidence, "r2", r2);
    await release(world.checkout, STACK, { policy: true, autoRollback: false });
    const r1Bundle = filesUnder(path.join(evidence.evidenceDir, STACK)).find(
      (f) => f.endsWith("-preflight.json") && fs.readFileSync(f, "utf8").includes(bundles.r1 ?? "none"),
    );
    expect(r1Bundle).toBeDefined();
    // Production trusts the signed envelope written beside the bundle: alter that one.
    const r1Envelope = (r1Bundle ?? "").replace(/-preflight\.json$/, "-preflight.dsse.json");
    expect(fs.existsSync(r1Envelope)).toBe(true);
    flipByte(r1Envelope, 60);
    const r1Version = (await fullHistory(stack)).find(
      (e) => e.kind === "update" && e.result === "succeeded" && e.release === "sandbox",
    )?.version;
    let error: unknown;
    try {
      await rollBack(world.checkout, STACK, stack, { to: r1Version, reason: "drill" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(EXIT.rollbackFailed);
    expect((error as UserError).message).toMatch(/The rollback to update \d+ \(release sandbox\) failed/);
    expect((error as UserError).message).toMatch(/CronJob nova-billing-drill: running/);
    expect((error as UserError).message).toMatch(/rollout undo deployment\/nova-api/);
    // Nothing moved: r2 still runs, the config still names r2.
    expect(await apiImage()).toBe(`${PRODUCTION_REGISTRY}/nova-rms-api@${r2.api}`);
    expect((await stack.getConfig("nova-rollout:imageTag")).value).toBe("r2");
  });
});
