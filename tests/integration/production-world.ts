// A production-shaped world for integration tests: a checkout of this repository with the committed policy configs
// (unmodified), its own file backend, a `staging` stack whose last update the preflight reads, and production-shaped
// stacks aimed at the sandbox cluster. Used by the gate and rollback scenarios.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation";
import { type StagingHistoryFn } from "../../src/evidence";
import { registryAccess } from "../../src/registry/access";
import { copyByDigest, skopeoRunner } from "../../src/registry/skopeo";
import { STAGING_HISTORY_DEPTH } from "../../src/evidence/checks/staging-stack";
import {
  createOrSelectInlineStack,
  createOrSelectProjectStack,
  ensureSandbox,
  freshNamespaces,
  REPO_ROOT,
  requireToolchainOrThrow,
  resetStandins,
  SANDBOX,
  tempBackend,
  TEST_PASSPHRASE,
  productionRegistryEnv,
  testEnv,
  useTestBackend,
} from "./harness";
import { destroyStacks } from "./protect";
import {
  type Digests,
  EvidenceProject,
  installTestRoster,
  PRODUCTION_REGISTRY,
  productionCheckout,
  productionRegistry,
  sandboxConfig,
  SECRETS,
  signatory,
} from "./scenario";

const execFileAsync = promisify(execFile);

export class ProductionWorld {
  readonly checkout: string;
  private readonly backend = tempBackend("nova-prod-backend-");
  private readonly stacks: Stack[] = [];
  private restoreEnv: () => void = () => undefined;
  private restorePath: () => void = () => undefined;
  private staging: Stack | undefined;

  private constructor(readonly work: string) {
    this.checkout = productionCheckout(path.join(work, "checkout"));
    // The one committed file the test replaces: the roster, with throwaway test people and preflight key, plus an
    // on-call SRE whose SSH key is a file (what `ssh-keygen -Y sign` uses when the CLI signs a rollback record).
    const keyed = (name: string, roles: string[]) => {
      const keyFile = path.join(work, "keys", name);
      fs.mkdirSync(path.dirname(keyFile), { recursive: true });
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", keyFile]);
      const sshPublicKey = fs.readFileSync(`${keyFile}.pub`, "utf8").trim();
      return { person: { name, keyFile }, entry: { name, roles, sshPublicKey } };
    };
    const sre = keyed("sre-on-call", ["sre"]);
    const cto = keyed("cleo-cto", ["cto"]);
    const manager = keyed("max-release-manager", ["release-manager"]);
    const ic = keyed("ida-incident-commander", ["incident-commander"]);
    // The CI identity of .github/workflows/rollout.yml: a roster entry whose role may request rollbacks, signing
    // with a key file the workflow writes from a secret (no person's key).
    const ci = keyed("ci-rollout", ["ci-rollout"]);
    this.sre = sre.person;
    this.ci = ci.person;
    this.cto = cto.person;
    this.releaseManager = manager.person;
    this.incidentCommander = ic.person;
    // A preflight key as a PEM file, as CI would hold it (`--signing-key` / NOVA_SIGNING_KEY_FILE).
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
    this.preflightKeyFile = path.join(work, "keys", "preflight.pem");
    fs.writeFileSync(this.preflightKeyFile, privateKey.export({ type: "pkcs8", format: "pem" }), {
      mode: 0o600,
    });
    installTestRoster(
      this.checkout,
      [sre.entry, cto.entry, manager.entry, ic.entry, ci.entry],
      [{ name: "it-ci-preflight", publicKey: publicKey.export({ type: "spki", format: "pem" }).toString() }],
    );
  }

  /** Roster people whose SSH keys are files, for records signed through the CLI (`--ssh-key`). */
  readonly cto: { readonly name: string; readonly keyFile: string };
  readonly releaseManager: { readonly name: string; readonly keyFile: string };
  /** The incident commander (role `incident-commander`), who signs decisions such as `authorize-restore`. */
  readonly incidentCommander: { readonly name: string; readonly keyFile: string };
  /** A roster preflight key (PEM private key file) for `rollout preflight --signing-key`. */
  readonly preflightKeyFile: string;

