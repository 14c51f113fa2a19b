// The bench's own world: a temp file backend, a checkout of the compiled program (as a colleague's clone holds it), an
// empty JavaScript program, a TypeScript copy of the program, and `bench-` stacks aimed at the sandbox. Nothing in the
// repository's own backend (.pulumi-local) or stack files is touched; everything is removed by `dispose`.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation";
import {
  createOrSelectProjectStack,
  REPO_ROOT,
  requireToolchainOrThrow,
  SANDBOX,
  tempBackend,
  TEST_PASSPHRASE,
  testEnv,
} from "../../tests/integration/harness";
import { findHelm } from "../../tests/chart/helm";
import type { RunSpec } from "./measure";
import { unprotectAll } from "../../tests/integration/protect";
import { fakeDigests, productionCheckout, sandboxConfig, SECRETS } from "../../tests/integration/scenario";

const execFileAsync = promisify(execFile);

/** The stack every program-shaped variant previews (config shaped like `local`, on the bench's namespace). */
export const BENCH_STACK = "bench-local";
/** The empty program's stack. */
export const EMPTY_STACK = "bench-empty";
/** The stack of the rollback pair: two releases that differ in their digests (pinned; kwok never pulls them). */
export const ROLLBACK_STACK = "bench-rollback";
const RELEASES = {
  "bench-r1": fakeDigests("bench-r1"),
  "bench-r2": fakeDigests("bench-r2"),
} as const;
type BenchRelease = keyof typeof RELEASES;

export class SandboxDownError extends Error {
  override readonly name = "SandboxDownError";
}

/** Fails with a message naming `npm run sandbox:up` when any sandbox piece the program touches is not answering. */
export async function requireSandbox(): Promise<void> {
  requireToolchainOrThrow();
  const problems: string[] = [];
  if (!fs.existsSync(SANDBOX.kubeconfig)) problems.push(`${SANDBOX.kubeconfig} is missing`);
  else {
    try {
      await execFileAsync(
        "kubectl",
        ["--kubeconfig", SANDBOX.kubeconfig, "--context", SANDBOX.context, "get", "--raw", "/readyz"],
        { env: testEnv(), timeout: 10_000 },
      );
    } catch {
      problems.push(`the Kubernetes API (${SANDBOX.apiServer}) does not answer /readyz`);
    }
  }
  const probes: [string, string][] = [
    ["the local registry", `http://${SANDBOX.registry}/v2/`],
    ["the api stand-in", `${SANDBOX.standins.api}/__mode`],
    ["the worker stand-in", `${SANDBOX.standins.worker}/__mode`],
    ["the alertmanager stand-in", `${SANDBOX.standins.alertmanager}/__mode`],
  ];
  for (const [name, url] of probes) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) problems.push(`${name} (${url}) answered ${res.status}`);
    } catch {
      problems.push(`${name} (${url}) does not answer`);
    }
  }
  if (problems.length > 0) {
    throw new SandboxDownError(
      `The bench needs the sandbox, and it is not up: ${problems.join("; ")}.\n` +
        "Start it with `npm run sandbox:up` (the bench never starts it itself), then run `npm run bench` again.",
    );
  }
  for (const rel of [
    "dist/index.js",
    "dist/program.js",
    "dist/cli/index.js",
    "dist/policy/index.js",
    "dist/policy/pack.js",
  ]) {
    if (!fs.existsSync(path.join(REPO_ROOT, rel)))
      throw new Error(`${rel} is missing: run \`npm run build\` before \`npm run bench\`.`);
  }
}

export class BenchWorld {
  readonly work = fs.mkdtempSync(path.join(os.tmpdir(), "nova-bench-"));
  readonly backend = tempBackend("nova-bench-backend-");
  /** The compiled program and pack, copied like a clone (node_modules linked). */
  readonly checkout = productionCheckout(path.join(this.work, "checkout"));
  /** The same program run from TypeScript (runtime option typescript: true). */
  readonly tsCopy = path.join(this.work, "ts");
  /** The same checkout started from tsc's per-file output instead of the bundles (program and pack). */
  readonly unbundled = path.join(this.work, "unbundled");
  /** An empty JavaScript program (same SDK, no resources). */
  readonly empty = path.join(this.work, "empty");
  readonly namespace = `bench-${process.pid}`;
  /** Namespace of the helm baseline of the digest-change pair (the same chart, installed with helm). */
  readonly helmNamespace = `bench-helm-${process.pid}`;
  private helmRelease: BenchRelease | undefined;
  private stack: Stack | undefined;
  private emptyStack: Stack | undefined;
  private rollbackStack: Stack | undefined;

