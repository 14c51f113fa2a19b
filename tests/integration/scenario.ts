// Building blocks of the rollout scenarios: stack config shaped like the committed stacks but aimed at the sandbox,
// policy-pack configs pointing at a test's own evidence, and readers for what the engine and the cluster hold.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation";
import {
  collectEvidence,
  evidenceTimestamp as stamp,
  keyIdOf,
  readSignedBundles,
  type Roster,
  type Signer,
  sshPublicKeyLine,
  sshSignWithKey,
  signRecord,
  type UpdateRequestRecord,
  writeRecord,
  writeSignedEvidence,
  type CollectorOptions,
  type EvidenceBundle,
  type RegistryAccess,
  type StagingHistoryFn,
} from "../../src/evidence";
import { updateRequestsDir } from "../../src/evidence/update-requests";
import { registryAccess } from "../../src/registry/access";
import { kubectl, productionRegistryEnv, REPO_ROOT, SANDBOX, sandboxImageDigests, testEnv } from "./harness";

/** Secret values unique to this run, so a leak cannot be confused with anything committed. */
const runId = crypto.randomBytes(6).toString("hex");
export const SECRETS = {
  "nova-rollout:databaseUrl": SANDBOX.postgresUrl,
  "nova-rollout:rehearsalDatabaseUrl": SANDBOX.postgresUrl.replace(/\/nova$/, "/nova_rehearsal"),
  "nova-rollout:jwtSigningKey": `it-jwt-signing-key-${runId}`,
  "nova-rollout:billingApiKey": `it-billing-api-key-${runId}`,
  "nova-rollout:secretsChecksumKey": `it-secrets-checksum-key-${runId}-${crypto.randomBytes(16).toString("hex")}`,
} as const;
/** The values that must never appear in plain text (the sandbox database URL has no password, so it is not one). */
export const PLAINTEXT_CANARIES = [
  SECRETS["nova-rollout:jwtSigningKey"],
  SECRETS["nova-rollout:billingApiKey"],
  SECRETS["nova-rollout:secretsChecksumKey"],
];

export interface Digests {
  readonly api: string;
  readonly worker: string;
}

/** A digest pair that no registry holds: fine for `pinned` stacks on kwok, where images are never pulled. */
export function fakeDigests(seed: string): Digests {
  const d = (s: string) => `sha256:${crypto.createHash("sha256").update(`${seed}/${s}`).digest("hex")}`;
  return { api: d("api"), worker: d("worker") };
}

/** Stack config (full keys) for the program on the sandbox. */
export function sandboxConfig(opts: {
  namespace: string;
  environment?: "sandbox" | "production";
  resolver?: "pinned" | "registry-api";
  digests?: Digests;
  tag?: string;
  backups: string;
  evidenceDir: string;
  extra?: Record<string, string>;
}): Record<string, string> {
  const digests = opts.digests ?? sandboxImageDigests();
  const production = opts.environment === "production";
  const c: Record<string, string> = {
    environment: opts.environment ?? "sandbox",
    namespace: opts.namespace,
    clusterMode: "kubeconfig",
    kubeconfigPath: SANDBOX.kubeconfig,
    kubeconfigContext: SANDBOX.context,
    imageRegistry: SANDBOX.imageRegistry,
    imageTag: opts.tag ?? SANDBOX.imageTag,
    apiImageDigest: digests.api,
    workerImageDigest: digests.worker,
    imageResolver: opts.resolver ?? "registry-api",
    apiReplicas: "2",
    workerReplicas: "2",
    autoscalingEnabled: production ? "true" : "false",
    apiMaxReplicas: "4",
    workerMaxReplicas: "4",
    backupDestination: opts.backups,
    migrationCommand:
      'psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -qAt -c "CREATE TABLE IF NOT EXISTS release_marker (release text PRIMARY KEY)"',
    apiBaseUrl: SANDBOX.standins.api,
    alertmanagerUrl: SANDBOX.standins.alertmanager,
    verifyAttempts: "3",
    verifyTimeoutSeconds: "5",
    evidenceDir: opts.evidenceDir,
    // Production declares its metric checks (the pack refuses it otherwise); the Prometheus stand-in evaluates
    // vector(<number>) itself, so this one passes unless a test sets its own checks.
    ...(production
      ? {
          // Production serves the API through its Ingress and verifies it there: on the sandbox the Ingress is
          // served by the sandbox's gateway (tools/sandbox/ingress-gateway.mjs), which publishes its address.
          ...sandboxApiRoute(opts.namespace),
          prometheusUrl: SANDBOX.prometheus,
          metricChecks: JSON.stringify([
            {
              name: "error-ratio",
              query: "vector(0)",
              condition: "< 0.01",
              evaluations: 1,
              intervalSeconds: 1,
            },
          ]),
        }
      : {}),
    ...opts.extra,
  };
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [`nova-rollout:${k}`, v]));
}