  /**
   * A roster person with an SSH key file, for records the CLI signs (`--ssh-key` / `NOVA_SSH_KEY_FILE`), e.g. the
   * rollback record: `rollBack(…, { requestedBy: world.sre.name })` with `NOVA_SSH_KEY_FILE=world.sre.keyFile`.
   */
  readonly sre: { readonly name: string; readonly keyFile: string };

  /** The CI identity (`ci-rollout`, role `ci-rollout`) with its key file, as the workflow runs `rollout up`. */
  readonly ci: { readonly name: string; readonly keyFile: string };

  /** Makes the checkout, points the CLI functions at the world's backend and creates the `staging` stack. */
  static async create(prefix: string, namespaces: readonly string[] = []): Promise<ProductionWorld> {
    requireToolchainOrThrow();
    const world = new ProductionWorld(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
    await ensureSandbox();
    await freshNamespaces(...namespaces);
    await resetStandins();
    world.restoreEnv = useTestBackend(world.backend.url);
    world.restorePath = useGcsStandin(path.join(world.work, "gcs"));
    return world;
  }

  get backendUrl(): string {
    return this.backend.url;
  }

  /**
   * Points the staging stack's last successful update at `digests` (what the preflight's staging check reads), with
   * the registry and tag it deployed from when given (what `rollout promote` copies from).
   */
  async stage(
    digests: Digests,
    from?: { readonly imageRegistry: string; readonly imageTag: string },
  ): Promise<void> {
    // A stack of the same project in the same backend, as a team's `staging` is: the CLI's preflight reads it too.
    this.staging ??= await createOrSelectInlineStack("nova-rollout", () => Promise.resolve(), {
      stackName: "staging",
      backendUrl: this.backend.url,
    });
    await this.staging.setAllConfig({
      "nova-rollout:apiImageDigest": { value: digests.api },
      "nova-rollout:workerImageDigest": { value: digests.worker },
      ...(from !== undefined
        ? {
            "nova-rollout:imageRegistry": { value: from.imageRegistry },
            "nova-rollout:imageTag": { value: from.imageTag },
          }
        : {}),
    });
    await this.staging.up();
  }

  /** The staging history reader the preflight uses. */
  readonly stagingHistory: StagingHistoryFn = async () => {
    if (this.staging === undefined) return [];
    const entries = await this.staging.history(STAGING_HISTORY_DEPTH, 1, false);
    return entries.map((e) => ({
      kind: e.kind,
      result: e.result,
      version: e.version,
      endTime: e.endTime,
      config: e.config,
    }));
  };

  /** Stack config of a production-shaped stack on the sandbox cluster, evidence where production keeps it. */
  prodConfig(namespace: string, extra: Record<string, string> = {}): Record<string, string> {
    return sandboxConfig({
      namespace,
      environment: "production",
      resolver: "pinned",
      // Production dumps go to gs:// only; the sandbox's `gcloud storage` stand-in keeps them under the world.
      backups: `gs://nova-it-backups/${namespace}`,
      evidenceDir: "tests/drills/logs",
      extra: { imageRegistry: PRODUCTION_REGISTRY, ...extra },
    });
  }

  /** Creates (or selects) a project stack of the checkout with the world's backend and the test secrets. */
  async projectStack(name: string, config: Record<string, string>): Promise<Stack> {
    const stack = await createOrSelectProjectStack({
      stackName: name,
      workDir: this.checkout,
      backendUrl: this.backend.url,
      config,
      secrets: SECRETS,
    });
    this.stacks.push(stack);
    return stack;
  }

  /**
   * The evidence of one stack of the checkout (artifacts at the checkout's root, as in a repository); with `appDir`
   * (the stack's `nova-rollout:appDir`), the rollout's evidence is in that app checkout.
   */
  evidence(stack: string, artifacts = true, appDir?: string): EvidenceProject {
    return new EvidenceProject(this.checkout, stack, "staging", PRODUCTION_REGISTRY, artifacts, appDir);
  }

  /** Every file of the world's state backend (stack state, history, backups), for what must never be in it. */
  backendFiles(): string[] {
    return filesUnderDir(this.backend.dir);
  }

  /**
   * Makes `release` ready for `stack`: staging updated to its digests, passing artifacts, a preflight bundle signed by
   * the roster's preflight key, a signed freeze window, a signed approval bound to the bundle naming the on-call SRE
   * as the deployer, and the SRE's signed update request (as `rollout up` writes with NOVA_SSH_KEY_FILE). Returns the
   * bundle's content hash.
   */
  async ready(evidence: EvidenceProject, release: string, digests: Digests): Promise<string> {
    await this.stage(digests);
    evidence.setDrillAge(1);
    evidence.setCoverage({ statements: 80, branches: 70, functions: 80, lines: 80 });
    const { bundle } = await evidence.preflight(release, digests, this.stagingHistory, {
      registry: productionRegistry(),
    });
    const failing = bundle.checks.filter((c) => c.verdict !== "pass").map((c) => `${c.id}: ${c.found}`);
    if (failing.length > 0) throw new Error(`preflight for ${release} did not pass: ${failing.join("; ")}`);
    evidence.authorise(release, { bundle, deployer: signatory(this.sre) });
    return bundle.contentSha256;
  }

  /** The committed pack arguments of an enforcement level, from the checkout. */
  committed(level: "production" | "staging" | "local"): {
    policyPacks: string[];
    policyPackConfigs: string[];
  } {
    return {
      policyPacks: [path.join(this.checkout, "policy")],
      policyPackConfigs: [path.join(this.checkout, "policy", "config", `${level}.json`)],
    };
  }

  /** Runs a command in the checkout (plain `pulumi`, the rollout CLI); never throws: the exit code and all output. */
  async run(
    cmd: string,
    args: readonly string[],
    env: Record<string, string> = {},
    drop: readonly string[] = [],
  ): Promise<{ code: number; out: string; stdout: string }> {
    const base = this.env(env, drop);
    try {
      const { stdout, stderr } = await execFileAsync(cmd, [...args], {
        cwd: this.checkout,
        env: base,
        maxBuffer: 64 * 1024 * 1024,
      });
      return { code: 0, out: `${stdout}\n${stderr}`, stdout };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === "number" ? e.code : -1,
        out: `${e.stdout ?? ""}\n${e.stderr ?? ""}`,
        stdout: e.stdout ?? "",
      };
    }
  }

