// Rollback in production shape: a production-shaped stack with the committed production enforcement, two real
// releases in the sandbox registry, the real engine and Kubernetes API. A rollback is admitted by what admitted the
// release it restores (recorded in stack history) plus a rollback record; the gate's safety rules still apply.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rollBack } from "../../cli/actions/rollback";
import { release } from "../../cli/actions/release";
import { configJson } from "../../cli/actions/rollback-config";
import { describeFailure, EXIT, UserError } from "../../cli/errors";
import { fullHistory, toReleaseEntries } from "../../cli/history";
import { processAlive, readHolderRecords } from "../../cli/lock-holders";
import { readRecords } from "../../src/evidence";
import { readRejections } from "../../src/evidence/rejections";
import {
  grafanaAnnotations,
  grafanaChannel,
  kubectl,
  resetStandins,
  SANDBOX,
  sandboxImageDigests,
  setAlerts,
  setMetric,
  testEnv,
} from "./harness";
import { ProductionWorld, publishRelease } from "./production-world";
import {
  cronJobSuspended,
  deployments,
  type Digests,
  type EvidenceProject,
  cliRollbackTo,
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
const GRAFANA_TOKEN = "Bearer glsa_it_rollback";

async function releaseFails(retry?: {
  readonly failedVersion: number;
  readonly reason: string;
}): Promise<UserError> {
  try {
    await release(world.checkout, STACK, {
      policy: true,
      autoRollback: true,
      ...(retry !== undefined ? { retry } : {}),
    });
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

/** The newest failed update of the stack (the one a rejection names), as `up --retry-failed` takes it. */
async function newestFailure(): Promise<number> {
  const failed = (await fullHistory(stack)).find((e) => e.kind === "update" && e.result === "failed");
  expect(failed).toBeDefined();
  return failed?.version ?? 0;
}

/**
 * Releases what the stack file names again after a rejection: the operator records the decision to retry the failed
 * update the newest rejection names (what the gate's refusal says to pass to `--retry-failed`).
 */
async function retryRelease(): Promise<void> {
  const failedVersion = Math.max(
    ...readRejections(evidence.evidenceDir, STACK).rejections.map((r) => r.failedVersion),
  );
  await release(world.checkout, STACK, {
    policy: true,
    autoRollback: false,
    retry: { failedVersion, reason: "the api stand-in is healthy again" },
  });
}
const suspended = () => cronJobSuspended(NS);
/** The billing-drill CronJob of the stack's namespace, printed with kubectl's `-o` (and any further flags). */
const cronJob = (output: string, ...flags: string[]) =>
  kubectl("get", "cronjob", "nova-billing-drill", "-n", NS, "-o", output, ...flags);
const cronJobRelease = () => cronJob("jsonpath={.metadata.labels.rollout\\.nova\\.dev/release}");

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
  // Release and rollback events become Grafana annotations (the stand-in requires the channel's token).
  await stack.setConfig("nova-rollout:notifyChannels", {
    value: await grafanaChannel(GRAFANA_TOKEN),
    secret: true,
  });
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

  it("r2 fails verification in `rollout up` as the workflow runs it (CI identity, no person's key): rolled back to r1, exit 6", async () => {
    await setRelease("r2", r2);
    bundles.r2 = await world.ready(evidence, "r2", r2);
    // Both api checks use 3 attempts: 6 failing answers fail r2, then the api recovers for the rollback's own checks.
    await failApiFor(6);
    // As .github/workflows/rollout.yml runs it: the CI identity's key file, no person's key in the environment.
    const run = await world.rollout(
      ["up", "--stack", STACK, "--ssh-key", world.ci.keyFile],
      { NOVA_OPERATOR: world.ci.name },
      ["NOVA_SSH_KEY_FILE"],
    );
    expect(run.code, run.out).toBe(EXIT.verificationFailed);
    expect(run.out).toMatch(/rolled back to update \d+ \(release sandbox\)/);
    // The failed release is rejected on the stack, and the CLI prints the change for the repository.
    expect(run.out).toMatch(
      /Release r2 is rejected on it-prod-rb \(update \d+ failed post-deploy verification\)/,
    );
    expect(run.out).toMatch(/nova-rollout:imageTag: r2 -> sandbox/);
    expect(run.out).toMatch(/git switch -c rollback\/it-prod-rb-update-\d+/);
    expect(fs.readFileSync(path.join(world.checkout, `Pulumi.${STACK}.yaml`), "utf8")).not.toMatch(
      /gkeNodeCount|secretManagerPrefix|gkeMachineType/,
    );
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
      ["sandbox", bundles.r1, "ci-rollout"],
    ]);
    const launches = filesUnder(path.join(evidence.evidenceDir, STACK)).filter((f) =>
      f.endsWith("-launch.md"),
    );
    expect(launches.map((f) => fs.readFileSync(f, "utf8")).join("\n")).toMatch(/Rollback summary/);
    // Grafana marks the failed release and the rollback to r1's images.
    const failed = await grafanaAnnotations([`stack:${STACK}`, "event:verification-failed"], GRAFANA_TOKEN);
    expect(failed[0]?.tags).toContain("release:r2");
    const rolledBack = await grafanaAnnotations([`stack:${STACK}`, "event:rollback-done"], GRAFANA_TOKEN);
    expect(rolledBack[0]?.tags).toContain("release:sandbox");
    expect(rolledBack[0]?.text).toContain(`nova-rms-api@${r1.api}`);
    // The rollback's update message carries the rejection into stack history.
    expect(entries[0]?.rejects?.release).toBe("r2");
    expect(entries[0]?.rejects?.failedVersion).toBe(entries[1]?.version);
  });

  it("`rollback --to` the failed update is refused, naming why and the versions that qualify; nothing moves", async () => {
    const failed = await newestFailure();
    const recordsBefore = readRecords(evidence.evidenceDir, STACK).rollbacks.length;
    const refused = await world.rollout(["rollback", "--stack", STACK, "--to", String(failed), "--yes"]);
    expect(refused.code, refused.out).toBe(EXIT.usage);
    expect(refused.out).toMatch(
      new RegExp(
        `Update ${failed} cannot be a rollback target: it was a failed update: release r2 did not pass`,
      ),
    );
    expect(refused.out).toMatch(
      /Updates that qualify \(admitted and succeeded, newest first\): \d+ \(release sandbox\)/,
    );
    expect(refused.out).not.toMatch(/\d+ \(release r2\)/);
    expect(await apiImage()).toBe(`${PRODUCTION_REGISTRY}/nova-rms-api@${r1.api}`);
    expect((await stack.getConfig("nova-rollout:imageTag")).value).toBe("sandbox");
    expect(readRecords(evidence.evidenceDir, STACK).rollbacks).toHaveLength(recordsBefore);
  });

  it("the rejected r2 is refused by the gate on the next `up`, naming the failed update; nothing changes", async () => {
    const failed = await newestFailure();
    await setRelease("r2", r2);
    await world.ready(evidence, "r2", r2);
    // A fresh runner: the rejection comes back from stack history before the gate reads the evidence.
    for (const r of readRejections(evidence.evidenceDir, STACK).rejections) fs.rmSync(r.path);
    const refused = await world.rollout(["up", "--stack", STACK]);
    expect(refused.code, refused.out).toBe(EXIT.policyViolation);
    expect(refused.out).toMatch(/rejection restored from stack history/);
    expect(refused.out).toMatch(
      new RegExp(`was rejected on stack ${STACK}: update ${failed} failed post-deploy verification`),
    );
    expect(refused.out).toMatch(new RegExp(`--retry-failed ${failed} `));
    expect(await apiImage()).toBe(`${PRODUCTION_REGISTRY}/nova-rms-api@${r1.api}`);
  });

  it("`rollback --to` r1 after a good r2 succeeds through the gate, admitted by r1's recorded bundle", async () => {
    await setRelease("r2", r2);
    await world.ready(evidence, "r2", r2);
    // r2 was rejected: a signed decision to retry the failed update lets it through again.
    await retryRelease();
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
    // The previous case failed r2's verification again: retried by a recorded decision.
    await retryRelease();
    const r1Bundle = filesUnder(path.join(evidence.evidenceDir, STACK)).find(
      (f) => f.endsWith("-preflight.json") && fs.readFileSync(f, "utf8").includes(bundles.r1 ?? "none"),
    );
    expect(r1Bundle).toBeDefined();
    // Production trusts the signed envelope written beside the bundle: alter that one.
    const r1Envelope = (r1Bundle ?? "").replace(/-preflight\.json$/, "-preflight.dsse.json");
    expect(fs.existsSync(r1Envelope)).toBe(true);
    flipByte(r1Envelope, 60);
    bundles.tampered = r1Envelope;
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

  it("an `up` killed with SIGKILL mid-chart: refused without --yes, `recover` cancels and reconciles, `up` finishes", async () => {
    // The operator follows the gate's fix for the altered envelope: remove it; r1 is then prepared as a new release.
    fs.rmSync(bundles.tampered ?? "", { force: true });
    fs.rmSync((bundles.tampered ?? "").replace(/\.dsse\.json$/, ".json"), { force: true });
    await setRelease("sandbox", r1);
    await world.ready(evidence, "sandbox", r1);
    const killed = await killMidChart("sandbox");
    const pendingBefore = world.stackState(STACK)?.checkpoint?.latest?.pending_operations ?? [];
    expect(pendingBefore.length).toBeGreaterThan(0);
    expect(await suspended(), killed).toBe("true"); // paused by the interrupted release

    // Without a terminal the CLI asks for --yes and changes nothing.
    const asked = await world.rollout(["up", "--stack", STACK]);
    expect(asked.code, asked.out).toBe(EXIT.usage);
    expect(asked.out).toMatch(/that process is no longer running on this host/);
    expect(asked.out).toMatch(/pass --yes/);
    expect(world.stackLocks(STACK).length).toBeGreaterThan(0);

    const recovered = await world.rollout(["recover", "--stack", STACK, "--yes"]);
    expect(recovered.code, recovered.out).toBe(0);
    expect(recovered.out).toMatch(
      /it-prod-rb: abandoned lock cancelled, [1-9]\d* pending operation\(s\) reconciled, 0 left/,
    );
    expect(recovered.out).toMatch(/cancelled the locks? of it-prod-rb/);
    expect(recovered.out).toMatch(/operation\(s\) were in flight[\s\S]*interrupted while/);
    expect(recovered.out).toMatch(/CronJob nova-billing-drill: SUSPENDED/);
    expect(recovered.out).toMatch(
      /Next: `rollout up --stack it-prod-rb` finishes the interrupted release; it resumes nova-billing-drill/,
    );
    expect(world.stackLocks(STACK)).toEqual([]);
    expect(world.stackState(STACK)?.checkpoint?.latest?.pending_operations ?? []).toEqual([]);

    const finished = await world.rollout(["up", "--stack", STACK]);
    expect(finished.code, finished.out).toBe(0);
    await expectCleanRelease(r1, finished.out);
  });

  it("an `up` of r2 killed mid-chart and abandoned: `rollout up --yes` of r1 recovers and resumes what r2 paused", async () => {
    await setRelease("r2", r2);
    await world.ready(evidence, "r2", r2);
    const killed = await killMidChart("r2");
    expect(await suspended(), killed).toBe("true"); // paused by the killed r2 release
    // The operator abandons r2: r1's config goes back with fresh evidence, and `up --yes` recovers the lock on its own.
    await setRelease("sandbox", r1);
    await world.ready(evidence, "sandbox", r1);
    const finished = await world.rollout(["up", "--stack", STACK, "--yes"]);
    expect(finished.code, finished.out).toBe(0);
    expect(finished.out).toMatch(/locked by an interrupted update:\n {2}\S+@\S+ \(pid \d+\)/);
    expect(finished.out).toMatch(/continuing the interrupted work on it-prod-rb/);
    // r1's pause and resume had run before: the resume runs again because the killed r2 paused the CronJob.
    await expectCleanRelease(r1, finished.out);
  });

  it("a lock held by a live process in another PID namespace (same host name) is not cancelled, however old, with --yes", async () => {
    // The holder runs r1's `up` in a PID namespace of its own, as in another container on this host with the same
    // host name: its process ids mean nothing here. It is stopped (alive) while it holds the lock.
    expect(process.getuid?.(), "this proof runs `unshare --pid`, which needs root").toBe(0);
    await setRelease("sandbox", r1);
    await world.ready(evidence, "sandbox", r1);
    const holder = world.spawnRollout(
      ["up", "--stack", STACK],
      ["unshare", "--pid", "--fork", "--mount-proc"],
    );
    const exited = new Promise<number | null>((resolve) => holder.child.once("exit", resolve));
    const deadline = Date.now() + 300_000;
    const ownNamespace = fs.readlinkSync("/proc/self/ns/pid");
    const holderRecord = () =>
      readHolderRecords(STACK).find((r) => r.pidNamespace !== ownNamespace && r.engines.length > 0);
    while (
      (world.stackLocks(STACK).length === 0 || holderRecord() === undefined) &&
      Date.now() < deadline &&
      holder.child.exitCode === null
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(world.stackLocks(STACK).length, holder.output()).toBeGreaterThan(0);
    expect(holderRecord(), holder.output()).toBeDefined();
    const tree = processTree(holder.child.pid ?? 0);
    const signal = (s: NodeJS.Signals) => {
      for (const pid of tree) {
        try {
          process.kill(pid, s);
        } catch {
          // already gone
        }
      }
    };
    signal("SIGSTOP");
    try {
      await new Promise((r) => setTimeout(r, 2_000)); // older than --lock-stale-after 1s
      const lock = JSON.parse(fs.readFileSync(world.stackLocks(STACK)[0] ?? "", "utf8")) as {
        pid: number;
        hostname: string;
      };
      const refused = await world.rollout(["up", "--stack", STACK, "--yes", "--lock-stale-after", "1s"]);
      expect(refused.code, refused.out).toBe(EXIT.concurrentUpdate);
      expect(refused.out).toMatch(/may still be running:/);
      expect(refused.out).toMatch(/taken in another PID namespace/);
      expect(refused.out).toContain(`--force-unlock ${lock.hostname}:${lock.pid}`);
      const recovery = await world.rollout([
        "recover",
        "--stack",
        STACK,
        "--yes",
        "--lock-stale-after",
        "1s",
      ]);
      expect(recovery.code, recovery.out).toBe(EXIT.concurrentUpdate);
      expect(world.stackLocks(STACK).length).toBeGreaterThan(0);
    } finally {
      signal("SIGCONT");
    }
    // The holder was never disturbed: it finishes its release.
    expect(await exited, holder.output()).toBe(0);
    await expectCleanRelease(r1, holder.output());
  });

  it("a failure injected into a step after verification (the CronJob resume) fails the update without a rollback", async () => {
    await setRelease("r2", r2);
    await world.ready(evidence, "r2", r2);
    const rollbacksBefore = readRecords(evidence.evidenceDir, STACK).rollbacks.length;
    // kubectl refuses exactly the resume (`"suspend":false`); everything else, the pause included, goes through.
    const bin = fs.mkdtempSync(path.join(world.work, "inject-"));
    const real = execFileSync("sh", ["-c", "command -v kubectl"], {
      env: testEnv(),
      encoding: "utf8",
    }).trim();
    fs.writeFileSync(
      path.join(bin, "kubectl"),
      `#!/bin/sh\ncase "$*" in *'"suspend":false'*) echo "injected: resume refused" >&2; exit 1;; esac\nexec '${real}' "$@"\n`,
      { mode: 0o755 },
    );
    const failed = await world.rollout(["up", "--stack", STACK], { PATH: `${bin}:${testEnv().PATH ?? ""}` });
    expect(failed.code, failed.out).toBe(EXIT.failed);
    expect(failed.out).toMatch(/injected: resume refused/);
    expect(failed.out).not.toMatch(/rolling back/i);
    // The verified release stays; nothing was rolled back and no rollback record was written.
    expect(await apiImage()).toBe(`${PRODUCTION_REGISTRY}/nova-rms-api@${r2.api}`);
    expect(readRecords(evidence.evidenceDir, STACK).rollbacks).toHaveLength(rollbacksBefore);
    const [last] = (await fullHistory(stack)).filter((e) => e.kind === "update");
    expect([last?.result, last?.release]).toEqual(["failed", "r2"]);
    // The next `up` (kubectl whole again) resumes the CronJob.
    await release(world.checkout, STACK, { policy: true, autoRollback: true });
    expect(await suspended()).not.toBe("true");
  });

  it("with 25 updates in history, `rollback --to` the second newest version `history` shows restores that update", async () => {
    // Refreshes (each an entry of the stack's history, numbered like updates) until 23 are there, then an unchanged
    // release of r2 through the gate and r1 on top: 25 or more entries, r2 second newest.
    while ((await fullHistory(stack)).length < 23) await stack.refresh({ onOutput: () => undefined });
    await release(world.checkout, STACK, { policy: true, autoRollback: false });
    await setRelease("sandbox", r1);
    await world.ready(evidence, "sandbox", r1);
    await release(world.checkout, STACK, { policy: true, autoRollback: false });
    const shown = await world.rollout(["history", "--stack", STACK, "--limit", "100", "--json"]);
    expect(shown.code, shown.out).toBe(0);
    const entries = JSON.parse(shown.stdout) as {
      version: number;
      release: string;
      result: string;
    }[];
    expect(entries.length).toBeGreaterThanOrEqual(25);
    // One numbering, newest first, however many updates exist.
    expect(entries.map((e) => e.version)).toEqual(entries.map((_, i) => entries.length - i));
    const second = entries[1];
    expect([second?.release, second?.result]).toEqual(["r2", "succeeded"]);
    await cliRollbackTo((args) => world.rollout(args), STACK, second?.version);
    expect(await apiImage()).toBe(`${PRODUCTION_REGISTRY}/nova-rms-api@${r2.api}`);
    expect(await suspended()).not.toBe("true");
  });

  it("a metric check over its threshold fails a production release and triggers the automatic rollback", async () => {
    const query = 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))';
    await stack.setAllConfigJson(
      configJson({
        "nova-rollout:prometheusUrl": SANDBOX.prometheus,
        "nova-rollout:metricChecks": JSON.stringify([
          { name: "error-ratio", query, condition: "< 0.01", evaluations: 2, intervalSeconds: 1 },
        ]),
      }),
    );
    // r2 runs now (the previous case rolled back to it). r1 is released while the error ratio is 20 %: its first
    // evaluation fails, over the failure limit, which ends the check; the rollback keeps the metric check, and its own
    // evaluations then see 0.1 %.
    await setRelease("sandbox", r1);
    await world.ready(evidence, "sandbox", r1);
    await setMetric(query, 0.2, { for: 1, then: 0.001 });
    const err = await releaseFails();
    expect(err.exitCode).toBe(EXIT.verificationFailed);
    expect(err.message).toMatch(/rolled back to update \d+ \(release r2\)/);
    expect(await apiImage()).toBe(`${PRODUCTION_REGISTRY}/nova-rms-api@${r2.api}`);
    expect(await suspended()).not.toBe("true");
    // The rollback's own verification passed (the api stand-in is healthy, so the release failed on its metric),
    // with the stack's current checks: the metric check that failed r1 verified the restored r2 too.
    const results = (await stack.outputs())["verificationResults"]?.value as { check: string; ok: boolean }[];
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.map((r) => r.check)).toContain("metric-error-ratio");
    expect((await stack.getConfig("nova-rollout:metricChecks")).value).toContain("error-ratio");
  });

  it("a firing Nova alert fails a production release and triggers the automatic rollback; an unrelated firing alert does not", async () => {
    // The other release than the one running, retried if it was rejected earlier (the sandbox has two digest pairs).
    const before = await apiImage();
    const [tag, next] =
      before === `${PRODUCTION_REGISTRY}/nova-rms-api@${r1.api}` ? ["r2", r2] : ["sandbox", r1];
    await setRelease(tag, next);
    await world.ready(evidence, tag, next);
    const earlier = readRejections(evidence.evidenceDir, STACK).rejections.filter(
      (r) => r.imageDigests.api === next.api,
    );
    const retry =
      earlier.length > 0
        ? {
            failedVersion: Math.max(...earlier.map((r) => r.failedVersion)),
            reason: "the error ratio is back to normal",
          }
        : undefined;
    // A shared Alertmanager: another team's alert fires throughout. Nova's own alert fires while it is verified (its
    // alerts check asks three times, its attempts), then resolves; the rollback's own check sees only the other one.
    const unrelated = {
      labels: { alertname: "BillingLedgerLag", namespace: "billing", severity: "critical" },
    };
    const nova = { labels: { alertname: "NovaWorkerQueueBacklog", namespace: NS, severity: "critical" } };
    await setAlerts([unrelated, nova], undefined, { after: 3, then: [unrelated] });
    const err = await releaseFails(retry);
    expect(err.exitCode, err.message).toBe(EXIT.verificationFailed);
    expect(err.message).toMatch(/rolled back to update \d+ \(release \S+\)/);
    expect(await apiImage()).toBe(before);
    // The release is rejected for its alerts check alone (the api, the worker and the metric answered well).
    const rejections = readRejections(evidence.evidenceDir, STACK).rejections;
    const newest = rejections.find(
      (r) => r.failedVersion === Math.max(...rejections.map((x) => x.failedVersion)),
    );
    expect(newest?.failedChecks.map((c) => c.replace(/^.*-(?=alerts-quiet$)/, ""))).toEqual(["alerts-quiet"]);
    // The restored r2 verified with the unrelated alert still firing: only what the namespace matcher selects counts.
    const results = (await stack.outputs())["verificationResults"]?.value as {
      check: string;
      ok: boolean;
      detail: string;
    }[];
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.find((r) => r.check === "alerts-quiet")?.detail).toBe(
      `successful: no alerts firing matching namespace="${NS}"`,
    );
  });

  it("a state metadata file a kill left empty: the engine cannot read the stack, `recover` sets it aside", async () => {
    // The file backend writes a checkpoint's `.attrs` metadata in place: a kill between creating and writing it
    // leaves it empty (timing such a kill is not deterministic; the file is left as it would be).
    const attrs = world.backendFiles().filter((f) => f.endsWith(`${path.sep}${STACK}.json.attrs`));
    expect(attrs).toHaveLength(1);
    fs.writeFileSync(attrs[0] ?? "", "");
    const broken = await world.rollout(["status", "--stack", STACK]);
    expect(broken.code, broken.out).not.toBe(0);
    expect(broken.out).toMatch(/failed to load checkpoint: EOF/);
    expect(broken.out).toMatch(/`rollout recover --stack <stack>` sets it aside/);

    const recovered = await world.rollout(["recover", "--stack", STACK, "--yes"]);
    expect(recovered.code, recovered.out).toBe(0);
    expect(recovered.out).toMatch(/set aside 1 half-written metadata file\(s\) of the state backend/);
    expect(recovered.out).toMatch(/it-prod-rb: no lock held, 0 pending operation\(s\) reconciled, 0 left/);
    const status = await world.rollout(["status", "--stack", STACK]);
    expect(status.code, status.out).toBe(0);
    // Kept for inspection, outside the folder the backend reads.
    expect(
      world.backendFiles().filter((f) => f.includes(`${path.sep}.pulumi-set-aside${path.sep}`)),
    ).toHaveLength(1);
  });
});