/**
 * The API's public entry of a production-shaped stack in `namespace`: an Ingress for `api.<namespace>.nova-rms.example`
 * (the static address and certificate names are the platform's pattern) and the API's address on that host.
 */
export function sandboxApiRoute(namespace: string): { apiIngress: string; apiBaseUrl: string } {
  const host = `api.${namespace}.nova-rms.example`;
  return {
    apiIngress: JSON.stringify({
      host,
      staticIpName: `nova-${namespace}-api-ip`,
      certificateName: `nova-${namespace}-api-cert`,
    }),
    apiBaseUrl: `https://${host}`,
  };
}

/**
 * A policy-pack config file: the committed one for `base`, with every policy that reads evidence pointed at the
 * given project and evidence directories.
 */
export function policyConfigFile(
  dir: string,
  base: "local" | "staging" | "production",
  location: { projectDir: string; evidenceDir: string },
): string {
  const committed = JSON.parse(
    fs.readFileSync(path.join(REPO_ROOT, "policy", "config", `${base}.json`), "utf8"),
  ) as Record<string, Record<string, unknown>>;
  const located = [
    "nova-readiness-gate",
    "nova-change-freeze",
    "nova-leadership-approval",
    "nova-break-glass-override",
  ];
  for (const name of located) {
    if (committed[name] !== undefined) committed[name] = { ...committed[name], ...location };
  }
  const file = path.join(dir, `policy-${base}.json`);
  fs.writeFileSync(file, JSON.stringify(committed, null, 2));
  return file;
}

/** The engine's state of a stack: type and name of every resource. */
export async function stateResources(stack: Stack): Promise<{ type: string; urn: string }[]> {
  const exported = await stack.exportStack();
  const resources = (exported.deployment as { resources?: { type: string; urn: string }[] }).resources ?? [];
  return resources.map((r) => ({ type: r.type, urn: r.urn }));
}

/** The billing drill CronJob's `spec.suspend` in a namespace ("true" while a release holds it paused). */
export function cronJobSuspended(namespace: string): Promise<string> {
  return kubectl("get", "cronjob", "nova-billing-drill", "-n", namespace, "-o", "jsonpath={.spec.suspend}");
}

/** The images and readiness of the Deployments in a namespace. */
export async function deployments(
  namespace: string,
): Promise<Record<string, { image: string; replicas: number; ready: number }>> {
  const list = JSON.parse(await kubectl("get", "deployments", "-n", namespace, "-o", "json")) as {
    items: {
      metadata: { name: string };
      spec: { replicas?: number; template: { spec: { containers: { image: string }[] } } };
      status: { readyReplicas?: number };
    }[];
  };
  return Object.fromEntries(
    list.items.map((d) => [
      d.metadata.name,
      {
        image: d.spec.template.spec.containers[0]?.image ?? "",
        replicas: d.spec.replicas ?? 0,
        ready: d.status.readyReplicas ?? 0,
      },
    ]),
  );
}

