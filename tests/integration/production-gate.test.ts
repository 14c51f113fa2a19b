// The readiness gate in production shape: a production-shaped checkout of this repository (compiled program, chart,
// committed policy configs, unmodified), stacks aimed at the sandbox cluster, the committed *production* enforcement,
// the real engine and the real Kubernetes API. Each case attacks the gate the way a careless or hostile operator would.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl, productionRegistryEnv, REPO_ROOT, sandboxImageDigests } from "./harness";
import { ProductionWorld } from "./production-world";
import { protectedUrns } from "./protect";
import {
  type EvidenceBundle,
  fileSigner,
  loadRoster,
  readSignedBundles,
  sealBundle,
  writeRecord,
} from "../../src/evidence";
import { EXIT } from "../../cli/errors";
import { fullHistory } from "../../cli/history";
import {
  deployments,
  type EvidenceProject,
  fakeDigests,
  flipByte,
  PEOPLE,
  PRODUCTION_REGISTRY,
  productionCheckout,
  productionRegistry,
  signAs,
  stateResources,
  STRANGER_SIGNER,
  type TestPerson,
} from "./scenario";

const PROD = "it-prod";
let world: ProductionWorld;
let checkout: string;
let prod: Stack;
let evidence: EvidenceProject;
const digests = () => sandboxImageDigests();
const runIn = (cmd: string, args: readonly string[]) => world.run(cmd, args);
const rollout = (args: readonly string[], env?: Record<string, string>, drop?: readonly string[]) =>
  world.rollout(args, env, drop);
const projectStack = (name: string, config: Record<string, string>) => world.projectStack(name, config);
const prodConfig = (namespace: string, extra?: Record<string, string>) => world.prodConfig(namespace, extra);