  /** The environment of a command in the checkout: the world's backend and passphrase, `env` added, `drop` removed. */
  private env(env: Record<string, string>, drop: readonly string[]): Record<string, string> {
    const base = testEnv({
      PULUMI_BACKEND_URL: this.backend.url,
      PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
      ...env,
    });
    for (const name of drop) delete base[name];
    return base;
  }

  /**
   * Starts the rollout CLI of the checkout in its own process group (so the whole tree, engine and plugins included,
   * can be killed at once as a lost CI runner would be); output is collected in `output()`. `wrapper` runs it under
   * another command (e.g. `unshare --pid --fork --mount-proc`).
   */
  spawnRollout(
    args: readonly string[],
    wrapper: readonly string[] = [],
  ): { child: ChildProcess; output: () => string } {
    const [cmd = process.execPath, ...rest] = [
      ...wrapper,
      process.execPath,
      path.join(this.checkout, "dist", "cli", "index.js"),
      ...args,
    ];
    const child = spawn(cmd, rest, {
      cwd: this.checkout,
      env: this.env({}, []),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    return { child, output: () => out };
  }

  /** The state file of a stack in the world's file backend (parsed), or undefined before its first update. */
  stackState(stack: string): { checkpoint?: { latest?: { pending_operations?: unknown[] } } } | undefined {
    const file = filesUnderDir(path.join(this.backend.dir, ".pulumi", "stacks")).find(
      (f) => path.basename(f) === `${stack}.json`,
    );
    if (file === undefined) return undefined;
    try {
      return JSON.parse(fs.readFileSync(file, "utf8")) as never;
    } catch {
      return undefined; // caught while the engine rewrites it
    }
  }

  /** Lock files of a stack in the world's file backend. */
  stackLocks(stack: string): string[] {
    return filesUnderDir(path.join(this.backend.dir, ".pulumi", "locks")).filter(
      // The lock files themselves, not the file backend's `.attrs` metadata beside them.
      (f) => path.basename(path.dirname(f)) === stack && f.endsWith(".json"),
    );
  }

  /** The rollout CLI of the checkout. */
  rollout(args: readonly string[], env?: Record<string, string>, drop?: readonly string[]) {
    return this.run(
      process.execPath,
      [path.join(this.checkout, "dist", "cli", "index.js"), ...args],
      env,
      drop,
    );
  }

  /** Destroys every stack (protection cleared first), restores the environment and removes the world. */
  async dispose(): Promise<void> {
    await destroyStacks(this.stacks, this.checkout);
    await this.staging?.destroy().catch(() => undefined);
    this.restoreEnv();
    this.restorePath();
    this.backend.cleanup();
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}

/**
 * Publishes the sandbox images under another tag with other digests (the manifests converted to the Docker v2
 * schema 2 format by skopeo): a second, real release in the sandbox registry, copied by digest to the production
 * registry's address too unless `to.production` is false (then only `rollout promote` puts it there). Returns the new
 * digests.
 */
export async function publishRelease(
  tag: string,
  to: { readonly production: boolean } = { production: true },
): Promise<Digests> {
  const out: Record<string, string> = {};
  const local = registryAccess(testEnv());
  for (const repo of ["nova-rms-api", "nova-rms-worker"]) {
    const source = `${SANDBOX.imageRegistry}/${repo}:${tag}`;
    await execFileAsync("skopeo", [
      "copy",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      "--format",
      "v2s2",
      `docker://${SANDBOX.imageRegistry}/${repo}:sandbox`,
      `docker://${source}`,
    ]);
    const digest = await local.digestOf(source);
    out[repo] = digest;
    if (!to.production) continue;
    // As `rollout promote` copies: every platform, the digest preserved, the copy read back.
    await copyByDigest(
      skopeoRunner(testEnv(productionRegistryEnv())),
      `${SANDBOX.imageRegistry}/${repo}@${digest}`,
      `${PRODUCTION_REGISTRY}/${repo}:${tag}`,
      digest,
    );
  }
  return { api: out["nova-rms-api"] ?? "", worker: out["nova-rms-worker"] ?? "" };
}

/**
 * Puts the sandbox's `gcloud storage` stand-in (tools/sandbox/bin/gcloud) first on PATH for the engine, the CLI
 * functions and subprocesses, storing objects under `dir`. Returns a function restoring PATH and NOVA_SANDBOX_GCS.
 */
export function useGcsStandin(dir: string): () => void {
  const previous = { PATH: process.env.PATH, NOVA_SANDBOX_GCS: process.env.NOVA_SANDBOX_GCS };
  fs.mkdirSync(dir, { recursive: true });
  process.env.PATH = [path.join(REPO_ROOT, "tools", "sandbox", "bin"), process.env.PATH ?? ""].join(
    path.delimiter,
  );
  process.env.NOVA_SANDBOX_GCS = dir;
  return () => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** Every file under `dir` (none when it does not exist). */
function filesUnderDir(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}