/** A throwaway person of the test roster: name, roles and an ed25519 SSH key (private half in memory only). */
export interface TestPerson {
  readonly name: string;
  readonly roles: readonly string[];
  readonly privateKey: crypto.KeyObject;
  readonly sshPublicKey: string;
}
function person(name: string, roles: string[]): TestPerson {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
  return { name, roles, privateKey, sshPublicKey: sshPublicKeyLine(publicKey, name.replace(/\s+/g, "_")) };
}
function signer(): { signer: Signer; publicPem: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
  return {
    signer: { keyid: keyIdOf(publicKey), sign: (d) => Promise.resolve(crypto.sign(null, d, privateKey)) },
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}
/** The people and keys the integration tests put in the checkout's roster (like a reviewed commit adding them). */
export const PEOPLE = {
  approver: person("Dana Lee", ["cto"]),
  releaseManager: person("Rae Manager", ["release-manager"]),
  deployer: person("Riley Deployer", ["engineer"]),
  incidentCommander: person("Sam Ortiz", ["incident-commander"]),
  engineer: person("Eve Engineer", ["engineer"]),
  sre: person("Sol Reliability", ["sre"]),
};
const preflightKey = signer();
/** The preflight key of the test roster, and one that is not in it. */
export const PREFLIGHT_SIGNER = preflightKey.signer;
export const STRANGER_SIGNER = signer().signer;
export const TEST_ROSTER: Roster = {
  people: Object.values(PEOPLE).map((p) => ({
    name: p.name,
    roles: [...p.roles],
    sshPublicKey: p.sshPublicKey,
  })),
  preflightKeys: [{ name: "it-preflight", publicKey: preflightKey.publicPem }],
};
/**
 * Replaces the roster of a checkout with the test roster plus `extra` people (the only committed file a test changes,
 * like a reviewed commit adding people).
 */
export function installTestRoster(
  checkout: string,
  extra: Roster["people"] = [],
  extraPreflightKeys: Roster["preflightKeys"] = [],
): void {
  const file = path.join(checkout, "policy", "trust", "roster.json");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const roster: Roster = {
    people: [...TEST_ROSTER.people, ...extra],
    preflightKeys: [...TEST_ROSTER.preflightKeys, ...extraPreflightKeys],
  };
  fs.writeFileSync(file, `${JSON.stringify(roster, null, 2)}\n`);
}
/** Signs a record file as `ssh-keygen -Y sign -n nova-rollout` would with the person's key. */
export function signAs(file: string, who: TestPerson): void {
  fs.writeFileSync(`${file}.sig`, sshSignWithKey(fs.readFileSync(file), who.privateKey));
}

/** Someone who signs records: a roster name and how their signature is made. */
export interface Signatory {
  readonly name: string;
  readonly sign: (file: string) => void;
}

/** A test roster person (key in memory) or a roster person whose SSH key is a file (signed with `ssh-keygen`). */
export function signatory(who: TestPerson | { readonly name: string; readonly keyFile: string }): Signatory {
  return "keyFile" in who
    ? { name: who.name, sign: (file) => void signRecord(file, who.keyFile) }
    : { name: who.name, sign: (file) => signAs(file, who) };
}

const DAY = 86_400_000;
const FIXTURES = path.join(REPO_ROOT, "tests", "fixtures", "evidence");

/** A project directory holding the release's evidence artifacts (coverage, E2E report, drill and seed logs, docs). */
export class EvidenceProject {
  readonly evidenceDir: string;
  constructor(
    readonly dir: string,
    readonly stack: string,
    readonly stagingStack: string,
    /** The registry the release's images are checked in (and the stack deploys from). */
    readonly imageRegistry: string = SANDBOX.imageRegistry,
    /**
     * Whether the artifacts live here (the default). Without: nothing is written into `dir`, and the preflight reads
     * them from an app checkout (`appDir`, see {@link EvidenceProject.preflight}).
     */
    artifacts = true,
    /**
     * The stack's app checkout (`nova-rollout:appDir`), when it has one: the rollout's own evidence lives there, in
     * its `tests/drills/logs/`, as the playbook keeps it.
     */
    readonly appDir?: string,
  ) {
    this.evidenceDir = path.join(appDir ?? dir, "tests", "drills", "logs");
    if (!artifacts) return;
    this.write(
      "coverage/coverage-summary.json",
      fs.readFileSync(path.join(FIXTURES, "coverage-summary.json")),
    );
    this.write(
      "playwright-report/results.json",
      fs.readFileSync(path.join(FIXTURES, "playwright-report.json")),
    );
    this.write("docs/runbooks/rollout.md", "# Rollout runbook\n");
    this.write("STATUS.md", "# Status\n");
    this.write("TODO.md", "# TODO\n");
    this.write(
      `tests/drills/logs/${stagingStack}/${stamp(new Date(Date.now() - DAY))}-seed-sample-data.log`,
      fs.readFileSync(path.join(FIXTURES, "seed-sample-data.log")),
    );
    this.setDrillAge(1);
  }

  write(rel: string, content: string | Buffer): string {
    const abs = path.join(this.dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
    return abs;
  }

  /** Replaces the billing-drill log with one `days` old. */
  setDrillAge(days: number): void {
    const logs = path.join(this.evidenceDir, this.stagingStack);
    fs.mkdirSync(logs, { recursive: true });
    for (const f of fs.readdirSync(logs).filter((n) => n.includes("billing-drill")))
      fs.rmSync(path.join(logs, f));
    this.write(
      `tests/drills/logs/${this.stagingStack}/${stamp(new Date(Date.now() - days * DAY))}-billing-drill.log`,
      fs.readFileSync(path.join(FIXTURES, "billing-drill.log")),
    );
  }

  setCoverage(pct: { statements: number; branches: number; functions: number; lines: number }): void {
    const summary = JSON.parse(fs.readFileSync(path.join(FIXTURES, "coverage-summary.json"), "utf8")) as {
      total: Record<string, { pct: number }>;
    };
    for (const [k, v] of Object.entries(pct)) if (summary.total[k]) summary.total[k].pct = v;
    this.write("coverage/coverage-summary.json", JSON.stringify(summary, null, 2));
  }

  /** Removes every bundle and record of the stack (each case starts from nothing). */
  clear(): void {
    fs.rmSync(path.join(this.evidenceDir, this.stack), { recursive: true, force: true });
  }

  /** The docs name the release (the docs checks judge them by content), as the release's doc updates would. */
  nameRelease(release: string): void {
    for (const doc of ["docs/runbooks/rollout.md", "STATUS.md", "TODO.md"]) {
      const file = path.join(this.dir, doc);
      if (!fs.readFileSync(file, "utf8").includes(release))
        fs.appendFileSync(file, `\nRelease ${release}.\n`);
    }
  }

  /**
   * Runs the real collector (registry and stack history included) and writes the bundle like `preflight`, signed
   * (DSSE envelope) with the test roster's preflight key unless another signer is given.
   */
  async preflight(
    release: string,
    digests: Digests,
    history: StagingHistoryFn,
    overrides: Partial<CollectorOptions> = {},
    signWith: Signer = PREFLIGHT_SIGNER,
  ): Promise<{ bundle: EvidenceBundle; json: string; envelope: string }> {
    const now = overrides.now ?? new Date();
    // An app checkout's docs are its own.
    if (overrides.appDir === undefined) this.nameRelease(release);
    const bundle = await collectEvidence({
      settings: {
        stack: this.stack,
        project: "nova-rollout",
        release,
        digests,
        imageRegistry: this.imageRegistry,
        kubeconfigPath: SANDBOX.kubeconfig,
        kubeconfigContext: SANDBOX.context,
        evidenceDir: "tests/drills/logs",
        ...(this.appDir !== undefined ? { appDir: this.appDir } : {}),
      },
      projectDir: this.dir,
      now,
      releaseCut: new Date(now.getTime() - 2 * DAY),
      stagingStack: this.stagingStack,
      stagingHistory: history,
      ranBy: PEOPLE.deployer.name,
      ...overrides,
    });
    const files = await writeSignedEvidence(bundle, this.evidenceDir, [], signWith);
    return { bundle, json: files.json, envelope: files.envelope };
  }

  /** The newest bundle signed by the test roster's preflight key, if any. */
  newestSigned(): EvidenceBundle | undefined {
    return readSignedBundles(this.evidenceDir, this.stack, TEST_ROSTER.preflightKeys).ok[0]?.bundle;
  }

  /**
   * Records an active change freeze (signed by the release manager) and a leadership approval for the release, signed
   * by the approver, naming the deployer and bound to the newest signed bundle and its digests.
   */
  authorise(
    release: string,
    opts: { approver?: TestPerson; deployer?: TestPerson | Signatory; bundle?: EvidenceBundle } = {},
  ): void {
    const now = Date.now();
    const bundle = opts.bundle ?? this.newestSigned();
    const freeze = writeRecord(
      this.evidenceDir,
      {
        kind: "freeze",
        stack: this.stack,
        start: new Date(now - 3_600_000).toISOString(),
        end: new Date(now + 4 * 3_600_000).toISOString(),
        reason: "integration test release window",
        declaredBy: PEOPLE.releaseManager.name,
      },
      new Date(now),
    );
    signAs(freeze, PEOPLE.releaseManager);
    const approver = opts.approver ?? PEOPLE.approver;
    const approval = writeRecord(
      this.evidenceDir,
      {
        kind: "approval",
        stack: this.stack,
        release,
        approvedBy: approver.name,
        deployer: (opts.deployer ?? PEOPLE.deployer).name,
        ...(bundle !== undefined
          ? { imageDigests: bundle.imageDigests, bundleSha256: bundle.contentSha256 }
          : {}),
        approvedAt: new Date(now - 60_000).toISOString(),
        expiresAt: new Date(now + 4 * 3_600_000).toISOString(),
      },
      new Date(now),
    );
    signAs(approval, approver);
    // The deployer presents the deploy's identity: their signed update request (the program guard requires it).
    const deployer = opts.deployer ?? PEOPLE.deployer;
    if (bundle !== undefined) {
      this.requestUpdate(bundle, "sign" in deployer ? deployer : signatory(deployer));
    }
  }

  /** Writes the deployer's signed update request for the release of `bundle` (what `rollout request-update` does). */
  requestUpdate(bundle: EvidenceBundle, deployer: Signatory): string {
    const now = new Date();
    const record: UpdateRequestRecord = {
      kind: "update-request",
      stack: this.stack,
      release: bundle.release,
      imageDigests: bundle.imageDigests,
      bundleSha256: bundle.contentSha256,
      requestedBy: deployer.name,
      createdAt: now.toISOString(),
    };
    const dir = updateRequestsDir(this.evidenceDir, this.stack);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(
      dir,
      `update-request-${bundle.release}-${stamp(now)}-${crypto.randomBytes(3).toString("hex")}.json`,
    );
    fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    deployer.sign(file);
    return file;
  }
}

/** Flips one byte of a file (a tampered artifact or bundle). */
export function flipByte(file: string, offset = 10): void {
  const bytes = fs.readFileSync(file);
  const i = Math.min(offset, bytes.length - 1);
  bytes[i] = (bytes[i] ?? 0) ^ 0x01;
  fs.writeFileSync(file, bytes);
}

/** Makes the api stand-in answer `status` for the next `count` requests, then recover. */
export async function failApiFor(count: number, status = 500): Promise<void> {
  const res = await fetch(`${SANDBOX.standins.api}/__mode`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ status, count }),
  });
  if (!res.ok) throw new Error(`stand-in api: POST /__mode answered ${res.status}`);
}