  /** The environment of every measured command: toolchain, the bench's backend and passphrase. */
  env(): Record<string, string> {
    const env = testEnv({ PULUMI_BACKEND_URL: this.backend.url, PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE });
    delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
    // No colour codes or progress animation from the CLI.
    env.PULUMI_SKIP_CONFIRMATIONS = "true";
    env.NO_COLOR = "1";
    return env;
  }

  /** Pack arguments for plain `pulumi preview`: the committed enforcement `rollout preview` picks for a sandbox stack. */
  packArgs(dir = this.checkout): string[] {
    return [
      "--policy-pack",
      path.join(dir, "policy"),
      "--policy-pack-config",
      path.join(dir, "policy", "config", "local.json"),
    ];
  }

  config(): Record<string, string> {
    return sandboxConfig({
      namespace: this.namespace,
      environment: "sandbox",
      resolver: "registry-api",
      backups: path.join(this.work, "backups"),
      evidenceDir: "tests/drills/logs",
      extra: {
        secretSource: "config",
        syntheticE2eCommand: `curl -fsS --max-time 5 ${SANDBOX.standins.api}/v1/health`,
      },
    });
  }

  /** The rollback pair's stack config for one release. */
  private rollbackConfig(release: BenchRelease): Record<string, string> {
    return sandboxConfig({
      namespace: `bench-rb-${process.pid}`,
      environment: "sandbox",
      resolver: "pinned",
      digests: RELEASES[release],
      tag: release,
      backups: path.join(this.work, "backups"),
      evidenceDir: "tests/drills/logs",
      extra: { secretSource: "config" },
    });
  }

  /** Points bench-rollback's config at the release it does not deploy now (the change a plain `up` then applies). */
  async switchRollbackDigests(): Promise<void> {
    const stack = this.rollbackStack;
    if (stack === undefined) throw new Error(`${ROLLBACK_STACK} was not set up`);
    const now = (await stack.getConfig("nova-rollout:imageTag")).value;
    const next: BenchRelease = now === "bench-r1" ? "bench-r2" : "bench-r1";
    const config = this.rollbackConfig(next);
    await stack.setAllConfig(
      Object.fromEntries(
        ["imageTag", "apiImageDigest", "workerImageDigest"].map((k) => [
          `nova-rollout:${k}`,
          { value: config[`nova-rollout:${k}`] ?? "" },
        ]),
      ),
    );
  }

  /** helm with the sandbox's kubeconfig, its cache and config kept in the bench's directory. */
  private helmArgs(...args: string[]): { cmd: string; args: string[]; env: Record<string, string> } {
    const env = this.env();
    for (const dir of ["CACHE", "CONFIG", "DATA"])
      env[`HELM_${dir}_HOME`] = path.join(this.work, "helm", dir);
    return {
      cmd: findHelm(env),
      args: [...args, "--kubeconfig", SANDBOX.kubeconfig, "--kube-context", SANDBOX.context],
      env,
    };
  }

  /**
   * `helm upgrade --install --wait` of the chart in the checkout with `release`'s digests, the values NovaRelease
   * passes for the bench stacks (staging values file, sandbox environment, 2 + 2 replicas, patchForce annotation).
   */
  private helmUpgrade(release: BenchRelease): { cmd: string; args: string[]; env: Record<string, string> } {
    const d = RELEASES[release];
    return this.helmArgs(
      "upgrade",
      "--install",
      "nova",
      path.join(this.checkout, "charts", "nova-stack"),
      "--namespace",
      this.helmNamespace,
      "--create-namespace",
      "--wait",
      "--timeout",
      "300s",
      "--values",
      path.join(this.checkout, "charts", "nova-stack", "values-staging.yaml"),
      "--set-string",
      [
        "environment=sandbox",
        `imageRegistry=${SANDBOX.imageRegistry}`,
        `release=${release}`,
        `api.image.digest=${d.api}`,
        `worker.image.digest=${d.worker}`,
        "secrets.checksum=bench",
        "commonAnnotations.pulumi\\.com/patchForce=true",
      ].join(","),
      "--set",
      "api.replicas=2,worker.replicas=2",
    );
  }

  /**
   * The playbook's own path for one digest change, timed as one command: `helm upgrade --wait` to the other release,
   * then its curl probes (API health and metrics, worker readyz, no alert firing), against the same stand-ins the
   * stacks verify.
   */
  helmChange(): RunSpec {
    const next: BenchRelease = this.helmRelease === "bench-r1" ? "bench-r2" : "bench-r1";
    this.helmRelease = next;
    return this.withProbes(this.helmUpgrade(next));
  }

