// The scheduled work that could reach production, paused for a release on the real engine (playbook §4): a sandbox
// stack lists two GitHub Actions workflows, the sandbox's GitHub API stand-in (tools/sandbox/github-standin.mjs,
// token-checked as GitHub is) records what the release did; and the staging cluster's billing drill CronJob, reached
// through that cluster's own kubeconfig (the sandbox's API server under a second kubeconfig file and context), is
// suspended too. The pause runs before the chart, the resume only after post-deploy verification passed; without a
// token the release stops before the chart, naming what to set; the token is in no output and nowhere in the state.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { release } from "../../cli/actions/release";
import { describeFailure } from "../../cli/errors";
import { SUSPEND_FIELD_MANAGER } from "../../src/contract";
import {
  createOrSelectProjectStack,
  ensureSandbox,
  freshNamespaces,
  kubectl,
  run,
  REPO_ROOT,
  resetStandins,
  SANDBOX,
  tempBackend,
  useTestBackend,
} from "./harness";
import { destroyStacks } from "./protect";
import { deployments, failApiFor, sandboxConfig, SECRETS } from "./scenario";

const STACK = "it-ci-schedules";
const BILLING = "nova-rms/nova-rms:billing-drill-production.yml";
const NIGHTLY = "nova-rms/nova-rms:nightly-e2e.yml";
/** The staging cluster's namespace, with its own kubeconfig file and context. */
const STAGING_NS = "it-ci-staging";
const STAGING_CONTEXT = "nova-staging";
const work = fs.mkdtempSync(path.join(os.tmpdir(), "nova-ci-schedules-it-"));
const backend = tempBackend("nova-ci-schedules-backend-");
const token = fs.existsSync(SANDBOX.github.tokenFile)
  ? fs.readFileSync(SANDBOX.github.tokenFile, "utf8").trim()
  : "";
const stacks: Stack[] = [];
let stack: Stack;
let restoreEnv: () => void = () => undefined;
const savedToken = process.env["GITHUB_TOKEN"];

interface Call {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

async function github(
  body?: unknown,
): Promise<{ workflows: { file: string; state: string }[]; calls: Call[] }> {
  const res = await fetch(`${SANDBOX.github.api}/__github`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`GitHub stand-in: ${res.status}`);
  return (await res.json()) as { workflows: { file: string; state: string }[]; calls: Call[] };
}

const workflows = (state: string) =>
  github({
    workflows: [BILLING, NIGHTLY].map((w) => ({
      repository: w.split(":")[0],
      file: w.split(":")[1],
      state,
    })),
  });
const states = async () => Object.fromEntries((await github()).workflows.map((w) => [w.file, w.state]));
/** The staging billing drill: its `suspend`, and whether the rollout's field manager has set it. */
async function stagingDrill(): Promise<{ suspend: string; byRollout: boolean }> {
  const job = JSON.parse(
    await kubectl(
      "get",
      "cronjob",
      "nova-billing-drill",
      "-n",
      STAGING_NS,
      "-o",
      "json",
      "--show-managed-fields",
    ),
  ) as { spec: { suspend?: boolean }; metadata: { managedFields?: { manager: string }[] } };
  return {
    suspend: String(job.spec.suspend ?? false),
    byRollout: (job.metadata.managedFields ?? []).some((f) => f.manager === SUSPEND_FIELD_MANAGER),
  };
}
const puts = async () =>
  (await github()).calls
    .filter((c) => c.method === "PUT")
    .map((c) => `${c.path.split("/").slice(-2).join(" ")}`);

beforeAll(async () => {
  await ensureSandbox();
  expect(token, `${SANDBOX.github.tokenFile}: the sandbox makes it (npm run sandbox:up)`).not.toBe("");
  await freshNamespaces(STACK, STAGING_NS);
  await resetStandins();
  // The staging cluster as the release reaches it: its own kubeconfig file and context, its billing drill CronJob.
  const stagingKubeconfig = path.join(work, "nova-staging.kubeconfig");
  fs.copyFileSync(SANDBOX.kubeconfig, stagingKubeconfig);
  await run("kubectl", [
    "--kubeconfig",
    stagingKubeconfig,
    "config",
    "rename-context",
    SANDBOX.context,
    STAGING_CONTEXT,
  ]);
  const cronJob = path.join(work, "staging-drill.json");
  fs.writeFileSync(
    cronJob,
    JSON.stringify({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "nova-billing-drill", namespace: STAGING_NS },
      spec: {
        schedule: "0 3 * * *",
        suspend: false,
        jobTemplate: {
          spec: {
            template: {
              spec: {
                restartPolicy: "Never",
                containers: [{ name: "drill", image: "busybox", args: ["true"] }],
              },
            },
          },
        },
      },
    }),
  );
  await kubectl("create", "namespace", STAGING_NS);
  await kubectl("apply", "-f", cronJob);
  restoreEnv = useTestBackend(backend.url);
  stack = await createOrSelectProjectStack({
    stackName: STACK,
    backendUrl: backend.url,
    config: sandboxConfig({
      namespace: STACK,
      resolver: "pinned",
      backups: path.join(work, "backups"),
      evidenceDir: path.join(work, "evidence"),
      extra: {
        ciSchedules: JSON.stringify([BILLING, NIGHTLY]),
        githubApiUrl: SANDBOX.github.api,
        stagingCronJobs: JSON.stringify({
          kubeconfigPath: stagingKubeconfig,
          kubeconfigContext: STAGING_CONTEXT,
          namespace: STAGING_NS,
        }),
      },
    }),
    secrets: SECRETS,
  });
  stacks.push(stack);
}, 600_000);