/** Every file under a directory, recursively. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** The committed production registry (policy/config/production.json `allowedRegistries`). */
export const PRODUCTION_REGISTRY = SANDBOX.productionRegistry.imageRegistry;

/**
 * The preflight's registry access to the production registry's address on the sandbox: skopeo and nova-registry-check
 * through the front (`productionRegistryEnv`), with the pushing account's credentials unless `authFile` says otherwise.
 */
export function productionRegistry(authFile?: string): RegistryAccess {
  return registryAccess(testEnv(productionRegistryEnv(authFile)));
}

/**
 * A production-shaped checkout of this repository in `dir`, as a colleague's clone would be: the compiled program
 * and pack (`dist/`), the chart, `Pulumi.yaml`, `package.json` and the committed policy configs, copied unmodified;
 * `node_modules` linked. Its evidence lives where the committed production enforcement says (`tests/drills/logs`).
 */
export function productionCheckout(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const rel of [
    "Pulumi.yaml",
    "package.json",
    "dist",
    "charts",
    "policy/PulumiPolicy.yaml",
    "policy/package.json",
    "policy/config",
    "policy/trust",
  ]) {
    fs.cpSync(path.join(REPO_ROOT, rel), path.join(dir, rel), { recursive: true });
  }
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

/** What a CLI run returns in the integration tests. */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly stdout: string;
}

/**
 * `rollout rollback --to <version> --yes --json` through `run` (one operator's CLI); asserts it succeeded and restored
 * exactly that version.
 */
export async function cliRollbackTo(
  run: (args: readonly string[]) => Promise<CliRun>,
  stack: string,
  version: number | undefined,
): Promise<void> {
  expect(version).toBeDefined();
  const r = await run([
    "rollback",
    "--stack",
    stack,
    "--to",
    String(version),
    "--yes",
    "--reason",
    "drill",
    "--json",
  ]);
  expect(r.code, r.out).toBe(0);
  // With --json every stdout line is one JSON object: the progress events, then the result.
  const lines = r.stdout
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as { event?: string; target?: { version: number } });
  expect(lines.slice(0, -1).every((e) => e.event === "step" || e.event === "check")).toBe(true);
  expect(lines.at(-1)?.target?.version).toBe(version);
}
