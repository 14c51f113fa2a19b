/**
 * Temp-dir project fixtures: a Pulumi.yaml named nova-rollout, a stack file, every artifact the collector reads
 * (copied from tests/fixtures/evidence and mutated per case), and a bundle produced by the real collector.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { standinKubeconfig } from "../support/kube-api-standin";
import {
  collectEvidence,
  type CollectorOptions,
  type EvidenceBundle,
  evidenceTimestamp,
  type RegistryAccess,
  type ImageDigests,
  readNewestBundle,
  readRecords,
  verifyReadiness,
  projectFileReader,
  type Roster,
  type Signer,
  keyIdOf,
  sshPublicKeyLine,
  sshSignWithKey,
  writeSignedEvidence,
  gateInputFor,
  judgeOverrides,
  loadProductionEnforcement,
  readStackConfigFile,
  overrideRulesFor,
} from "../../src/evidence";

export const FIXTURES = path.resolve(__dirname, "../fixtures/evidence");
export const DIGESTS: ImageDigests = { api: `sha256:${"a".repeat(64)}`, worker: `sha256:${"b".repeat(64)}` };
export const OTHER_DIGESTS: ImageDigests = {
  api: `sha256:${"c".repeat(64)}`,
  worker: `sha256:${"d".repeat(64)}`,
};
export const RELEASE = "2026.11.3";
/** The committed production registry (policy/config/production.json allowedRegistries). */
export const REGISTRY = "us-docker.pkg.dev/nova-prod/nova";
/** A fixed clock for every fixture. */
export const NOW = new Date("2026-11-25T18:30:00Z");
const DAY = 86_400_000;

/** Throwaway people of the test roster (a reviewed commit would add real ones): name → roles and SSH key. */
const person = (name: string, roles: string[]) => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
  return { name, roles, privateKey, sshPublicKey: sshPublicKeyLine(publicKey, name.replace(/\s+/g, "_")) };
};
export const PEOPLE = {
  approver: person("Dana Lee", ["vp-engineering"]),
  cto: person("Chris Wu", ["cto"]),
  releaseManager: person("release-manager", ["release-manager"]),
  incidentCommander: person("Sam Ortiz", ["incident-commander"]),
  deployer: person("Riley Deployer", ["engineer"]),
  sre: person("sre-on-call", ["sre"]),
  engineer: person("Eve Engineer", ["engineer"]),
};
const preflightKeys = crypto.generateKeyPairSync("ed25519");
/** The preflight signing key of the test roster. */
export const PREFLIGHT_SIGNER: Signer = {
  keyid: keyIdOf(preflightKeys.publicKey),
  sign: (data) => Promise.resolve(crypto.sign(null, data, preflightKeys.privateKey)),
};
/** A key that is not in the trust roster. */
const strangerKeys = crypto.generateKeyPairSync("ed25519");
export const STRANGER_SIGNER: Signer = {
  keyid: keyIdOf(strangerKeys.publicKey),
  sign: (data) => Promise.resolve(crypto.sign(null, data, strangerKeys.privateKey)),
};
export const TEST_ROSTER: Roster = {
  people: Object.values(PEOPLE).map((p) => ({ name: p.name, roles: p.roles, sshPublicKey: p.sshPublicKey })),
  preflightKeys: [
    {
      name: "test-preflight",
      publicKey: preflightKeys.publicKey.export({ type: "spki", format: "pem" }).toString(),
    },
  ],
};

/** Signs a record file as `name` of the test roster (writes `<file>.sig`, like `ssh-keygen -Y sign`). */
export function signRecordAs(file: string, name: string): void {
  const p = Object.values(PEOPLE).find((x) => x.name === name);
  if (p === undefined) return;
  fs.writeFileSync(`${file}.sig`, sshSignWithKey(fs.readFileSync(file), p.privateKey));
}