afterAll(async () => {
  if (savedToken === undefined) delete process.env["GITHUB_TOKEN"];
  else process.env["GITHUB_TOKEN"] = savedToken;
  await destroyStacks(stacks, REPO_ROOT, () => undefined);
  restoreEnv();
  await github({ reset: true }).catch(() => undefined);
  await kubectl("delete", "namespace", STAGING_NS, "--wait=false").catch(() => undefined);
  await resetStandins().catch(() => undefined);
  fs.rmSync(path.join(REPO_ROOT, `Pulumi.${STACK}.yaml`), { force: true });
  backend.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
}, 600_000);

describe.sequential("CI schedules and the staging drill paused for a release", () => {
  it("without a token the release stops before the chart, naming GITHUB_TOKEN", async () => {
    await workflows("active");
    delete process.env["GITHUB_TOKEN"];
    // What the operator sees: the engine's output, the failed pause's own words among it.
    const seen: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk, ...rest) => {
      seen.push(String(chunk));
      return write(chunk, ...(rest as []));
    });
    let error: unknown;
    try {
      await release(REPO_ROOT, STACK, { policy: true, autoRollback: false });
    } catch (err) {
      error = err;
    } finally {
      spy.mockRestore();
    }
    expect(describeFailure(error).message).toContain("nova-jobs-pause-ci-schedules");
    expect(seen.join("")).toMatch(/ci-schedules: GITHUB_TOKEN is not set/);
    expect(await deployments(STACK)).toEqual({});
    expect(await states()).toEqual({ "billing-drill-production.yml": "active", "nightly-e2e.yml": "active" });
  });

  it("disables each listed workflow before the chart and enables it after verification; no token in state", async () => {
    await workflows("active");
    process.env["GITHUB_TOKEN"] = token;
    await release(REPO_ROOT, STACK, { policy: true, autoRollback: false });
    expect(await puts()).toEqual([
      "billing-drill-production.yml disable",
      "nightly-e2e.yml disable",
      "billing-drill-production.yml enable",
      "nightly-e2e.yml enable",
    ]);
    expect(await states()).toEqual({ "billing-drill-production.yml": "active", "nightly-e2e.yml": "active" });
    expect(Object.keys(await deployments(STACK)).sort()).toEqual(["nova-api", "nova-worker"]);
    expect(JSON.stringify(await stack.exportStack())).not.toContain(token);
    // The staging cluster's drill was suspended by the release and resumed after verification.
    expect(await stagingDrill()).toEqual({ suspend: "false", byRollout: true });
  });

  it("a failed verification leaves the schedules disabled", async () => {
    await workflows("active");
    await failApiFor(1000);
    // A change to what the workloads run: the pause, the chart and the verification run again.
    await stack.setConfig("nova-rollout:apiReplicas", { value: "3" });
    let error: unknown;
    try {
      await release(REPO_ROOT, STACK, { policy: true, autoRollback: false });
    } catch (err) {
      error = err;
    }
    expect(describeFailure(error).message).toMatch(/Post-deploy verification failed/);
    expect(await puts()).toEqual(["billing-drill-production.yml disable", "nightly-e2e.yml disable"]);
    expect(await states()).toEqual({
      "billing-drill-production.yml": "disabled_manually",
      "nightly-e2e.yml": "disabled_manually",
    });
    expect(await stagingDrill()).toEqual({ suspend: "true", byRollout: true });
  });
});