async function previewText(stack: Stack, level: "production" | "staging" = "production"): Promise<string> {
  const lines: string[] = [];
  try {
    await stack.preview({ ...world.committed(level), onOutput: (s) => void lines.push(s) });
    return lines.join("");
  } catch (err) {
    return `${lines.join("")}\n${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Fresh, passing evidence for the release plus a freeze window and an approval. */
async function readyEvidence(): Promise<void> {
  evidence.clear();
  await world.ready(evidence, "sandbox", digests());
}

/** Rewrites the in-toto Statement inside a signed bundle's envelope, keeping the (now stale) signature. */
function editEnvelope(
  file: string,
  edit: (statement: { subject: { digest: { sha256: string } }[]; predicate: EvidenceBundle }) => void,
): void {
  const env = JSON.parse(fs.readFileSync(file, "utf8")) as { payload: string };
  const statement = JSON.parse(Buffer.from(env.payload, "base64").toString("utf8")) as Parameters<
    typeof edit
  >[0];
  edit(statement);
  env.payload = Buffer.from(JSON.stringify(statement), "utf8").toString("base64");
  fs.writeFileSync(file, JSON.stringify(env, null, 2));
}

/** A signed break-glass override for the release, bound to `bundle`. */
function override(
  bundle: EvidenceBundle,
  o: { ic: TestPerson | string; waive: string[]; hours: number },
): void {
  const now = Date.now();
  const file = writeRecord(
    evidence.evidenceDir,
    {
      kind: "override",
      stack: PROD,
      release: bundle.release,
      hotfix: true,
      incidentCommander: typeof o.ic === "string" ? o.ic : o.ic.name,
      reason: "INC-4711 integration test hotfix",
      waivedChecks: o.waive as never,
      deployer: PEOPLE.deployer.name,
      imageDigests: bundle.imageDigests,
      bundleSha256: bundle.contentSha256,
      createdAt: new Date(now - 60_000).toISOString(),
      expiresAt: new Date(now - 60_000 + o.hours * 3_600_000).toISOString(),
    },
    new Date(now),
  );
  if (typeof o.ic !== "string") signAs(file, o.ic);
}

beforeAll(async () => {
  world = await ProductionWorld.create("nova-prod-gate-it-", ["it-prod", "it-prod-eu", "nova-prod"]);
  checkout = world.checkout;
  expect(fs.existsSync(path.join(checkout, "dist", "index.js")), "run `npm run build` first").toBe(true);
  await world.stage(digests());
  evidence = world.evidence(PROD);
  prod = await projectStack(PROD, prodConfig("it-prod"));
}, 600_000);

afterAll(async () => {
  await world?.dispose();
}, 900_000);

describe.sequential(
  "the readiness gate on a production-shaped stack, committed production enforcement",
  () => {
    it("plain `pulumi up` (no policy pack) of an unready release is refused by the program and changes nothing", async () => {
      evidence.clear();
      const { code, out } = await runIn("pulumi", ["up", "--stack", PROD, "--yes", "--non-interactive"]);
      expect(code).not.toBe(0);
      expect(out).toMatch(/Stack it-prod is production and not ready to roll out/);
      expect(out).toMatch(/\[bundle\] No readiness evidence for stack "it-prod"/);
      expect(out).toMatch(/fix: npm run preflight -- --stack it-prod/);
      expect(out).toMatch(/\[freeze\]/);
      expect(out).toMatch(/\[approval\]/);
      expect(out).not.toMatch(/\n\s+at .+\.js:\d+:\d+/); // no stack trace for a user mistake
      const created = (await stateResources(prod)).filter((r) => /^(kubernetes|command):/.test(r.type));
      expect(created).toEqual([]);
      expect(await kubectl("get", "namespace", "it-prod", "--ignore-not-found", "-o", "name")).toBe("");
    });

    it("the pack blocks the same preview, and its report says each finding once", async () => {
      evidence.clear();
      const lines: string[] = [];
      await expect(
        prod.preview({ ...world.committed("production"), onOutput: (l) => void lines.push(l) }),
      ).rejects.toThrow();
      const stream = lines.join("");
      const policies = stream.slice(stream.indexOf("Policies:"), stream.indexOf("Diagnostics:"));
      expect(policies).toMatch(/\[mandatory\]\s+nova-readiness-gate/);
      for (const finding of [
        /No readiness evidence for stack "it-prod"/g,
        /No active change-freeze window/g,
        /No valid leadership approval/g,
      ]) {
        expect(policies.match(finding)).toHaveLength(1);
        // …and once more in the program guard's preview warning, which names the findings without their fixes.
        expect(stream.match(finding)).toHaveLength(2);
      }
      expect(policies).toMatch(
        /Blocked by the 1 finding reported for urn:pulumi:it-prod::nova-rollout::pulumi:pulumi:Stack/,
      );
      expect(stream).toMatch(/`pulumi up` refuses this release until each is fixed/);
    });

    it.each([
      ["a billing drill 8 days old", () => evidence.setDrillAge(8), /billing-drill/],
      [
        "one byte changed in a referenced artifact",
        () => flipByte(path.join(checkout, "coverage/coverage-summary.json"), 30),
        /Artifact coverage\/coverage-summary\.json of check "coverage" changed since preflight/,
      ],
    ])("blocks %s", async (_what, spoil, expected) => {
      await readyEvidence();
      spoil();
      const text = await previewText(prod);
      expect(text).toMatch(/nova-readiness-gate/);
      expect(text).toMatch(expected);
      evidence.setCoverage({ statements: 80, branches: 70, functions: 80, lines: 80 });
    });

    it("blocks a bundle made for other digests", async () => {
      evidence.clear();
      evidence.authorise("sandbox");
      await evidence.preflight("sandbox", fakeDigests("other"), world.stagingHistory, {
        registry: productionRegistry(),
      });
      expect(await previewText(prod)).toMatch(
        /Evidence bundle is bound to api digest sha256:[0-9a-f]{64}; the stack deploys/,
      );
    });

    it("blocks a bundle made with --min-branches 0 (branches at 40 %) and names the weakened threshold", async () => {
      evidence.clear();
      evidence.setDrillAge(1);
      evidence.setCoverage({ statements: 80, branches: 40, functions: 80, lines: 80 });
      evidence.authorise("sandbox");
      const { bundle } = await evidence.preflight("sandbox", digests(), world.stagingHistory, {
        registry: productionRegistry(),
        coverageThresholds: { statements: 60, branches: 0, functions: 70, lines: 60 },
      });
      expect(bundle.checks.find((c) => c.id === "coverage")?.verdict).toBe("pass");
      const text = await previewText(prod);
      expect(text).toMatch(
        /weakened threshold: coverage branches >= 0%; the committed policy requires >= 50%/,
      );
      evidence.setCoverage({ statements: 80, branches: 70, functions: 80, lines: 80 });
    });

    it("blocks a registry that is not in allowedRegistries (the stack's own registry is no anchor)", async () => {
      await readyEvidence();
      await prod.setConfig("nova-rollout:imageRegistry", { value: "127.0.0.1:35000/nova" });
      try {
        const text = await previewText(prod);
        expect(text).toMatch(/mandatory/);
        expect(text).toMatch(
          /Production baseline \[registry\]: Image registry 127\.0\.0\.1:35000\/nova is not an allowed production registry/,
        );
      } finally {
        await prod.setConfig("nova-rollout:imageRegistry", { value: PRODUCTION_REGISTRY });
      }
    });

    it("blocks a production stack judged with the staging enforcement (a lowered option)", async () => {
      await readyEvidence();
      const text = await previewText(prod, "staging");
      expect(text).toMatch(/mandatory/);
      expect(text).toMatch(
        /is production \(it declares environment production\) but the policy pack runs with the staging enforcement/,
      );
    });

    it("the rollout CLI gives production enforcement to a relabelled and a renamed stack, and refuses --no-policy", async () => {
      evidence.clear();
      await projectStack("it-relabelled", prodConfig("nova-prod", { environment: "staging" }));
      await projectStack("prod-eu", prodConfig("it-prod-eu"));
      for (const [stack, reason] of [
        ["it-relabelled", /targets namespace nova-prod.*declares environment staging/],
        ["prod-eu", /No readiness evidence for stack "prod-eu"/],
      ] as const) {
        const blocked = await rollout(["preview", "--stack", stack]);
        expect(blocked.code, blocked.out).toBe(5);
        expect(blocked.out).toMatch(/\[mandatory\]/);
        expect(blocked.out).toMatch(reason);
        const noPolicy = await rollout(["preview", "--stack", stack, "--no-policy"]);
        expect(noPolicy.code).toBe(2);
        expect(noPolicy.out).toMatch(
          new RegExp(
            `--no-policy is only for sandbox stacks; ${stack} is judged with the production enforcement`,
          ),
        );
      }
    });

    it("the CLI refuses a non-sandbox stack with no backend or passphrase set, and never uses the sandbox passphrase", async () => {
      const emptyCache = fs.mkdtempSync(path.join(world.work, "cache-"));
      const noBackend = await rollout(["history", "--stack", PROD], { NOVA_CACHE_DIR: emptyCache }, [
        "PULUMI_BACKEND_URL",
        "PULUMI_CONFIG_PASSPHRASE",
        "PULUMI_CONFIG_PASSPHRASE_FILE",
      ]);
      expect(noBackend.code).toBe(2);
      expect(noBackend.out).toMatch(/PULUMI_BACKEND_URL/);
      const noPassphrase = await rollout(["history", "--stack", PROD], { NOVA_CACHE_DIR: emptyCache }, [
        "PULUMI_CONFIG_PASSPHRASE",
        "PULUMI_CONFIG_PASSPHRASE_FILE",
      ]);
      expect(noPassphrase.code).toBe(2);
      expect(noPassphrase.out).toMatch(/PULUMI_CONFIG_PASSPHRASE/);
      const sandboxPassphrase = await rollout(["history", "--stack", PROD], {
        PULUMI_CONFIG_PASSPHRASE: "nova-sandbox-only",
      });
      expect(sandboxPassphrase.code).toBe(2);
      for (const r of [noBackend, noPassphrase, sandboxPassphrase])
        expect(r.out).not.toMatch(/nova-sandbox-only/);
    });

    // The forgery recipes of issue 9: each is blocked on the real engine and the report names why.
    it.each([
      [
        "verdicts flipped and the hash recomputed",
        (envelope: string) =>
          editEnvelope(envelope, (st) => {
            const { contentSha256: _old, ...body } = st.predicate;
            st.predicate = sealBundle({
              ...body,
              checks: body.checks.map((c) => ({ ...c, verdict: "pass" })),
            });
          }),
      ],
      [
        "a bundle re-dated",
        (envelope: string) =>
          editEnvelope(envelope, (st) => {
            const { contentSha256: _old, ...body } = st.predicate;
            st.predicate = sealBundle({ ...body, createdAt: new Date().toISOString() });
          }),
      ],
      [
        "a bundle re-bound to other digests",
        (envelope: string) =>
          editEnvelope(envelope, (st) => {
            const other = fakeDigests("rebound");
            const { contentSha256: _old, ...body } = st.predicate;
            st.predicate = sealBundle({ ...body, imageDigests: other });
            st.subject[0]!.digest.sha256 = other.api.slice("sha256:".length);
            st.subject[1]!.digest.sha256 = other.worker.slice("sha256:".length);
          }),
      ],
    ])("blocks %s (the signature no longer verifies)", async (_what, forge) => {
      evidence.clear();
      evidence.setDrillAge(8);
      const { envelope, bundle } = await evidence.preflight("sandbox", digests(), world.stagingHistory, {
        registry: productionRegistry(),
      });
      evidence.authorise("sandbox", { bundle });
      forge(envelope);
      const text = await previewText(prod);
      expect(text).toMatch(/\[mandatory\]\s+nova-readiness-gate/);
      expect(text).toMatch(/is not accepted: its signature \(key SHA256:[0-9a-f]{64}\) does not verify/);
      evidence.setDrillAge(1);
    });

    it("blocks a bundle signed by a key not in the trust list", async () => {
      evidence.clear();
      const { bundle } = await evidence.preflight(
        "sandbox",
        digests(),
        world.stagingHistory,
        { registry: productionRegistry() },
        STRANGER_SIGNER,
      );
      evidence.authorise("sandbox", { bundle });
      const text = await previewText(prod);
      expect(text).toMatch(/mandatory/);
      expect(text).toMatch(
        /is signed by SHA256:[0-9a-f]{64}, which is not a key in the committed trust list/,
      );
    });

    it("blocks a bundle signed by the sandbox's own preflight key (made by sandbox:up in the same checkout)", async () => {
      // The throwaway keys every developer's sandbox holds: the sandbox enforcement trusts them, production never.
      const trust = path.join(checkout, ".sandbox", "trust");
      execFileSync(process.execPath, [path.join(REPO_ROOT, "tools", "sandbox", "trust.mjs"), trust]);
      evidence.clear();
      const { bundle } = await evidence.preflight(
        "sandbox",
        digests(),
        world.stagingHistory,
        { registry: productionRegistry() },
        fileSigner(path.join(trust, "preflight.pem")),
      );
      evidence.authorise("sandbox", { bundle });
      const text = await previewText(prod);
      expect(text).toMatch(/\[mandatory\]\s+nova-readiness-gate/);
      expect(text).toMatch(/which is not a key in the committed trust list.*committed roster/);
      fs.rmSync(path.join(checkout, ".sandbox"), { recursive: true, force: true });
    });

    it.each([
      [
        "an approval by someone whose roster role is not leadership",
        { approver: PEOPLE.engineer },
        /Eve Engineer's roster roles \[engineer\] include no leadership role/,
      ],
      [
        "an approval by the deployer themself",
        { approver: PEOPLE.approver, deployer: PEOPLE.approver },
        /Dana Lee approves their own release \(they are the deployer\)/,
      ],
    ])("blocks %s", async (_what, who, expected) => {
      evidence.clear();
      evidence.setDrillAge(1);
      evidence.setCoverage({ statements: 80, branches: 70, functions: 80, lines: 80 });
      const { bundle } = await evidence.preflight("sandbox", digests(), world.stagingHistory, {
        registry: productionRegistry(),
      });
      evidence.authorise("sandbox", { bundle, ...who });
      const text = await previewText(prod);
      expect(text).toMatch(/\[mandatory\]\s+nova-leadership-approval/);
      expect(text).toMatch(expected);
    });

    it.each([
      [
        "an override by an unknown incident commander",
        { ic: "Mallory Unknown", waive: ["billing-drill"], hours: 4 },
        /waives nothing: Mallory Unknown is not in the committed roster/,
      ],
      [
        "an override waiving registry-digests",
        { ic: PEOPLE.incidentCommander, waive: ["billing-drill", "registry-digests"], hours: 4 },
        /waives nothing: it waives registry-digests, which no override may waive/,
      ],
      [
        "an override valid for 30 days",
        { ic: PEOPLE.incidentCommander, waive: ["billing-drill"], hours: 720 },
        /waives nothing: it is valid for 720\.0 h; threshold: at most 24 h/,
      ],
    ])("blocks %s", async (_what, o, expected) => {
      evidence.clear();
      evidence.setDrillAge(8);
      const { bundle } = await evidence.preflight("sandbox", digests(), world.stagingHistory, {
        registry: productionRegistry(),
      });
      evidence.authorise("sandbox", { bundle });
      override(bundle, o);
      const text = await previewText(prod);
      expect(text).toMatch(/\[mandatory\]\s+nova-readiness-gate/);
      expect(text).toMatch(expected);
      expect(text).toMatch(/Check "billing-drill" .* failed/);
      evidence.setDrillAge(1);
    });

    it("a valid signed override by a roster incident commander waives the failed drill (control case)", async () => {
      evidence.clear();
      evidence.setDrillAge(8);
      const { bundle } = await evidence.preflight("sandbox", digests(), world.stagingHistory, {
        registry: productionRegistry(),
      });
      evidence.authorise("sandbox", { bundle });
      override(bundle, { ic: PEOPLE.incidentCommander, waive: ["billing-drill"], hours: 4 });
      const text = await previewText(prod);
      expect(text).not.toMatch(/\[mandatory\]/);
      evidence.setDrillAge(1);
    });

    it("with ready evidence the pack passes the preview and plain `pulumi up` rolls the release out, protected", async () => {
      await readyEvidence();
      const text = await previewText(prod);
      expect(text).not.toMatch(/mandatory/);
      const { code, out } = await runIn("pulumi", ["up", "--stack", PROD, "--yes", "--non-interactive"]);
      expect(code, out).toBe(0);
      // Autoscaling is on in production: the HPA owns the replica count (kwok has no metrics to scale on).
      const api = (await deployments("it-prod"))["nova-api"];
      expect(api?.image).toBe(`${PRODUCTION_REGISTRY}/nova-rms-api@${digests().api}`);
      expect(api?.ready).toBeGreaterThan(0);
      expect(api?.ready).toBe(api?.replicas);
      const protectedOnes = protectedUrns(await prod.exportStack());
      expect(protectedOnes.some((u) => u.includes("kubernetes:core/v1:Namespace"))).toBe(true);
      expect(protectedOnes.some((u) => u.includes("kubernetes:core/v1:Secret"))).toBe(true);
    });

    it("a correctly signed release passes end to end through `rollout freeze / preflight / approve / up`", async () => {
      evidence.clear();
      evidence.setDrillAge(1);
      evidence.setCoverage({ statements: 80, branches: 70, functions: 80, lines: 80 });
      const env = productionRegistryEnv();
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000).toISOString();
      const step = async (args: string[]) => {
        const r = await rollout(args, env);
        expect(r.code, `rollout ${args.join(" ")}\n${r.out}`).toBe(0);
        return r.out;
      };
      // The release manager declares the window, CI signs the bundle, the CTO approves: each with their own key.
      expect(
        await step([
          "freeze",
          "--stack",
          PROD,
          "--start",
          hourAgo,
          "--end",
          "+4h",
          "--reason",
          "release window",
          "--declared-by",
          world.releaseManager.name,
          "--ssh-key",
          world.releaseManager.keyFile,
        ]),
      ).toMatch(/signed .*records\/freeze-it-prod-\w+\.json\.sig/);
      await step([
        "preflight",
        "--stack",
        PROD,
        "--release-cut",
        twoDaysAgo,
        "--signing-key",
        world.preflightKeyFile,
        "--ran-by",
        PEOPLE.deployer.name,
      ]);
      const roster = loadRoster(path.join(checkout, "policy", "trust", "roster.json"));
      const [signed] = readSignedBundles(evidence.evidenceDir, PROD, roster.preflightKeys).ok;
      expect(signed?.bundle.checks.every((c) => c.verdict === "pass")).toBe(true);
      expect(signed?.bundle.ranBy).toBe(PEOPLE.deployer.name);

      // Not approved yet: the release is blocked, and the report names what is missing.
      const early = await rollout(["up", "--stack", PROD], env);
      expect(early.code, early.out).toBe(EXIT.policyViolation);
      expect(early.out).toMatch(/No valid leadership approval/);

      await step([
        "approve",
        "--stack",
        PROD,
        "--approved-by",
        world.cto.name,
        "--deployer",
        world.ci.name,
        "--expires-in-hours",
        "4",
        "--ssh-key",
        world.cto.keyFile,
      ]);
      // Approved, but the deploy must present the deployer the approval names: an `up` without the CI identity's key
      // signs no update request, and the program refuses the real update.
      const unsigned = await rollout(["up", "--stack", PROD], env, ["NOVA_SSH_KEY_FILE"]);
      expect(unsigned.code, unsigned.out).not.toBe(0);
      expect(unsigned.out).toMatch(
        /No signed update request by ci-rollout, the deployer the approval by cleo-cto names/,
      );
      // As the workflow runs it: the CI identity signs the update request with its key.
      const up = await step(["up", "--stack", PROD, "--as", world.ci.name, "--ssh-key", world.ci.keyFile]);
      expect(up).toMatch(
        /update request: tests\/drills\/logs\/it-prod\/records\/update-requests\/update-request-sandbox-\w+\.json \(signed\)/,
      );
      expect(up).toMatch(/launch summary: tests\/drills\/logs\/it-prod\/.*-launch\.md/);
      const [last] = (await fullHistory(prod)).filter((e) => e.kind === "update");
      expect(last?.result).toBe("succeeded");
      expect(last?.admission?.bundleSha256).toBe(signed?.bundle.contentSha256);
      expect(last?.admission?.approvalSha256).toMatch(/^[0-9a-f]{64}$/);
    });

    it("resources do not depend on the checkout: a preview from a colleague's clone at another path shows no change", async () => {
      const colleague = productionCheckout(path.join(world.work, "elsewhere", "colleague-clone"));
      fs.copyFileSync(
        path.join(checkout, `Pulumi.${PROD}.yaml`),
        path.join(colleague, `Pulumi.${PROD}.yaml`),
      );
      const { code, out } = await runIn("pulumi", [
        "preview",
        "--stack",
        PROD,
        "--cwd",
        colleague,
        "--expect-no-changes",
        "--non-interactive",
      ]);
      expect(code, out).toBe(0);
      expect(out).not.toMatch(/~ +command:local:Command|\+- +command:local:Command/);
    });

    it("plain `pulumi destroy` of the production-shaped stack refuses while its resources are protected", async () => {
      const { code, out } = await runIn("pulumi", ["destroy", "--stack", PROD, "--yes", "--non-interactive"]);
      expect(code).not.toBe(0);
      expect(out).toMatch(/protect/i);
      expect(await kubectl("get", "namespace", "it-prod", "-o", "name")).toMatch(/namespace\/it-prod/);
      expect((await deployments("it-prod"))["nova-api"]?.ready).toBeGreaterThan(0);
    });
  },
);
