// The rollout end to end: the real engine (Automation API), the real policy pack and the sandbox's Kubernetes API.
// The cases share stacks and run in order. The gate in production shape is in production-gate.test.ts.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as crypto from "node:crypto";
import { drift, status } from "../../cli/actions/operate";
import { runPreflight } from "../../cli/actions/preflight";
import { rollBack } from "../../cli/actions/rollback";
import { release } from "../../cli/actions/release";
import { configJson } from "../../cli/actions/rollback-config";
import { describeFailure, EXIT } from "../../cli/errors";
import { toReleaseEntries } from "../../cli/history";
import { verifyStack } from "../../cli/actions/verify";
import {
  createOrSelectProjectStack,
  ensureSandbox,
  freshNamespaces,
  kubectl,
  REPO_ROOT,
  requireToolchainOrThrow,
  resetStandins,
  setAlerts,
  setMetric,
  SANDBOX,
  sandboxImageDigests,
  tempBackend,
  useTestBackend,
} from "./harness";
import { destroyStacks } from "./protect";
import {
  cronJobSuspended,
  deployments,
  failApiFor,
  fakeDigests,
  filesUnder,
  PLAINTEXT_CANARIES,
  policyConfigFile,
  sandboxConfig,
  SECRETS,
} from "./scenario";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "nova-rollout-it-"));
const backend = tempBackend();
const engineOutput: string[] = [];
const capture = (out: string) => void engineOutput.push(out);
const stacks: Stack[] = [];

let sandbox: Stack;
let sandboxPolicy: string;
let restoreEnv: () => void = () => undefined;

async function projectStack(name: string, config: Record<string, string>): Promise<Stack> {
  // A stack file left by an interrupted run would carry its keys into this one.
  fs.rmSync(path.join(REPO_ROOT, `Pulumi.${name}.yaml`), { force: true });
  const stack = await createOrSelectProjectStack({
    stackName: name,
    backendUrl: backend.url,
    config,
    secrets: SECRETS,
  });
  stacks.push(stack);
  return stack;
}

beforeAll(async () => {
  requireToolchainOrThrow();
  expect(fs.existsSync(path.join(REPO_ROOT, "dist", "index.js")), "run `npm run build` first").toBe(true);
  await ensureSandbox();
  await freshNamespaces("it-sandbox", "it-history");
  await resetStandins();
  // The CLI functions open stacks through the toolchain environment; point them at this run's backend.
  restoreEnv = useTestBackend(backend.url);
  sandboxPolicy = policyConfigFile(work, "local", {
    projectDir: REPO_ROOT,
    evidenceDir: path.join(work, "evidence"),
  });
}, 600_000);

afterAll(async () => {
  await destroyStacks(stacks, REPO_ROOT, capture);
  restoreEnv();
  await resetStandins().catch(() => undefined);
  backend.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
}, 900_000);

