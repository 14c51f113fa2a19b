// Bring your own local cluster: tools/sandbox/up.sh with NOVA_SANDBOX_CLUSTER_KUBECONFIG / _CONTEXT uses an existing
// cluster instead of starting the built control plane, and down.sh never stops it. The built sandbox cluster plays
// "the user's cluster": its kubeconfig is copied to a temp file under another context name.
//
// Against a running sandbox: up.sh keeps every running component (postgres, registry, stand-ins are reported
// `running`), does not start or stop the built control plane, and replaces .sandbox/kubeconfig by a copy of the
// given context (same cluster, same credentials). down.sh then stops postgres, the registry and the stand-ins only.
// afterAll runs up.sh again with the caller's environment, which rewrites .sandbox/kubeconfig for the built cluster
// and restarts what down.sh stopped (a few seconds). Integration files run one at a time, so no other test sees the
// gap; other users of the same sandbox outside this run would.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, SANDBOX, ensureSandbox, kubectl, requireToolchainOrThrow, run, testEnv } from "./harness";

const execFileAsync = promisify(execFile);
const UP = path.join(REPO_ROOT, "tools", "sandbox", "up.sh");
const DOWN = path.join(REPO_ROOT, "tools", "sandbox", "down.sh");
const CONTROL_PLANE = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"];
const USER_CONTEXT = "byo-user-cluster";

/** Runs a sandbox script; never throws, returns the exit code and stdout + stderr. */
async function script(file: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await execFileAsync("bash", [file], {
      cwd: REPO_ROOT,
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, out: `${stdout}\n${stderr}` };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, out: `${e.stdout ?? ""}\n${e.stderr ?? ""}` };
  }
}

/** The pids of the built control plane's processes (pid files of up.sh), alive or not. */
function controlPlanePids(): Map<string, number> {
  const pids = new Map<string, number>();
  for (const name of CONTROL_PLANE) {
    const file = path.join(SANDBOX.dir, "pids", `${name}.pid`);
    if (fs.existsSync(file)) pids.set(name, Number(fs.readFileSync(file, "utf8").trim()));
  }
  return pids;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("bring your own local cluster", () => {
  let dir = "";
  let userKubeconfig = "";
  let userKubeconfigText = "";
  let pidsBefore = new Map<string, number>();

  /** The user's kubectl, through their own kubeconfig and context. */
  const userKubectl = (...args: string[]) =>
    run("kubectl", ["--kubeconfig", userKubeconfig, "--context", USER_CONTEXT, ...args]);
  const byoEnv = () =>
    testEnv({ NOVA_SANDBOX_CLUSTER_KUBECONFIG: userKubeconfig, NOVA_SANDBOX_CLUSTER_CONTEXT: USER_CONTEXT });

  beforeAll(async () => {
    requireToolchainOrThrow();
    await ensureSandbox();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-byo-it-"));
    userKubeconfig = path.join(dir, "config");
    fs.copyFileSync(SANDBOX.kubeconfig, userKubeconfig);
    fs.chmodSync(userKubeconfig, 0o600);
    await run("kubectl", [
      "config",
      "--kubeconfig",
      userKubeconfig,
      "rename-context",
      SANDBOX.context,
      USER_CONTEXT,
    ]);
    userKubeconfigText = fs.readFileSync(userKubeconfig, "utf8");
    pidsBefore = controlPlanePids();
  });

  afterAll(async () => {
    // Back to the sandbox as the caller had it (their environment decides built or bring-your-own).
    const restore = await script(UP, testEnv());
    if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
    if (restore.code !== 0)
      throw new Error(`restoring the sandbox failed (tools/sandbox/up.sh):\n${restore.out}`);
  });

  it("up.sh reports the given cluster, skips the control plane and points .sandbox/kubeconfig at it", async () => {
    const up = await script(UP, byoEnv());
    expect(up.code, up.out).toBe(0);
    expect(up.out).toMatch(
      new RegExp(`^ +cluster +byo +your context ${USER_CONTEXT} from ${escape(userKubeconfig)} `, "m"),
    );
    expect(up.out).toMatch(
      /^ +control-plane +skipped +etcd kube-apiserver kube-controller-manager kube-scheduler kwok/m,
    );
    for (const name of CONTROL_PLANE) {
      expect(up.out).not.toMatch(new RegExp(`^ +${name} +(started|running)`, "m"));
    }
    expect(up.out).not.toMatch(/^ +nodes +ready/m);
    for (const name of ["postgres", "registry", "standins"]) {
      expect(up.out).toMatch(new RegExp(`^ +${name} +(started|running)`, "m"));
    }
    expect(up.out).toContain(`(context ${SANDBOX.context} = your context ${USER_CONTEXT}`);

    // The contract of the rest of the repository: .sandbox/kubeconfig, context nova-sandbox, reaches the cluster.
    const contexts = await run("kubectl", [
      "config",
      "--kubeconfig",
      SANDBOX.kubeconfig,
      "get-contexts",
      "-o",
      "name",
    ]);
    expect(contexts.trim().split("\n")).toEqual([SANDBOX.context]);
    expect(await kubectl("get", "--raw", "/readyz")).toBe("ok");
    const through = JSON.parse(await kubectl("get", "--raw", "/version")) as { gitVersion: string };
    const direct = JSON.parse(await userKubectl("get", "--raw", "/version")) as { gitVersion: string };
    expect(through.gitVersion).toBe(direct.gitVersion);

    // Nothing of the built control plane was restarted, and the user's kubeconfig is untouched.
    expect(controlPlanePids()).toEqual(pidsBefore);
    expect(fs.readFileSync(userKubeconfig, "utf8")).toBe(userKubeconfigText);
  });

  it("down.sh stops the sandbox's own processes and leaves the user's cluster running", async () => {
    const down = await script(DOWN, testEnv());
    expect(down.code, down.out).toBe(0);
    expect(down.out).toMatch(new RegExp(`^ +cluster +not touched +your context ${USER_CONTEXT} from`, "m"));
    for (const name of CONTROL_PLANE) {
      expect(down.out).not.toMatch(new RegExp(`^ +${name} +stopped`, "m"));
    }
    for (const name of ["postgres", "registry", "standins"]) {
      expect(down.out).toMatch(new RegExp(`^ +${name} +(stopped|not running)`, "m"));
    }

    expect(await userKubectl("get", "--raw", "/readyz")).toBe("ok");
    for (const [name, pid] of pidsBefore) expect(alive(pid), `${name} (pid ${pid})`).toBe(true);
    expect(fs.readFileSync(userKubeconfig, "utf8")).toBe(userKubeconfigText);
  });
});
