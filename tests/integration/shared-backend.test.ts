// Shared state for a team: two operators, each with a clone of the repository, one S3-compatible backend (the
// s3-standin that `npm run setup` builds, standing in for the team's bucket) with the DIY backend's locking. One
// operator's `up` holds the lock while the other's stops cleanly naming the holder; both see one history, and one
// operator rolls back the other's change by the version `history` shows.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../cli/errors";
import {
  createOrSelectProjectStack,
  ensureSandbox,
  freshNamespaces,
  REPO_ROOT,
  requireToolchainOrThrow,
  resetStandins,
  TEST_PASSPHRASE,
  testEnv,
} from "./harness";
import { destroyStacks } from "./protect";
import { cliRollbackTo, deployments, productionCheckout, sandboxConfig, SECRETS } from "./scenario";

const execFileAsync = promisify(execFile);
const STACK = "it-shared";
const NS = "it-shared";
const BUCKET = "nova-state";
/** Dummy credentials: the stand-in accepts any; the AWS SDK needs some. */
const AWS = { AWS_ACCESS_KEY_ID: "nova-it", AWS_SECRET_ACCESS_KEY: "nova-it", AWS_REGION: "us-east-1" };

const work = fs.mkdtempSync(path.join(os.tmpdir(), "nova-shared-it-"));
let server: ChildProcess | undefined;
let endpoint = "";
let backendUrl = "";
let operatorA = "";
let operatorB = "";
let stackA: Stack;
let stackB: Stack;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The rollout CLI of one operator's clone against the shared backend; never throws. */
async function rollout(clone: string, args: readonly string[]) {
  const env = testEnv({ PULUMI_BACKEND_URL: backendUrl, PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE, ...AWS });
  delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [path.join(clone, "dist", "cli", "index.js"), ...args],
      { cwd: clone, env, maxBuffer: 64 * 1024 * 1024 },
    );
    return { code: 0, stdout, out: `${stdout}\n${stderr}` };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === "number" ? e.code : -1,
      stdout: e.stdout ?? "",
      out: `${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    };
  }
}

/** Keys of the lock objects in the bucket (the S3 ListObjectsV2 API). */
async function lockKeys(): Promise<string[]> {
  const res = await fetch(`${endpoint}/${BUCKET}?list-type=2&prefix=.pulumi/locks/`);
  return [...(await res.text()).matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1] ?? "");
}

const history = async (clone: string) => {
  const r = await rollout(clone, ["history", "--stack", STACK, "--limit", "50", "--json"]);
  expect(r.code, r.out).toBe(0);
  return JSON.parse(r.stdout) as {
    version: number;
    result: string;
    kind: string;
    config: Record<string, string>;
  }[];
};

beforeAll(async () => {
  const bin = requireToolchainOrThrow();
  expect(fs.existsSync(path.join(REPO_ROOT, "dist", "index.js")), "run `npm run build` first").toBe(true);
  await ensureSandbox();
  await freshNamespaces(NS);
  await resetStandins();
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  server = spawn(path.join(bin, "s3-standin"), ["-listen", `127.0.0.1:${port}`], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${endpoint}/`).then(
      () => true,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect((await fetch(`${endpoint}/${BUCKET}`, { method: "PUT" })).ok).toBe(true);
  backendUrl =
    `s3://${BUCKET}?endpoint=${endpoint}&region=us-east-1&use_path_style=true&disable_https=true` +
    "&request_checksum_calculation=when_required&response_checksum_validation=when_required";
  operatorA = productionCheckout(path.join(work, "operator-a"));
  operatorB = productionCheckout(path.join(work, "operator-b"));
  stackA = await createOrSelectProjectStack({
    stackName: STACK,
    workDir: operatorA,
    backendUrl,
    env: AWS,
    config: sandboxConfig({
      namespace: NS,
      backups: path.join(work, "backups"),
      evidenceDir: "tests/drills/logs",
    }),
    secrets: SECRETS,
  });
  // The stack file is committed: operator B's clone has the same one (secrets encrypted with the stack's salt).
  fs.copyFileSync(path.join(operatorA, `Pulumi.${STACK}.yaml`), path.join(operatorB, `Pulumi.${STACK}.yaml`));
  stackB = await createOrSelectProjectStack({ stackName: STACK, workDir: operatorB, backendUrl, env: AWS });
}, 600_000);

afterAll(async () => {
  await destroyStacks([stackA], operatorA).catch(() => undefined);
  server?.kill();
  fs.rmSync(work, { recursive: true, force: true });
}, 900_000);

describe.sequential("one shared S3 backend, two operators", () => {
  it("concurrent `up`s: one rolls out, the other stops cleanly naming the holder (exit 4), nothing half-done", async () => {
    const first = rollout(operatorA, ["up", "--stack", STACK]);
    // Operator B starts while A holds the stack's lock in the bucket.
    const deadline = Date.now() + 120_000;
    while ((await lockKeys()).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await lockKeys()).toHaveLength(1);
    const second = await rollout(operatorB, ["up", "--stack", STACK]);
    expect(second.code, second.out).toBe(EXIT.concurrentUpdate);
    expect(second.out).toMatch(
      /it-shared is locked by an update that may still be running:\n {2}\S+@\S+ \(pid \d+\)/,
    );
    expect(second.out).toMatch(/that process is still running on this host/);
    const done = await first;
    expect(done.code, done.out).toBe(0);
    // The operator follows the playbook's steps and checks as they start and end, in order.
    const told = done.out.split("\n").filter((l) => /^ *[▶✔✖] /.test(l));
    const at = (line: RegExp) => told.findIndex((l) => line.test(l));
    const order = [
      /^▶ gate {2}started$/,
      /^✔ gate {2}done \(\d+\.\d s; then \d+\.\d s engine start, refresh and policy\)$/,
      /^▶ chart {2}started$/,
      /^✔ chart {2}done /,
      /^▶ verification {2}started$/,
      /^ {2}✔ check api-health … ok \(\d+ attempts?, \d+(\.\d)? m?s\)$/,
      /^✔ verification {2}done /,
    ].map(at);
    expect(order, told.join("\n")).toEqual([...order].sort((a, b) => a - b));
    expect(
      order.every((i) => i >= 0),
      told.join("\n"),
    ).toBe(true);
    expect(await lockKeys()).toEqual([]);
    const api = (await deployments(NS))["nova-api"];
    expect([api?.replicas, api?.ready]).toEqual([2, 2]);
  });

  it("one history: B sees A's release, releases a change, and A rolls it back by the version `history` shows", async () => {
    const seenByB = await history(operatorB);
    const released = seenByB.find((e) => e.kind === "update" && e.result === "succeeded");
    expect(released).toBeDefined();
    await stackB.setConfig("nova-rollout:apiReplicas", { value: "3" });
    const changed = await rollout(operatorB, ["up", "--stack", STACK]);
    expect(changed.code, changed.out).toBe(0);
    expect((await deployments(NS))["nova-api"]?.replicas).toBe(3);
    // A's view of history is B's: the same updates under the same numbers.
    const seenByA = await history(operatorA);
    expect(seenByA.map((e) => [e.version, e.result])).toEqual(
      (await history(operatorB)).map((e) => [e.version, e.result]),
    );
    expect(seenByA[0]?.config["nova-rollout:apiReplicas"]).toBe("3");
    await cliRollbackTo((args) => rollout(operatorA, args), STACK, released?.version);
    expect((await deployments(NS))["nova-api"]?.replicas).toBe(2);
    expect((await history(operatorB))[0]).toMatchObject({ kind: "update", result: "succeeded" });
  });
});
