// `rollout restore-db` on a production-shaped stack (its dumps in gs://, through the sandbox's gcloud stand-in) and
// the sandbox PostgreSQL: the newest dump is restored into a scratch database and migrated; a target that is the
// stack's live database is refused before anything is written.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../cli/errors";
import { run as runTool, SANDBOX } from "./harness";
import { ProductionWorld } from "./production-world";

const STACK = "it-prod-restore";
const NS = "it-prod-restore";
const url = (db: string) => SANDBOX.postgresUrl.replace(/\/nova$/, `/${db}`);
const LIVE = url("nova_restore_live");
const SCRATCH = url("nova_restore_scratch");
const psql = (target: string, sql: string) => runTool("psql", [target, "-X", "-q", "-A", "-t", "-c", sql]);
const admin = (sql: string) => psql(SANDBOX.postgresUrl, sql);

let world: ProductionWorld;

beforeAll(async () => {
  world = await ProductionWorld.create("nova-restore-it-");
  // The stack's live database: a copy of the sandbox's, with a table the dump does not hold.
  for (const db of ["nova_restore_live", "nova_restore_scratch"]) {
    await admin(`DROP DATABASE IF EXISTS ${db}`);
    await admin(`CREATE DATABASE ${db}`);
  }
  const dumps = path.join(process.env.NOVA_SANDBOX_GCS ?? "", "nova-it-backups", NS);
  fs.mkdirSync(dumps, { recursive: true });
  const dump = path.join(dumps, `${STACK}-r1-0a1b2c-20261204T010000Z.dump`);
  await runTool("pg_dump", [
    "--format=custom",
    "--no-owner",
    `--dbname=${SANDBOX.postgresUrl}`,
    `--file=${dump}`,
  ]);
  await runTool("pg_restore", ["--no-owner", "--exit-on-error", `--dbname=${LIVE}`, dump]);
  await psql(LIVE, "CREATE TABLE live_canary (id int)");
  // An older dump that is not a dump at all: restoring it would fail, so the newest must be the one chosen.
  fs.writeFileSync(path.join(dumps, `${STACK}-r0-9f8e7d-20261201T010000Z.dump`), "not a dump");
  const stack = await world.projectStack(STACK, world.prodConfig(NS));
  await stack.setConfig("nova-rollout:databaseUrl", { value: LIVE, secret: true });
}, 600_000);

afterAll(async () => {
  await world?.dispose();
  for (const db of ["nova_restore_live", "nova_restore_scratch"])
    await admin(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
}, 600_000);

describe("restore-db", () => {
  it("restores the newest dump into a scratch database and migrates it", async () => {
    const restored = await world.rollout(
      ["restore-db", "--stack", STACK, "--target-env", "NOVA_RESTORE_TARGET"],
      {
        NOVA_RESTORE_TARGET: SCRATCH,
      },
    );
    expect(restored.code, restored.out).toBe(0);
    expect(restored.out).toMatch(
      new RegExp(
        `restored gs://nova-it-backups/${NS}/${STACK}-r1-0a1b2c-20261204T010000Z\\.dump into the database of NOVA_RESTORE_TARGET and migrated it`,
      ),
    );
    expect((await psql(SCRATCH, "SELECT count(*) FROM tenants")).trim()).toBe("3");
    // The stack's migration ran against the restored database (it creates release_marker).
    expect(
      (await psql(SCRATCH, "SELECT count(*) FROM pg_tables WHERE tablename = 'release_marker'")).trim(),
    ).toBe("1");
  });

  it("refuses the live database, however it is named, and writes nothing", async () => {
    // The live database under another spelling of its address: the identity check compares what the server says.
    const aliased = LIVE.replace("127.0.0.1", "localhost");
    const refused = await world.rollout(
      ["restore-db", "--stack", STACK, "--target-env", "NOVA_RESTORE_TARGET"],
      {
        NOVA_RESTORE_TARGET: aliased,
      },
    );
    expect(refused.code, refused.out).toBe(EXIT.usage);
    expect(refused.out).toMatch(
      /refused: the database of NOVA_RESTORE_TARGET is the live database of stack it-prod-restore/,
    );
    expect((await psql(LIVE, "SELECT count(*) FROM pg_tables WHERE tablename = 'live_canary'")).trim()).toBe(
      "1",
    );
  });

  it("will not take another address for the live one (--live-env on a stack whose config names it)", async () => {
    const decoy = await world.rollout(
      [
        "restore-db",
        "--stack",
        STACK,
        "--target-env",
        "NOVA_RESTORE_TARGET",
        "--live-env",
        "NOVA_DECOY_LIVE",
      ],
      { NOVA_RESTORE_TARGET: LIVE, NOVA_DECOY_LIVE: SCRATCH },
    );
    expect(decoy.code, decoy.out).toBe(EXIT.usage);
    expect(decoy.out).toMatch(/--live-env is for stacks whose secrets come from Secret Manager/);
    expect((await psql(LIVE, "SELECT count(*) FROM pg_tables WHERE tablename = 'live_canary'")).trim()).toBe(
      "1",
    );
  });

  it("names a missing target variable and changes nothing", async () => {
    const missing = await world.rollout([
      "restore-db",
      "--stack",
      STACK,
      "--target-env",
      "NOVA_RESTORE_UNSET",
    ]);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.out).toMatch(/--target-env NOVA_RESTORE_UNSET: the variable is not set/);
  });
});