/** Signs a record file as the person it names (declaredBy / approvedBy / incidentCommander / requestedBy). */
export function signRecord(file: string): void {
  try {
    const r = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    const who = r["declaredBy"] ?? r["approvedBy"] ?? r["incidentCommander"] ?? r["requestedBy"];
    if (typeof who === "string") signRecordAs(file, who);
  } catch {
    // not a record: nothing to sign
  }
}

/** The API route of a production fixture stack: apiBaseUrl names the host its Ingress (`apiIngress`) serves. */
export const API_HOST = "api.nova-rms.example";
export const PRODUCTION_API_ROUTE: Readonly<Record<string, string>> = {
  "nova-rollout:apiBaseUrl": `https://${API_HOST}`,
  "nova-rollout:apiIngress": JSON.stringify({
    host: API_HOST,
    staticIpName: "nova-prod-api-ip",
    certificateName: "nova-prod-api-cert",
  }),
};

export interface ProjectFixture {
  readonly dir: string;
  readonly stack: string;
  readonly evidenceDir: string;
  cleanup(): void;
  write(rel: string, content: string | Buffer): string;
}

export interface ProjectOptions {
  readonly stack?: string;
  readonly environment?: string;
  readonly release?: string;
  readonly digests?: ImageDigests;
  readonly extraConfig?: Record<string, unknown>;
}

/** Creates a temp project with the stack file and passing artifacts. */
export function makeProject(opts: ProjectOptions = {}): ProjectFixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-evidence-"));
  const stack = opts.stack ?? "production";
  const write = (rel: string, content: string | Buffer): string => {
    const abs = path.join(dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
    // Records are signed by the person they name, as `rollout freeze/approve/override --ssh-key` does.
    if (/\/records\/[^/]+\.json$/.test(rel)) signRecord(abs);
    return abs;
  };
  const digests = opts.digests ?? DIGESTS;
  const environment = opts.environment ?? "production";
  write("Pulumi.yaml", stringify({ name: "nova-rollout", runtime: "nodejs" }));
  // The committed enforcement, as in a checkout: protected targets, baseline and thresholds.
  write(
    "policy/config/production.json",
    fs.readFileSync(path.resolve(__dirname, "../../policy/config/production.json")),
  );
  // The roster the committed production.json references, with this test's throwaway people and preflight key.
  write("policy/trust/roster.json", JSON.stringify(TEST_ROSTER, null, 2));
  write(
    `Pulumi.${stack}.yaml`,
    stringify({
      config: {
        "nova-rollout:environment": environment,
        "nova-rollout:imageTag": opts.release ?? RELEASE,
        "nova-rollout:apiImageDigest": digests.api,
        "nova-rollout:workerImageDigest": digests.worker,
        "nova-rollout:imageRegistry": REGISTRY,
        "nova-rollout:kubeconfigPath": "kubeconfig.yaml",
        "nova-rollout:kubeconfigContext": "nova-prod",
        "nova-rollout:pausedCronJobs": ["nova-billing-drill"],
        "nova-rollout:requiredSecrets": ["databaseUrl", "jwtSigningKey", "billingApiKey"],
        "nova-rollout:databaseUrl": { secure: "v1:AAAA" },
        // Production serves the API through its Ingress (required there) and verifies it at that host.
        ...(environment === "production" ? PRODUCTION_API_ROUTE : {}),
        // A key set to undefined here is left out of the stack file.
        ...opts.extraConfig,
      },
    }),
  );
  const copy = (from: string, to: string) => write(to, fs.readFileSync(path.join(FIXTURES, from)));
  copy("coverage-summary.json", "coverage/coverage-summary.json");
  copy("playwright-report.json", "playwright-report/results.json");
  // A kubeconfig whose contexts reach the layer's stand-in API server (tests/support/kube-api-standin.ts).
  write("kubeconfig.yaml", standinKubeconfig());
  copy(
    "seed-sample-data.log",
    `tests/drills/logs/staging/${evidenceTimestamp(new Date(NOW.getTime() - DAY))}-seed-sample-data.log`,
  );
  setDrillAge({ dir, write }, 1);
  // The docs name the release: the docs checks judge them by content.
  write("docs/runbooks/rollout.md", `# Rollout runbook\n\nRelease ${RELEASE}.\n`);
  write("STATUS.md", `# Status\n\nRelease ${RELEASE} is cut.\n`);
  write("TODO.md", `# TODO\n\n- [ ] Launch ${RELEASE}\n`);
  return {
    dir,
    stack,
    evidenceDir: path.join(dir, "tests/drills/logs"),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    write,
  };
}