describe.sequential("rollout on the sandbox cluster", () => {
  it("(a) previews and deploys the sandbox stack: both Deployments Ready on the pinned digests", async () => {
    sandbox = await projectStack(
      "it-sandbox",
      sandboxConfig({
        namespace: "it-sandbox",
        backups: path.join(work, "backups"),
        evidenceDir: path.join(work, "evidence"),
      }),
    );
    const policy = { policyPacks: [path.join(REPO_ROOT, "policy")], policyPackConfigs: [sandboxPolicy] };
    const previewLines: string[] = [];
    const preview = await sandbox.preview({
      ...policy,
      onOutput: (s) => (previewLines.push(s), capture(s)),
    });
    expect(preview.changeSummary.create).toBeGreaterThan(10);
    // The preview shows everything: the digests come from config, so no rendered object is left unknown.
    const previewText = previewLines.join("");
    expect(previewText).not.toMatch(/Preview is incomplete|unknown values/i);
    for (const kind of ["apps/v1:Deployment", "core/v1:Service", "batch/v1:CronJob"]) {
      expect(previewText, kind).toContain(`kubernetes:${kind}`);
    }

    const up = await sandbox.up({ ...policy, onOutput: capture });
    expect(up.summary.result).toBe("succeeded");
    const digests = sandboxImageDigests();
    const deployed = await deployments("it-sandbox");
    expect(deployed["nova-api"]).toEqual({
      image: `${SANDBOX.imageRegistry}/nova-rms-api@${digests.api}`,
      replicas: 2,
      ready: 2,
    });
    expect(deployed["nova-worker"]).toEqual({
      image: `${SANDBOX.imageRegistry}/nova-rms-worker@${digests.worker}`,
      replicas: 2,
      ready: 2,
    });

    const results = up.outputs.verificationResults?.value as { check: string; ok: boolean; detail: string }[];
    expect(results.map((r) => r.check).sort()).toEqual([
      "alerts-quiet",
      "api-health",
      "api-metrics",
      "worker-readyz",
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    // The worker is checked as the playbook does: a port-forward through the API server to a pod of the Deployment
    // (kwok's kubelet hands it to the worker's stand-in), not a URL.
    expect(results.find((r) => r.check === "worker-readyz")?.detail).toBe(
      "/readyz answered 200 (port-forward to deploy/nova-worker:3001 in it-sandbox)",
    );
    // The database dump is real: pg_dump wrote it where the stack output says.
    expect(fs.statSync(up.outputs.databaseDump?.value as string).size).toBeGreaterThan(0);
    // The CronJob exists and was resumed after verification.
    expect(await cronJobSuspended("it-sandbox")).not.toBe("true");
  });

  it("the sandbox enforcement judges bundles against the sandbox's own roster (.sandbox/trust, throwaway keys)", async () => {
    // npm run sandbox:up made the roster and keys; the committed local.json names that roster.
    expect(fs.existsSync(path.join(REPO_ROOT, ".sandbox", "trust", "roster.json"))).toBe(true);
    const policy = { policyPacks: [path.join(REPO_ROOT, "policy")], policyPackConfigs: [sandboxPolicy] };
    const readinessLines = async () => {
      const lines: string[] = [];
      await sandbox.preview({ ...policy, onOutput: (s) => void lines.push(s) });
      return lines
        .join("")
        .split("\n")
        .filter((l) => l.includes("Readiness gate ["));
    };
    const evidenceDir = path.join(work, "evidence");
    const preflight = (signingKey?: string) =>
      runPreflight({
        stack: "it-sandbox",
        projectDir: REPO_ROOT,
        evidenceDir,
        engine: false,
        ...(signingKey !== undefined ? { signingKey } : {}),
      });
    fs.rmSync(path.join(evidenceDir, "it-sandbox"), { recursive: true, force: true });
    // Signed with the sandbox key by default (no --signing-key): the sandbox roster trusts it.
    await preflight();
    const signed = await readinessLines();
    expect(signed.join("\n")).not.toContain("[signature]");
    // A newer bundle signed by a key outside the sandbox roster is named, with the roster.
    const stranger = path.join(work, "stranger.pem");
    const { privateKey } = crypto.generateKeyPairSync("ed25519");
    fs.writeFileSync(stranger, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await new Promise((r) => setTimeout(r, 1_100)); // a new evidence time stamp (seconds)
    await preflight(stranger);
    const rejected = (await readinessLines()).join("\n");
    expect(rejected).toMatch(
      /\[signature\].*not accepted.*sandbox roster \(\.sandbox\/trust\/roster\.json\)/,
    );
    fs.rmSync(path.join(evidenceDir, "it-sandbox"), { recursive: true, force: true });
  });

  it("the worker check goes through the cluster: with no worker pod running, `rollout verify` fails on it, naming kubectl's error", async () => {
    await kubectl("scale", "deployment", "nova-worker", "--replicas=0", "-n", "it-sandbox");
    try {
      await vi.waitFor(
        async () =>
          expect(
            await kubectl(
              "get",
              "pods",
              "-l",
              "app.kubernetes.io/component=worker",
              "-n",
              "it-sandbox",
              "-o",
              "name",
            ),
          ).toBe(""),
        { timeout: 60_000, interval: 500 },
      );
      const results = await verifyStack(REPO_ROOT, "it-sandbox");
      const worker = results.find((r) => r.check === "worker-readyz");
      expect(worker?.ok).toBe(false);
      expect(worker?.detail).toMatch(
        /^kubectl port-forward to deploy\/nova-worker:3001 in it-sandbox exited 1: .*\(no running pod of deploy\/nova-worker within 2s\)$/,
      );
      // Only the worker's check: the API's stand-in still answers.
      expect(results.filter((r) => !r.ok).map((r) => r.check)).toEqual(["worker-readyz"]);
    } finally {
      await kubectl("scale", "deployment", "nova-worker", "--replicas=2", "-n", "it-sandbox");
      await kubectl("rollout", "status", "deployment/nova-worker", "-n", "it-sandbox", "--timeout=60s");
    }
    const again = await verifyStack(REPO_ROOT, "it-sandbox");
    expect(again.find((r) => r.check === "worker-readyz")).toMatchObject({ ok: true });
  });

  it("drift: a Service deleted by hand or a Deployment scaled by hand, the next release restores it; status shows the release", async () => {
    expect((await drift(REPO_ROOT, "it-sandbox", true)).drifted).toBe(false);
    await kubectl("delete", "service", "nova-api", "-n", "it-sandbox");
    const drifted = await drift(REPO_ROOT, "it-sandbox", true);
    expect(drifted.drifted).toBe(true);
    await release(REPO_ROOT, "it-sandbox", { policy: true, autoRollback: false });
    expect((await drift(REPO_ROOT, "it-sandbox", true)).drifted).toBe(false);
    expect(await kubectl("get", "service", "nova-api", "-n", "it-sandbox", "-o", "name")).toMatch(
      /service\/nova-api/,
    );
    // Scaled by hand during an incident (kubectl now owns spec.replicas): the next release takes the field back
    // instead of failing on a server-side apply conflict, and resumes the CronJob it paused.
    await kubectl("scale", "deployment", "nova-api", "--replicas=5", "-n", "it-sandbox");
    await release(REPO_ROOT, "it-sandbox", { policy: true, autoRollback: false });
    expect((await deployments("it-sandbox"))["nova-api"]?.replicas).toBe(2);
    expect(await cronJobSuspended("it-sandbox")).not.toBe("true");

    const report = await status(REPO_ROOT, "it-sandbox", sandbox);
    expect(report.current).toMatchObject({ release: "sandbox", result: "succeeded", kind: "update" });
    expect(report.current?.apiDigest).toBe(sandboxImageDigests().api);
    expect(report.lastVerification.filter((r) => !r.ok)).toEqual([]);
    expect(report.lastVerification.map((r) => r.check).sort()).toEqual([
      "alerts-quiet",
      "api-health",
      "api-metrics",
      "worker-readyz",
    ]);
  });

  describe("metric checks against the Prometheus API (Argo Rollouts analysis semantics)", () => {
    const query = 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))';
    const results = async () =>
      ((await sandbox.outputs()).verificationResults?.value ?? []) as {
        check: string;
        ok: boolean;
        detail: string;
      }[];

    beforeAll(async () => {
      // A list value is structured config (as `pulumi config set --path` or a YAML list in the stack file writes it).
      await sandbox.setAllConfigJson(
        configJson({
          "nova-rollout:prometheusUrl": SANDBOX.prometheus,
          "nova-rollout:metricChecks": JSON.stringify([
            { name: "error-ratio", query, condition: "< 0.01", evaluations: 2, intervalSeconds: 1 },
          ]),
        }),
      );
    });

    it("a ratio within bounds passes", async () => {
      await setMetric(query, 0.001);
      await release(REPO_ROOT, "it-sandbox", { policy: true, autoRollback: false });
      expect((await results()).find((r) => r.check === "metric-error-ratio")).toMatchObject({ ok: true });
    });

    it("no data is inconclusive: reported as such, not fatal outside production", async () => {
      await setMetric(query, null);
      await sandbox.setConfig("nova-rollout:verifyAttempts", { value: "2" }); // a change that re-runs verification
      await release(REPO_ROOT, "it-sandbox", { policy: true, autoRollback: false });
      const r = (await results()).find((x) => x.check === "metric-error-ratio");
      expect(r?.ok).toBe(true);
      expect(r?.detail).toMatch(/^inconclusive: measured \[no data, no data\]/);
    });

    it("a ratio over its threshold fails the update", async () => {
      await setMetric(query, 0.2);
      await sandbox.setConfig("nova-rollout:verifyAttempts", { value: "3" });
      let error: unknown;
      try {
        await release(REPO_ROOT, "it-sandbox", { policy: true, autoRollback: false });
      } catch (err) {
        error = err;
      }
      expect(describeFailure(error).code).toBe(EXIT.verificationFailed);
      await setMetric(query, 0.001);
      await sandbox.removeConfig("nova-rollout:metricChecks");
      await sandbox.setConfig("nova-rollout:verifyAttempts", { value: "3" });
    });
  });

  describe("alerts that are ours: Alertmanager selects them with the stack's matchers", () => {
    const authorization = `Bearer it-alerts-${crypto.randomBytes(12).toString("hex")}`;
    const unrelated = {
      labels: { alertname: "BillingLedgerLag", namespace: "ledger", severity: "critical" },
    };
    const alertsResult = async () =>
      (
        ((await sandbox.outputs()).verificationResults?.value ?? []) as {
          check: string;
          ok: boolean;
          detail: string;
        }[]
      ).find((r) => r.check === "alerts-quiet");

    afterAll(async () => {
      await setAlerts([]);
      await sandbox.removeConfig("nova-rollout:alertmanagerAuthorization");
    });

    it("an unrelated firing alert passes; the query carries the namespace matcher and the secret authorization", async () => {
      // The stand-in answers 401 without this header: an inconclusive result would show it was not sent.
      await setAlerts([unrelated], authorization);
      await sandbox.setConfig("nova-rollout:alertmanagerAuthorization", {
        value: authorization,
        secret: true,
      });
      await sandbox.setConfig("nova-rollout:verifyAttempts", { value: "2" }); // a change that re-runs verification
      await release(REPO_ROOT, "it-sandbox", { policy: true, autoRollback: false });
      const result = await alertsResult();
      expect(result).toMatchObject({ ok: true });
      expect(result?.detail).toBe('successful: no alerts firing matching namespace="it-sandbox"');
      // The state as the backend stores it (`exportStack` would decrypt it): the header is there, encrypted only.
      const state = filesUnder(backend.dir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => fs.readFileSync(f, "utf8"))
        .join("\n");
      expect(state).toContain("nova-verify-alerts-quiet");
      expect(state).not.toContain(authorization.slice("Bearer ".length));
    });

    it("a firing Nova alert fails the update", async () => {
      await setAlerts(
        [unrelated, { labels: { alertname: "NovaApiErrorBudgetBurn", namespace: "it-sandbox" } }],
        authorization,
      );
      await sandbox.setConfig("nova-rollout:verifyAttempts", { value: "3" });
      // The engine's output (streamed to stderr by the release) carries the probe's verdict.
      const stderr = vi.spyOn(process.stderr, "write");
      let error: unknown;
      let printed = "";
      try {
        await release(REPO_ROOT, "it-sandbox", { policy: true, autoRollback: false });
      } catch (err) {
        error = err;
      } finally {
        printed = stderr.mock.calls.map(([chunk]) => String(chunk)).join("");
        stderr.mockRestore();
      }
      expect(describeFailure(error).code).toBe(EXIT.verificationFailed);
      expect(printed).toContain("1 alert(s) firing: NovaApiErrorBudgetBurn");
      expect(printed).not.toContain("BillingLedgerLag");
      expect(printed).not.toContain(authorization.slice("Bearer ".length));
    });
  });

  it("release messages reach the webhook receivers in order, never block when a receiver is down, never carry a secret", async () => {
    const hook = (name: string) => `http://127.0.0.1:38090/hooks/${name}`;
    const setChannels = (channels: Record<string, { kind: string; url: string }>) =>
      sandbox.setConfig("nova-rollout:notifyChannels", { value: JSON.stringify(channels), secret: true });
    await fetch("http://127.0.0.1:38090/__received", { method: "DELETE" });
    await setChannels({
      "nova-ops": { kind: "slack", url: hook("nova-ops") },
      audit: { kind: "json", url: hook("audit") },
    });
    await release(REPO_ROOT, "it-sandbox", { policy: true, autoRollback: false });
    const received = (await (await fetch("http://127.0.0.1:38090/__received")).json()) as {
      channel: string;
      body: { text: string; kind?: string };
    }[];
    expect(received.map((r) => [r.channel, r.body.text.replace(/ —.*$/, "")])).toEqual([
      ["nova-ops", "[nova-rollout] Release started: it-sandbox sandbox"],
      ["audit", "[nova-rollout] Release started: it-sandbox sandbox"],
      ["nova-ops", "[nova-rollout] Release succeeded: it-sandbox sandbox"],
      ["audit", "[nova-rollout] Release succeeded: it-sandbox sandbox"],
    ]);
    expect(received[3]?.body.kind).toBe("release-succeeded");

    // Receivers down: the release still succeeds; what could not be delivered is on file, without the URLs.
    await setChannels({ "nova-ops": { kind: "slack", url: "http://127.0.0.1:9/hooks/nova-ops" } });
    await release(REPO_ROOT, "it-sandbox", { policy: true, autoRollback: false });
    const undelivered = fs
      .readFileSync(path.join(work, "evidence", "it-sandbox", "notify-undelivered.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { channel: string; event: { kind: string } });
    expect(undelivered.map((u) => [u.channel, u.event.kind])).toEqual([
      ["nova-ops", "release-started"],
      ["nova-ops", "release-succeeded"],
    ]);
    const everything =
      JSON.stringify(received) +
      fs.readFileSync(path.join(work, "evidence", "it-sandbox", "notify-undelivered.jsonl"), "utf8");
    expect(everything).not.toContain("127.0.0.1:9");
    for (const canary of PLAINTEXT_CANARIES) expect(everything).not.toContain(canary);
    await sandbox.removeConfig("nova-rollout:notifyChannels");
  });

  describe("(d, e) release history, a failed verification and the rollback", () => {
    let history: Stack;
    const d1 = fakeDigests("release-1");
    const d2 = fakeDigests("release-2");
    const d3 = fakeDigests("release-3");
    const config = (d: typeof d1, tag: string) =>
      sandboxConfig({
        namespace: "it-history",
        resolver: "pinned",
        digests: d,
        tag,
        backups: path.join(work, "history-backups"),
        evidenceDir: path.join(work, "evidence"),
      });

    it("(e) two successful updates with different digests: history returns both, each with its config", async () => {
      history = await projectStack("it-history", config(d1, "r1"));
      await release(REPO_ROOT, "it-history", { policy: true, autoRollback: false });
      await history.setAllConfig(
        Object.fromEntries(Object.entries(config(d2, "r2")).map(([k, v]) => [k, { value: v }])),
      );
      // A release touches what it changes: of the cluster's objects, the new digests (and release id) change the
      // workloads and the namespace's release record, nothing else (no Service update, so no Service await).
      const changed: string[] = [];
      await history.preview({
        policyPacks: [path.join(REPO_ROOT, "policy")],
        policyPackConfigs: [sandboxPolicy],
        onOutput: capture,
        onEvent: (e) => {
          const step = e.resourcePreEvent?.metadata;
          if (step && step.type.startsWith("kubernetes:") && !["same", "read"].includes(step.op)) {
            changed.push(`${step.op} ${step.type} ${step.urn.split("::").pop() ?? ""}`);
          }
        },
      });
      expect(changed.sort()).toEqual([
        "update kubernetes:apps/v1:Deployment nova-release:it-history/nova-api",
        "update kubernetes:apps/v1:Deployment nova-release:it-history/nova-worker",
        "update kubernetes:batch/v1:CronJob nova-release:it-history/nova-billing-drill",
        "update kubernetes:core/v1:Namespace nova-namespace",
      ]);
      const launch = fs.readFileSync(
        await release(REPO_ROOT, "it-history", { policy: true, autoRollback: false }),
        "utf8",
      );
      // The launch summary's step budget, timed from the real engine's events: the chart and the verification took
      // time, the release dumped the database, and the pinned images needed no digest check.
      const budget: Record<string, string | undefined> = Object.fromEntries(
        [
          ...launch.matchAll(
            /^\| (gate|images|secrets|dump|rehearsal|pause|chart|verification|resume) \| ([^|]+) \|/gm,
          ),
        ].map((m) => [m[1], m[2]?.trim()]),
      );
      expect(Object.keys(budget)).toEqual([
        "gate",
        "images",
        "secrets",
        "dump",
        "rehearsal",
        "pause",
        "chart",
        "verification",
        "resume",
      ]);
      const nonZero = /^(?:[1-9]\d* ms|\d+\.\d s)$/;
      for (const step of ["gate", "dump", "rehearsal", "pause", "chart", "verification", "resume"]) {
        expect(budget[step], step).toMatch(nonZero);
      }
      expect(budget["images"]).toBe("not run");

      const entries = toReleaseEntries(await history.history(10, 1, false));
      const ups = entries.filter((e) => e.kind === "update");
      expect(ups.map((e) => [e.version, e.result, e.release, e.apiDigest, e.workerDigest])).toEqual([
        [2, "succeeded", "r2", d2.api, d2.worker],
        [1, "succeeded", "r1", d1.api, d1.worker],
      ]);
      expect((await deployments("it-history"))["nova-api"]?.image).toBe(
        `${SANDBOX.imageRegistry}/nova-rms-api@${d2.api}`,
      );
      // Each up wrote its launch summary next to the evidence.
      expect(
        filesUnder(path.join(work, "evidence", "it-history")).filter((f) => f.endsWith("-launch.md")),
      ).toHaveLength(2);
    });

    it("(d) an endpoint answering 500 fails the update; the Deployments end on the previous digests", async () => {
      await history.setAllConfig(
        Object.fromEntries(Object.entries(config(d3, "r3")).map(([k, v]) => [k, { value: v }])),
      );
      // Both api checks (health, metrics) use 3 attempts: 6 failing answers fail the release. The 7th failing answer
      // goes to the automatic rollback, which must run those same checks again (a retry then passes): a rollback that
      // kept their old results instead would leave it unanswered.
      await failApiFor(7);
      let error: unknown;
      try {
        await release(REPO_ROOT, "it-history", { policy: true, autoRollback: true });
      } catch (err) {
        error = err;
      }
      expect(String(error)).toMatch(/verification failed; rolled back to update 2 \(release r2\)/);
      const deployed = await deployments("it-history");
      expect(deployed["nova-api"]).toEqual({
        image: `${SANDBOX.imageRegistry}/nova-rms-api@${d2.api}`,
        replicas: 2,
        ready: 2,
      });
      expect(deployed["nova-worker"]?.image).toBe(`${SANDBOX.imageRegistry}/nova-rms-worker@${d2.worker}`);
      const entries = toReleaseEntries(await history.history(10, 1, false)).filter(
        (e) => e.kind === "update",
      );
      expect(entries.slice(0, 2).map((e) => [e.result, e.release])).toEqual([
        ["succeeded", "r2"],
        ["failed", "r3"],
      ]);
      expect((await history.getConfig("nova-rollout:apiImageDigest")).value).toBe(d2.api);
      // The rollback re-ran the api checks against the restored release: the last failing answer was taken.
      const mode = (await (await fetch(`${SANDBOX.standins.api}/__mode`)).json()) as { status: number };
      expect(mode.status).toBe(200);
    });

    it("rolls back explicitly to an earlier update from history", async () => {
      const target = await rollBack(REPO_ROOT, "it-history", history, { to: 1 });
      expect(target.release).toBe("r1");
      expect((await deployments("it-history"))["nova-api"]?.image).toBe(
        `${SANDBOX.imageRegistry}/nova-rms-api@${d1.api}`,
      );
    });
  });

  it("(c) no plaintext secret in the exported state, the engine's output or the evidence files", () => {
    // The state as the backend stores it (`exportStack` would decrypt it for us).
    const state = filesUnder(backend.dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => fs.readFileSync(f, "utf8"))
      .join("\n");
    expect(state).toMatch(/it-sandbox/);
    const texts = {
      state,
      engineOutput: engineOutput.join(""),
      evidence: filesUnder(work)
        .filter((f) => /evidence/.test(f))
        .map((f) => fs.readFileSync(f, "utf8"))
        .join("\n"),
    };
    expect(texts.engineOutput.length).toBeGreaterThan(1000);
    expect(texts.evidence).toMatch(/preflight|launch|Launch/);
    for (const [where, text] of Object.entries(texts)) {
      for (const canary of PLAINTEXT_CANARIES) {
        expect(text.includes(canary), `${where} contains a secret value`).toBe(false);
      }
    }
    // The values are in the state, encrypted.
    expect(state).toMatch(/"ciphertext"/);
  });
});
