// The database is forward-only, on the real engine with a production-shaped stack and the committed production
// enforcement: a rollback runs no dump and no rehearsal (the dump destination, the clone and the stack's history show
// it) and leaves every earlier dump as it was; the release after it dumps again under a name of its own, even when it
// re-deploys the release the rollback replaced. Stack and namespace `it-db-rb`; dumps go to the world's gs:// stand-in.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rollBack } from "../../cli/actions/rollback";
import { release } from "../../cli/actions/release";
import { fullHistory } from "../../cli/history";
import { ROLLBACK_OF_KEY } from "../../src/config/rollback-of";
import { run as runTool, SANDBOX, sandboxImageDigests } from "./harness";
import { ProductionWorld, publishRelease } from "./production-world";
import { type Digests, type EvidenceProject, filesUnder } from "./scenario";

const STACK = "it-db-rb";
const NS = "it-db-rb";
const CLONE = SANDBOX.postgresUrl.replace(/\/nova$/, "/nova_rehearsal");
let world: ProductionWorld;
let stack: Stack;
let evidence: EvidenceProject;
let r1: Digests;
let r2: Digests;

/** Every dump object in the stack's gs:// destination, with a hash of its bytes. */
function dumps(): Record<string, string> {
  const dir = path.join(world.work, "gcs", "nova-it-backups", NS);
  const entries: [string, string][] = filesUnder(dir).map((f) => [
    `gs://nova-it-backups/${NS}/${path.relative(dir, f)}`,
    crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex"),
  ]);
  return Object.fromEntries(entries.sort());
}

const psql = (url: string, sql: string) => runTool("psql", [url, "-X", "-q", "-A", "-t", "-c", sql]);
/** Whether the rehearsal's migration table exists in the clone (the migration creates it on every rehearsal). */
const cloneMigrated = async () =>
  (await psql(CLONE, "SELECT count(*) FROM pg_tables WHERE tablename = 'release_marker'")).trim() === "1";

async function setRelease(tag: string, d: Digests): Promise<void> {
  await stack.setAllConfig({
    "nova-rollout:imageTag": { value: tag },
    "nova-rollout:apiImageDigest": { value: d.api },
    "nova-rollout:workerImageDigest": { value: d.worker },
  });
}

/** The dump command as the state records it: its inputs and the location it reported. */
async function dumpState(): Promise<{ create?: string; stdout?: string }> {
  const exported = await stack.exportStack();
  const resources =
    (
      exported.deployment as {
        resources?: { urn: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }[];
      }
    ).resources ?? [];
  const dump = resources.find((r) => r.urn.endsWith("::nova-db-dump"));
  expect(dump).toBeDefined();
  const stdout = dump?.outputs?.stdout;
  return {
    ...(typeof dump?.inputs?.create === "string" ? { create: dump.inputs.create } : {}),
    ...(typeof stdout === "string" ? { stdout } : {}),
  };
}

beforeAll(async () => {
  world = await ProductionWorld.create("nova-db-rollback-it-", [NS]);
  r1 = sandboxImageDigests();
  r2 = await publishRelease("r2");
  stack = await world.projectStack(STACK, world.prodConfig(NS, { imageTag: "sandbox" }));
  process.env.NOVA_OPERATOR = world.sre.name;
  process.env.NOVA_SSH_KEY_FILE = world.sre.keyFile;
  evidence = world.evidence(STACK);
}, 600_000);

afterAll(async () => {
  delete process.env.NOVA_OPERATOR;
  delete process.env.NOVA_SSH_KEY_FILE;
  await world?.dispose();
}, 900_000);

describe.sequential("a rollback does no database work and keeps every dump", () => {
  const before: Record<string, string> = {};

  it("r1 and then r2 each dump under a name of their own", async () => {
    await world.ready(evidence, "sandbox", r1);
    await release(world.checkout, STACK, { policy: true, autoRollback: false });
    expect(Object.keys(dumps())).toHaveLength(1);
    await setRelease("r2", r2);
    await world.ready(evidence, "r2", r2);
    await release(world.checkout, STACK, { policy: true, autoRollback: false });
    const names = Object.keys(dumps());
    expect(names).toHaveLength(2);
    for (const n of names)
      expect(n).toMatch(new RegExp(`/${STACK}-(sandbox|r2)-[0-9a-f]{12}-\\d{8}T\\d{6}Z\\.dump$`));
    Object.assign(before, dumps());
  });

  it("the rollback to r1 runs no dump and no rehearsal; the earlier dumps are intact", async () => {
    const r1Version = (await fullHistory(stack)).find(
      (e) => e.kind === "update" && e.result === "succeeded" && e.release === "sandbox",
    )?.version;
    expect(r1Version).toBeDefined();
    const recorded = (await stack.outputs()).databaseDump?.value as string | undefined;
    expect(Object.keys(before)).toContain(recorded);
    // The rehearsal's migration would recreate this table in the clone.
    await psql(CLONE, "DROP TABLE IF EXISTS release_marker");

    const target = await rollBack(world.checkout, STACK, stack, { to: r1Version, reason: "database drill" });
    expect(target.release).toBe("sandbox");

    // The dump destination: the same objects, byte for byte, and nothing new.
    expect(dumps()).toEqual(before);
    // The clone: no restore and no migration.
    expect(await cloneMigrated()).toBe(false);
    // The state: the dump command has nothing to run and still reports the dump taken before r2.
    const after = await dumpState();
    expect(after.create).toBeUndefined();
    expect(after.stdout).toBe(`logical dump written to ${recorded ?? "?"}`);
    expect((await stack.outputs()).databaseDump?.value).toBe(recorded);
    // History: the rollback's own update ran with the mark; the stack config no longer carries it.
    const [last] = await fullHistory(stack);
    expect(last?.kind).toBe("update");
    expect(last?.result).toBe("succeeded");
    const history = await stack.history(1, 1, false);
    expect(history[0]?.config[ROLLBACK_OF_KEY]?.value).toBe(
      `update ${r1Version} api ${r1.api} worker ${r1.worker}`,
    );
    // (The engine lists every key Pulumi.yaml declares; this one's project default is empty.)
    expect((await stack.getAllConfig())[ROLLBACK_OF_KEY]?.value ?? "").toBe("");
    expect(fs.readFileSync(path.join(world.checkout, `Pulumi.${STACK}.yaml`), "utf8")).not.toContain(
      "rollbackOf",
    );
  });

  it("the release after the rollback dumps and rehearses again, even re-deploying r2; earlier dumps stay", async () => {
    await setRelease("r2", r2);
    await world.ready(evidence, "r2", r2);
    await release(world.checkout, STACK, { policy: true, autoRollback: false });
    const now = dumps();
    expect(Object.keys(now)).toHaveLength(3);
    for (const [name, hash] of Object.entries(before)) expect(now[name]).toBe(hash);
    expect(await cloneMigrated()).toBe(true);
    expect((await dumpState()).create).toContain("pg_dump");
  });
});