/** A sandbox stack `local`, aimed at no protected target. */
export const SANDBOX_PROJECT: ProjectOptions = {
  stack: "local",
  environment: "sandbox",
  extraConfig: {
    "nova-rollout:namespace": "nova-sandbox",
    "nova-rollout:kubeconfigContext": "nova-sandbox",
    "nova-rollout:imageRegistry": "127.0.0.1:35000/nova",
  },
};

/** A sandbox project (stack `local`) with passing artifacts. */
export function makeSandboxProject(): ProjectFixture {
  return makeProject(SANDBOX_PROJECT);
}

/** Replaces the billing drill log with one `days` old (timestamp in the file name). */
export function setDrillAge(p: Pick<ProjectFixture, "dir" | "write">, days: number): void {
  const logs = path.join(p.dir, "tests/drills/logs/staging");
  if (fs.existsSync(logs)) {
    for (const f of fs.readdirSync(logs).filter((n) => n.includes("billing-drill"))) {
      fs.rmSync(path.join(logs, f));
    }
  }
  const when = new Date(NOW.getTime() - days * DAY);
  p.write(
    `tests/drills/logs/staging/${evidenceTimestamp(when)}-billing-drill.log`,
    fs.readFileSync(path.join(FIXTURES, "billing-drill.log")),
  );
}

/** Sets coverage percentages (statements/branches/functions/lines). */
export function setCoverage(
  p: ProjectFixture,
  pct: { statements: number; branches: number; functions: number; lines: number },
): void {
  const summary = JSON.parse(fs.readFileSync(path.join(FIXTURES, "coverage-summary.json"), "utf8")) as {
    total: Record<string, { pct: number }>;
  };
  for (const [k, v] of Object.entries(pct)) {
    const m = summary.total[k];
    if (m) m.pct = v;
  }
  p.write("coverage/coverage-summary.json", JSON.stringify(summary, null, 2));
}

/**
 * A registry that resolves each image's tag to the given digests and accepts pushes, except to the repositories named
 * in `pushDenied` (which answer as a registry refusing the caller's token).
 */
export function fakeRegistry(
  digests: ImageDigests = DIGESTS,
  opts: { readonly pushDenied?: readonly string[] } = {},
): RegistryAccess {
  return {
    digestOf: (ref) => {
      const digest = ref.includes("/nova-rms-api:")
        ? digests.api
        : ref.includes("/nova-rms-worker:")
          ? digests.worker
          : undefined;
      return digest === undefined
        ? Promise.reject(new Error(`${ref}: manifest unknown`))
        : Promise.resolve(digest);
    },
    pushPermission: (repository) =>
      Promise.resolve(
        (opts.pushDenied ?? []).some((r) => repository.endsWith(`/${r}`))
          ? { ok: false, detail: "HTTP 401 UNAUTHORIZED: authentication required" }
          : { ok: true, detail: `${repository} (an upload was started and cancelled)` },
      ),
  };
}

/** A registry this machine cannot use: every read fails with `why`, every push is refused. */
export function offlineRegistry(why = "dial tcp: connection refused"): RegistryAccess {
  return {
    digestOf: (ref) => Promise.reject(new Error(`${ref}: ${why}`)),
    pushPermission: () => Promise.resolve({ ok: false, detail: why }),
  };
}

