// The images step in production shape: the committed production registry, us-docker.pkg.dev/nova-prod/nova, served at
// its own address on the sandbox (token auth behind TLS, reached through HTTPS_PROXY with the sandbox CA). A release
// staging deployed from the sandbox registry is promoted there by the built CLI, pinned in the production-shaped
// stack file, judged by the committed production enforcement and deployed by `rollout up`. A machine whose login may
// only pull fails the preflight's push check with the login to run. Credentials come only from auth files.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { EXIT } from "../../cli/errors";
import { productionRegistryEnv, SANDBOX } from "./harness";
import { ProductionWorld, publishRelease } from "./production-world";
import {
  deployments,
  type Digests,
  type EvidenceProject,
  PRODUCTION_REGISTRY,
  productionRegistry,
  signatory,
} from "./scenario";

const STACK = "it-promote";
const NS = "it-promote";
const tag = `v8.${process.pid}.${Date.now() % 100000}`;
let world: ProductionWorld;
let evidence: EvidenceProject;
let staged: Digests;

const stackFile = () => path.join(world.checkout, `Pulumi.${STACK}.yaml`);
const stackConfig = () =>
  (parseYaml(fs.readFileSync(stackFile(), "utf8")) as { config: Record<string, unknown> }).config;

beforeAll(async () => {
  world = await ProductionWorld.create("nova-prod-promote-it-", [NS]);
  expect(fs.existsSync(path.join(world.checkout, "dist", "index.js")), "run `npm run build` first").toBe(
    true,
  );
  // The release exists only in the sandbox registry: staging deployed it from there.
  staged = await publishRelease(tag, { production: false });
  await world.stage(staged, { imageRegistry: SANDBOX.imageRegistry, imageTag: tag });
  evidence = world.evidence(STACK);
  // The production-shaped stack still pins the sandbox release (tag `sandbox`, in the production registry already).
  await world.projectStack(STACK, world.prodConfig(NS));
}, 600_000);

afterAll(async () => {
  await world?.dispose();
}, 600_000);

describe.sequential("the images step against the production registry's address", () => {
  it("a login that may only pull fails the preflight's push check, naming the login to run", async () => {
    evidence.setDrillAge(1);
    evidence.setCoverage({ statements: 80, branches: 70, functions: 80, lines: 80 });
    evidence.nameRelease("sandbox");
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000).toISOString();
    const args = ["preflight", "--stack", STACK, "--release-cut", twoDaysAgo];
    const reader = await world.rollout(args, productionRegistryEnv(SANDBOX.authRegistry.readerAuthFile));
    expect(reader.code, reader.out).toBe(EXIT.notReady);
    expect(reader.out).toMatch(/registry-push/);
    expect(reader.out).toContain("HTTP 401 UNAUTHORIZED");
    expect(reader.out).toContain(
      "log in to us-docker.pkg.dev with push rights (skopeo login us-docker.pkg.dev",
    );
    // The same machine reads the release there: only the push is refused.
    expect(reader.out).not.toMatch(/registry-digests[^\n]*(FAIL|fail)/);
    const pusher = await world.rollout(args, productionRegistryEnv());
    expect(pusher.out).not.toContain("UNAUTHORIZED");
  });

  it("promotes the staging release into the production registry, pins it, and `rollout up` deploys it", async () => {
    // Nothing of the release is in the production registry before the promote.
    await expect(productionRegistry().digestOf(`${PRODUCTION_REGISTRY}/nova-rms-api:${tag}`)).rejects.toThrow(
      /manifest unknown|not found/,
    );
    const promote = await world.rollout(
      ["promote", "--from", "staging", "--to", STACK],
      productionRegistryEnv(),
    );
    expect(promote.code, promote.out).toBe(0);
    const config = stackConfig();
    expect(config["nova-rollout:imageTag"]).toBe(tag);
    expect(config["nova-rollout:apiImageDigest"]).toBe(staged.api);
    expect(config["nova-rollout:workerImageDigest"]).toBe(staged.worker);
    expect(config["nova-rollout:promotedFrom"]).toMatch(/^staging update \d+$/);
    // The production registry answers the promoted tag with the staging digests, to the pull-only account too.
    const reader = productionRegistry(SANDBOX.authRegistry.readerAuthFile);
    expect(await reader.digestOf(`${PRODUCTION_REGISTRY}/nova-rms-api:${tag}`)).toBe(staged.api);
    expect(await reader.digestOf(`${PRODUCTION_REGISTRY}/nova-rms-worker:${tag}`)).toBe(staged.worker);

    // The gate judges the promoted release where production keeps it; the on-call SRE deploys it.
    const { bundle } = await evidence.preflight(tag, staged, world.stagingHistory, {
      registry: productionRegistry(),
    });
    expect(bundle.checks.filter((c) => c.verdict !== "pass").map((c) => `${c.id}: ${c.found}`)).toEqual([]);
    evidence.authorise(tag, { bundle, deployer: signatory(world.sre) });
    const up = await world.rollout(["up", "--stack", STACK], {
      ...productionRegistryEnv(),
      NOVA_OPERATOR: world.sre.name,
      NOVA_SSH_KEY_FILE: world.sre.keyFile,
    });
    expect(up.code, up.out).toBe(0);
    const running = await deployments(NS);
    expect(running["nova-api"]?.image).toBe(`${PRODUCTION_REGISTRY}/nova-rms-api@${staged.api}`);
    expect(running["nova-worker"]?.image).toBe(`${PRODUCTION_REGISTRY}/nova-rms-worker@${staged.worker}`);
    expect(`${promote.out}\n${up.out}`).not.toContain(
      JSON.parse(fs.readFileSync(path.join(SANDBOX.dir, "registry-auth", "users.json"), "utf8"))["nova-ci"]
        .password as string,
    );
  });
});