/**
 * Starts `rollout up` and kills its whole process tree with SIGKILL once a Deployment step is in flight and the chart
 * has already applied the CronJob of `release` (the CronJob's apply must not have undone the pause).
 *
 * On the sandbox the window is short (a Deployment step ends well under a second after the CronJob's apply) and a
 * kubectl call is slower than that under load, so the tree is frozen (SIGSTOP: the engine neither applies nor writes
 * its checkpoint while stopped) whenever a Deployment step is in flight; frozen, both conditions are read again, and
 * the tree is killed only when both hold and the checkpoint is at rest (no write of it half done: the file backend
 * writes the data through a temporary file but its `.attrs` metadata in place, and a kill inside that write is a
 * different failure than the one proven here). Otherwise it is thawed, left to run a little, and watched again.
 */
async function killMidChart(release: string): Promise<string> {
  const run = world.spawnRollout(["up", "--stack", STACK]);
  const exited = new Promise((resolve) => run.child.once("exit", resolve));
  const deadline = Date.now() + 300_000;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const signal = (pids: number[], sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  // A Deployment being changed (not read by the refresh that starts every `up`): the chart is rolling out.
  const deploymentInFlight = () =>
    (world.stackState(STACK)?.checkpoint?.latest?.pending_operations ?? []).some((op) => {
      const o = op as { type?: string; resource?: { type?: string } };
      return (
        (o.type === "updating" || o.type === "creating") &&
        o.resource?.type === "kubernetes:apps/v1:Deployment"
      );
    });
  let tree: number[] = [];
  while (tree.length === 0 && Date.now() < deadline && run.child.exitCode === null) {
    if (!deploymentInFlight()) {
      await sleep(5);
      continue;
    }
    // A lost runner takes every process with it: the CLI, the engine, the language host, the program and the
    // plugins (which the engine starts in process groups of their own).
    const candidates = processTree(run.child.pid ?? 0);
    signal(candidates, "SIGSTOP");
    if (deploymentInFlight() && checkpointAtRest() && (await cronJobRelease()) === release) {
      tree = candidates;
    } else {
      signal(candidates, "SIGCONT");
      await sleep(30);
    }
  }
  expect(
    tree.length > 0,
    `no Deployment step was seen in flight after the CronJob of ${release}:\n${run.output()}`,
  ).toBe(true);
  signal(tree, "SIGKILL");
  await exited;
  // SIGKILL is delivered at once but a process ends asynchronously: the CLI's exit does not wait for the engine's.
  // Wait (bounded) until every killed process has ended before judging the lock it left.
  const ending = Date.now() + 30_000;
  while (tree.some((pid) => processAlive(pid)) && Date.now() < ending)
    await new Promise((r) => setTimeout(r, 50));
  // The engine's lock is left behind, held by a process that no longer runs.
  const locks = world.stackLocks(STACK).map((f) => JSON.parse(fs.readFileSync(f, "utf8")) as { pid: number });
  expect(locks.length, JSON.stringify(locks)).toBeGreaterThan(0);
  expect(
    locks.filter((l) => processAlive(l.pid)),
    JSON.stringify(locks),
  ).toEqual([]);
  const fields = await cronJob("json", "--show-managed-fields");
  return `${run.output()}\n--- CronJob after the kill ---\n${fields}`;
}

/** No write of the stack's checkpoint in progress: no temporary file, every `.attrs` metadata file whole. */
function checkpointAtRest(): boolean {
  const files = world.backendFiles().filter((f) => f.includes(`${path.sep}stacks${path.sep}`));
  return files.every((f) => {
    if (f.endsWith(".tmp")) return false;
    if (!f.endsWith(".attrs")) return true;
    try {
      JSON.parse(fs.readFileSync(f, "utf8"));
      return true;
    } catch {
      return false;
    }
  });
}

/** The release runs, verified, with the CronJob resumed, no lock and no pending operation left, nothing extra. */
async function expectCleanRelease(d: Digests, out: string): Promise<void> {
  expect(await apiImage()).toBe(`${PRODUCTION_REGISTRY}/nova-rms-api@${d.api}`);
  expect(Object.keys(await deployments(NS)).sort()).toEqual(["nova-api", "nova-worker"]);
  expect(await suspended(), out).not.toBe("true");
  expect(world.stackLocks(STACK)).toEqual([]);
  expect(world.stackState(STACK)?.checkpoint?.latest?.pending_operations ?? []).toEqual([]);
  const [last] = (await fullHistory(stack)).filter((e) => e.kind === "update");
  expect([last?.result, last?.apiDigest]).toEqual(["succeeded", d.api]);
  const verification = (await stack.outputs())["verificationResults"]?.value as { ok: boolean }[] | undefined;
  expect(verification?.length).toBeGreaterThan(0);
  expect(verification?.every((v) => v.ok)).toBe(true);
}

/** A process and all its descendants (from /proc), parents first. */
function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // exited meanwhile
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, parent] of parentOf) if (parent === tree[i]) tree.push(pid);
  }
  return tree;
}