/** Collector options that pass against a fresh fixture project. */
export function passingOptions(
  p: ProjectFixture,
  overrides: Partial<CollectorOptions> = {},
): CollectorOptions {
  return {
    settings: {
      stack: p.stack,
      project: "nova-rollout",
      release: RELEASE,
      digests: DIGESTS,
      imageRegistry: REGISTRY,
      kubeconfigPath: "kubeconfig.yaml",
      kubeconfigContext: "nova-prod",
      evidenceDir: "tests/drills/logs",
    },
    projectDir: p.dir,
    now: NOW,
    releaseCut: new Date(NOW.getTime() - 2 * DAY),
    registry: fakeRegistry(),
    stagingHistory: () =>
      Promise.resolve([
        {
          kind: "update",
          result: "succeeded",
          version: 7,
          endTime: new Date(NOW.getTime() - DAY),
          config: {
            "nova-rollout:apiImageDigest": { value: DIGESTS.api, secret: false },
            "nova-rollout:workerImageDigest": { value: DIGESTS.worker, secret: false },
          },
        },
      ]),
    updatedAt: () => ({ date: new Date(NOW.getTime() - 3_600_000), how: "mtime" }),
    ...overrides,
  };
}

/** Runs the real collector and writes the bundle + report like `preflight` does. */
export async function produceBundle(
  p: ProjectFixture,
  overrides: Partial<CollectorOptions> = {},
  signer: Signer = PREFLIGHT_SIGNER,
): Promise<{ bundle: EvidenceBundle; json: string; markdown: string; envelope: string }> {
  const records = readRecords(p.evidenceDir, p.stack).overrides;
  const rules = overrideRulesFor({
    projectDir: p.dir,
    evidenceDir: p.evidenceDir,
    stack: p.stack,
    release: RELEASE,
    digests: DIGESTS,
    // The stack's class as the gate sees it (a staging-labelled stack aimed at a protected target is production).
    production: (() => {
      const input = gateInputFor({
        stack: p.stack,
        config: readStackConfigFile(p.dir, p.stack) ?? {},
        projectDir: p.dir,
        now: NOW,
      });
      return "enforcementError" in input || input.stackClass.production;
    })(),
    sandbox: p.stack === "local",
    enforcement: (() => {
      try {
        return loadProductionEnforcement(p.dir);
      } catch (e) {
        return { roster: { error: (e as Error).message }, overrideMaxHours: 24 };
      }
    })(),
  });
  const opts = passingOptions(p, { overrides: { records, rules }, ...overrides });
  const bundle = await collectEvidence(opts);
  const judged = judgeOverrides(records, rules, { stack: bundle.stack, release: bundle.release }, opts.now);
  const findings = verifyReadiness({
    bundle: { status: "ok", path: "(memory)", bundle, bytes: Buffer.from(JSON.stringify(bundle)) },
    expected: { stack: bundle.stack, release: bundle.release, digests: bundle.imageDigests },
    now: opts.now,
    maxAgeHours: 24,
    override: judged.counted,
    readFile: projectFileReader(p.dir),
  }).filter((f) => f.checkId !== "bundle");
  const files = await writeSignedEvidence(bundle, p.evidenceDir, findings, signer);
  return { bundle, ...files };
}

/** Verifies the newest bundle on disk against the fixture's expected release. */
export function verifyOnDisk(
  p: ProjectFixture,
  expected: { release?: string; digests?: ImageDigests } = {},
  now = NOW,
) {
  return verifyReadiness({
    bundle: readNewestBundle(p.evidenceDir, p.stack),
    expected: { stack: p.stack, release: expected.release ?? RELEASE, digests: expected.digests ?? DIGESTS },
    now,
    maxAgeHours: 24,
    override: readRecords(p.evidenceDir, p.stack).overrides,
    readFile: projectFileReader(p.dir),
  });
}
