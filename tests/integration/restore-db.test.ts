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

describe("restore-db over the live database", () => {
  const tenants = async () => (await psql(LIVE, "SELECT count(*) FROM tenants")).trim();
  const overLive = (target: string) =>
    world.rollout(["restore-db", "--stack", STACK, "--target-env", "NOVA_RESTORE_TARGET", "--over-live"], {
      NOVA_RESTORE_TARGET: target,
    });
  const authorize = (signer: { name: string; keyFile: string }, named: string) =>
    world.rollout([
      "authorize-restore",
      "--stack",
      STACK,
      "--incident-commander",
      named,
      "--reason",
      "INC-42: the migration dropped billing rows",
      "--ssh-key",
      signer.keyFile,
      "--json",
    ]);

  it("writes only on the incident commander's signed decision for that dump, once, and only over the live one", async () => {
    // The live database lost its rows after the dump: the restore must bring them back.
    await psql(LIVE, "DELETE FROM tenants");
    const dump = `gs://nova-it-backups/${NS}/${STACK}-r1-0a1b2c-20261204T010000Z.dump`;

    const none = await overLive(LIVE);
    expect(none.code, none.out).toBe(EXIT.usage);
    expect(none.out).toContain(
      `refused: no incident commander's decision allows restoring ${dump} over the live database of stack ${STACK} (none is on file); nothing was written`,
    );
    expect(none.out).toContain(`rollout authorize-restore --stack ${STACK} --incident-commander <name>`);
    expect(await tenants()).toBe("0");

    // Anyone else on the roster: not as themselves, and not in the incident commander's name with their own key.
    const self = await authorize(world.sre, world.sre.name);
    expect(self.code, self.out).toBe(EXIT.usage);
    expect(self.out).toMatch(
      /sre-on-call is not a roster person with the incident-commander role; nothing was recorded/,
    );
    const forged = await authorize(world.sre, world.incidentCommander.name);
    expect(forged.code, forged.out).toBe(EXIT.usage);
    expect(forged.out).toMatch(/the decision would not count: its signature is not ida-incident-commander's/);

    const decided = await authorize(world.incidentCommander, world.incidentCommander.name);
    expect(decided.code, decided.out).toBe(0);
    const decision = JSON.parse(decided.stdout) as { record: string; dump: string; dumpSha256: string };
    expect(decision.dump).toBe(dump);
    expect(decision.dumpSha256).toMatch(/^[0-9a-f]{64}$/);

    // The decision is for the live database: a scratch target is refused, and the decision stands.
    const elsewhere = await overLive(SCRATCH);
    expect(elsewhere.code, elsewhere.out).toBe(EXIT.usage);
    expect(elsewhere.out).toMatch(
      /--over-live restores only over the live database of stack it-prod-restore/,
    );
    expect(fs.existsSync(`${decision.record}.used`)).toBe(false);

    const restored = await overLive(LIVE.replace("127.0.0.1", "localhost"));
    expect(restored.code, restored.out).toBe(0);
    expect(restored.out).toContain(
      `restored ${dump} into the live database of NOVA_RESTORE_TARGET and migrated it`,
    );
    expect(await tenants()).toBe("3");
    expect(fs.existsSync(`${decision.record}.used`)).toBe(true);

    // Once: the same decision does not restore again.
    await psql(LIVE, "DELETE FROM tenants");
    const again = await overLive(LIVE);
    expect(again.code, again.out).toBe(EXIT.usage);
    expect(again.out).toMatch(/it was used already \(a decision restores once\)/);
    expect(await tenants()).toBe("0");

    // A decision written by hand in the incident commander's name and signed with another roster key.
    const handMade = path.join(path.dirname(decision.record), "restore-db-zz-hand-made.json");
    const body = JSON.parse(fs.readFileSync(decision.record, "utf8")) as Record<string, string>;
    fs.writeFileSync(handMade, JSON.stringify({ ...body, createdAt: new Date().toISOString() }));
    await runTool("ssh-keygen", [
      "-q",
      "-Y",
      "sign",
      "-n",
      "nova-rollout",
      "-f",
      world.sre.keyFile,
      handMade,
    ]);
    const hostile = await overLive(LIVE);
    expect(hostile.code, hostile.out).toBe(EXIT.usage);
    expect(hostile.out).toMatch(
      /restore-db-zz-hand-made\.json: its signature is not ida-incident-commander's/,
    );
    expect(await tenants()).toBe("0");
  });
});