  /**
   * The playbook's rollback path, timed as one command: `helm rollback --wait` to the previous revision (the release
   * before {@link helmChange}'s), then the same curl probes.
   */
  helmRollback(): RunSpec {
    this.helmRelease = this.helmRelease === "bench-r1" ? "bench-r2" : "bench-r1";
    return this.withProbes(
      this.helmArgs("rollback", "nova", "--namespace", this.helmNamespace, "--wait", "--timeout", "300s"),
    );
  }

  /** A helm command followed by the playbook's curl probes (API health and metrics, worker readyz, no alert firing). */
  private withProbes(helm: { cmd: string; args: string[]; env: Record<string, string> }): RunSpec {
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const curl = (url: string) => `curl -fsS --max-time 5 -o /dev/null ${quote(url)}`;
    const script = [
      [helm.cmd, ...helm.args].map(quote).join(" ") + " >/dev/null",
      curl(`${SANDBOX.standins.api}/v1/health`),
      curl(`${SANDBOX.standins.api}/v1/metrics`),
      curl(`${SANDBOX.standins.worker}/readyz`),
      curl(`${SANDBOX.standins.alertmanager}/api/v2/alerts?active=true`),
    ].join(" && ");
    return { cmd: "bash", args: ["-c", script], cwd: this.checkout, env: helm.env };
  }

  /** Creates the stacks, the empty program and the TypeScript copy, and runs one `up` so previews have no changes. */
  async setUp(log: (line: string) => void, opts: { rollback?: boolean; helm?: boolean } = {}): Promise<void> {
    this.makeEmptyProgram();
    this.makeTypeScriptCopy();
    await this.makeUnbundledCopy();
    log(`bench world in ${this.work}, backend ${this.backend.url}, namespace ${this.namespace}`);
    this.stack = await createOrSelectProjectStack({
      stackName: BENCH_STACK,
      workDir: this.checkout,
      backendUrl: this.backend.url,
      config: this.config(),
      secrets: SECRETS,
    });
    // The TypeScript copy previews the same stack (same project name and backend): it needs the stack file too.
    for (const copy of [this.tsCopy, this.unbundled])
      fs.copyFileSync(
        path.join(this.checkout, `Pulumi.${BENCH_STACK}.yaml`),
        path.join(copy, `Pulumi.${BENCH_STACK}.yaml`),
      );
    log(`up of ${BENCH_STACK} (once, so every preview below has no changes)…`);
    const up = await this.stack.up();
    log(`  ${JSON.stringify(up.summary.resourceChanges)}`);
    this.emptyStack = await createOrSelectProjectStack({
      stackName: EMPTY_STACK,
      workDir: this.empty,
      backendUrl: this.backend.url,
    });
    await this.emptyStack.up();
    if (opts.rollback === true) {
      // Two releases in history, so `rollout rollback` has a previous one from the first run on.
      this.rollbackStack = await createOrSelectProjectStack({
        stackName: ROLLBACK_STACK,
        workDir: this.checkout,
        backendUrl: this.backend.url,
        config: this.rollbackConfig("bench-r1"),
        secrets: SECRETS,
      });
      log(`two releases of ${ROLLBACK_STACK} (bench-r1, bench-r2)…`);
      await this.rollbackStack.up({ message: "release bench-r1" });
      await this.switchRollbackDigests();
      await this.rollbackStack.up({ message: "release bench-r2" });
    }
    if (opts.helm === true) {
      log(`helm install of the chart in ${this.helmNamespace} (bench-r1)…`);
      const install = this.helmUpgrade("bench-r1");
      await execFileAsync(install.cmd, install.args, { env: install.env, timeout: 600_000 });
      this.helmRelease = "bench-r1";
    }
  }

  private makeEmptyProgram(): void {
    fs.mkdirSync(this.empty, { recursive: true });
    fs.writeFileSync(
      path.join(this.empty, "Pulumi.yaml"),
      "name: nova-bench-empty\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n",
    );
    fs.writeFileSync(
      path.join(this.empty, "package.json"),
      JSON.stringify({ name: "nova-bench-empty", private: true, main: "index.js" }, null, 2),
    );
    fs.writeFileSync(path.join(this.empty, "index.js"), "// An empty Pulumi program: the SDK's floor.\n");
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(this.empty, "node_modules"), "dir");
  }

  /**
   * A checkout whose program and pack start from tsc's per-file output (one module per source file, every dependency
   * from node_modules), as before the bundles: the baseline of pairs (i) and (j). Compiled afresh into the copy, so
   * files a refactoring left behind in the repository's dist/ cannot shadow the current modules.
   */
  private async makeUnbundledCopy(): Promise<void> {
    productionCheckout(this.unbundled);
    const dist = path.join(this.unbundled, "dist");
    fs.rmSync(dist, { recursive: true, force: true });
    await execFileAsync(
      process.execPath,
      [
        path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"),
        "-p",
        "tsconfig.build.json",
        "--outDir",
        dist,
      ],
      { cwd: REPO_ROOT, timeout: 600_000 },
      // tsc emits even when a file elsewhere in a shared tree has type errors; only missing outputs stop the bench.
    ).catch(() => undefined);
    for (const rel of ["index.js", "policy/index.js"])
      if (!fs.existsSync(path.join(dist, rel))) throw new Error(`tsc did not emit ${rel} into ${dist}`);
    const setMain = (rel: string, main: string) => {
      const file = path.join(this.unbundled, rel);
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
      fs.writeFileSync(file, JSON.stringify({ ...pkg, main }, null, 2));
    };
    setMain("package.json", "dist/index.js");
    setMain("policy/package.json", "../dist/policy/index.js");
  }

  private makeTypeScriptCopy(): void {
    productionCheckout(this.tsCopy);
    for (const rel of ["index.ts", "src", "components"])
      fs.cpSync(path.join(REPO_ROOT, rel), path.join(this.tsCopy, rel), { recursive: true });
    const yaml = fs.readFileSync(path.join(this.tsCopy, "Pulumi.yaml"), "utf8");
    if (!/typescript: false/.test(yaml))
      throw new Error("Pulumi.yaml: runtime option `typescript: false` not found");
    fs.writeFileSync(
      path.join(this.tsCopy, "Pulumi.yaml"),
      yaml.replace("typescript: false", "typescript: true"),
    );
    const pkg = JSON.parse(fs.readFileSync(path.join(this.tsCopy, "package.json"), "utf8")) as Record<
      string,
      unknown
    >;
    fs.writeFileSync(
      path.join(this.tsCopy, "package.json"),
      JSON.stringify({ ...pkg, main: "index.ts" }, null, 2),
    );
    // The root tsconfig's compiler options, limited to the program's sources (what ts-node compiles and checks).
    const tsconfig = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "tsconfig.json"), "utf8")) as {
      compilerOptions: Record<string, unknown>;
    };
    fs.writeFileSync(
      path.join(this.tsCopy, "tsconfig.json"),
      JSON.stringify(
        {
          compilerOptions: tsconfig.compilerOptions,
          include: ["index.ts", "src/**/*.ts", "components/**/*.ts"],
        },
        null,
        2,
      ),
    );
  }

  /** Destroys the stacks (protection cleared first) and removes the world. */
  async dispose(log: (line: string) => void): Promise<void> {
    if (this.stack !== undefined) {
      try {
        await unprotectAll(this.stack);
        await this.stack.destroy();
        await this.stack.workspace.removeStack(BENCH_STACK);
      } catch (err) {
        log(`cleanup of ${BENCH_STACK} failed: ${(err as Error).message.split("\n")[0] ?? ""}`);
      }
    }
    await this.emptyStack?.destroy().catch(() => undefined);
    if (this.rollbackStack !== undefined) {
      try {
        await unprotectAll(this.rollbackStack);
        await this.rollbackStack.destroy();
      } catch (err) {
        log(`cleanup of ${ROLLBACK_STACK} failed: ${(err as Error).message.split("\n")[0] ?? ""}`);
      }
    }
    if (this.helmRelease !== undefined) {
      try {
        const uninstall = this.helmArgs("uninstall", "nova", "--namespace", this.helmNamespace, "--wait");
        await execFileAsync(uninstall.cmd, uninstall.args, { env: uninstall.env, timeout: 300_000 });
        await execFileAsync(
          "kubectl",
          [
            "--kubeconfig",
            SANDBOX.kubeconfig,
            "--context",
            SANDBOX.context,
            "delete",
            "namespace",
            this.helmNamespace,
          ],
          { env: this.env(), timeout: 120_000 },
        );
      } catch (err) {
        log(`cleanup of ${this.helmNamespace} failed: ${(err as Error).message.split("\n")[0] ?? ""}`);
      }
    }
    this.backend.cleanup();
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}
