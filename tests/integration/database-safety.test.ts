// Pre-apply steps that cannot hurt production, on the real engine and the sandbox PostgreSQL: a rehearsal database that
// is the live one is refused (by the stack config, and again by the rehearsal script itself before pg_restore --clean),
// a failed dump never sits under its final name, and the user commands (migration, synthetic E2E, billing drill) see
// an allow-listed environment only, so neither the engine's output nor the state shows the passphrase, the registry
// authorization or a secret value. Stacks `it-db-*` in this file's own temp backend; namespaces `it-db-*`; databases
// `it_db_*_<run>` created and dropped here (the sandbox's `nova` database is not touched).
import { execFile, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectionEnv,
  dumpLocationFrom,
  dumpScript,
  rehearsalScript,
  SAME_DATABASE_EXIT_CODE,
  SCRIPT_INTERPRETER,
} from "../../components/database-scripts";
import {
  createOrSelectProjectStack,
  ensureSandbox,
  REPO_ROOT,
  requireToolchainOrThrow,
  tempBackend,
  TEST_PASSPHRASE,
  testEnv,
  useTestBackend,
} from "./harness";
import { destroyStacks } from "./protect";
import { filesUnder, sandboxConfig, SECRETS, stateResources } from "./scenario";

const execFileAsync = promisify(execFile);

const run = crypto.randomBytes(4).toString("hex");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "nova-it-db-"));
const backend = tempBackend("nova-it-db-state-");
const engineOutput: string[] = [];
const capture = (out: string) => void engineOutput.push(out);
const stacks: Stack[] = [];
let restoreEnv: () => void = () => undefined;

const PG = "postgresql://postgres@127.0.0.1:55432";
const LIVE_DB = `it_db_live_${run}`;
const SCRATCH_DB = `it_db_scratch_${run}`;
/** Passwords in the URLs are canaries: the sandbox trusts loopback, so they are never checked, only leaked or not. */
const LIVE_PASSWORD = `it-db-live-pw-${run}`;
const REHEARSAL_PASSWORD = `it-db-rehearsal-pw-${run}`;
const LIVE_URL = `postgresql://postgres:${LIVE_PASSWORD}@127.0.0.1:55432/${LIVE_DB}`;
const SCRATCH_URL = `postgresql://postgres:${REHEARSAL_PASSWORD}@127.0.0.1:55432/${SCRATCH_DB}`;
const REGISTRY_CANARY = `Bearer it-db-registry-canary-${run}`;
const ROW = `written-before-the-attempt-${run}`;

/** Every value that must never be printed or stored in plain text. */
const CANARIES = {
  passphrase: TEST_PASSPHRASE,
  registryAuthorization: REGISTRY_CANARY,
  livePassword: LIVE_PASSWORD,
  rehearsalPassword: REHEARSAL_PASSWORD,
  jwtSigningKey: SECRETS["nova-rollout:jwtSigningKey"],
  billingApiKey: SECRETS["nova-rollout:billingApiKey"],
};

async function psql(url: string, sql: string): Promise<string> {
  const { stdout } = await execFileAsync(
    "psql",
    [url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
    {
      env: testEnv(),
    },
  );
  return stdout.trim();
}

const liveRows = () => psql(`${PG}/${LIVE_DB}`, "SELECT note FROM accounts ORDER BY id");
const tableExists = (db: string, table: string) =>
  psql(`${PG}/${db}`, `SELECT count(*) FROM pg_tables WHERE tablename = '${table}'`).then((n) => n === "1");

/** Runs a generated script the way the command provider does (its `interpreter`), with exactly the given env. */
async function runScript(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [shell = "/bin/bash", ...flags] = SCRIPT_INTERPRETER;
  try {
    const { stdout, stderr } = await execFileAsync(shell, [...flags, script], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** The provider's environment as a deploying machine has it: toolchain, passphrase, registry credentials. */
const providerLikeEnv = (extra: Record<string, string>) =>
  testEnv({
    PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
    NOVA_REGISTRY_AUTHORIZATION: REGISTRY_CANARY,
    ...extra,
  });

async function projectStack(
  name: string,
  namespace: string,
  secrets: { databaseUrl: string; rehearsalDatabaseUrl: string },
  extra: Record<string, string> = {},
): Promise<Stack> {
  const stack = await createOrSelectProjectStack({
    stackName: name,
    backendUrl: backend.url,
    config: sandboxConfig({
      namespace,
      backups: path.join(work, namespace, "backups"),
      evidenceDir: path.join(work, "evidence"),
      extra,
    }),
    secrets: {
      ...SECRETS,
      "nova-rollout:databaseUrl": secrets.databaseUrl,
      "nova-rollout:rehearsalDatabaseUrl": secrets.rehearsalDatabaseUrl,
    },
    env: { NOVA_REGISTRY_AUTHORIZATION: REGISTRY_CANARY },
  });
  stacks.push(stack);
  return stack;
}

async function failureOf(action: Promise<unknown>): Promise<string> {
  try {
    await action;
  } catch (err) {
    return String(err);
  }
  throw new Error("expected the engine to fail");
}

const dumpsUnder = (dir: string) => filesUnder(dir).filter((f) => /\.dump(\.partial)?$/.test(f));

beforeAll(async () => {
  requireToolchainOrThrow();
  expect(fs.existsSync(path.join(REPO_ROOT, "dist", "index.js")), "run `npm run build` first").toBe(true);
  await ensureSandbox();
  restoreEnv = useTestBackend(backend.url);
  await psql(`${PG}/postgres`, `CREATE DATABASE ${LIVE_DB}`);
  await psql(`${PG}/postgres`, `CREATE DATABASE ${SCRATCH_DB}`);
  await psql(`${PG}/${LIVE_DB}`, "CREATE TABLE accounts (id int PRIMARY KEY, note text NOT NULL)");
  await psql(`${PG}/${LIVE_DB}`, `INSERT INTO accounts VALUES (1, '${ROW}')`);
}, 600_000);

afterAll(async () => {
  await destroyStacks(stacks, REPO_ROOT, capture);
  restoreEnv();
  for (const db of [LIVE_DB, SCRATCH_DB]) {
    await psql(`${PG}/postgres`, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
  }
  backend.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
}, 900_000);

describe.sequential("database safety on the sandbox", () => {
  it("refuses a rehearsal URL naming the live database at config time: preview and up fail before any command runs", async () => {
    // The same database, spelled differently: other credentials, LOCALHOST, the default-less port, a query string.
    const sameButSpelledDifferently = `postgres://postgres:${REHEARSAL_PASSWORD}@LOCALHOST:55432/${LIVE_DB}?sslmode=disable`;
    const stack = await projectStack("it-db-same", "it-db-same", {
      databaseUrl: LIVE_URL,
      rehearsalDatabaseUrl: sameButSpelledDifferently,
    });
    const backups = path.join(work, "it-db-same", "backups");
    // One after the other (the engine locks the stack): a preview, then a real update.
    for (const action of [
      () => stack.preview({ onOutput: capture }),
      () => stack.up({ onOutput: capture }),
    ]) {
      const message = await failureOf(action());
      expect(message).toMatch(/nova-rollout:rehearsalDatabaseUrl: points at the live database/);
      expect(message).not.toContain(LIVE_PASSWORD);
      expect(message).not.toContain(REHEARSAL_PASSWORD);
      expect(message).not.toContain(LIVE_DB);
    }
    // Nothing ran: no dump, no resource, and the live row is still there.
    expect(dumpsUnder(backups)).toEqual([]);
    expect((await stateResources(stack)).filter((r) => r.type.startsWith("command:"))).toEqual([]);
    expect(await liveRows()).toBe(ROW);
  });

  it("the rehearsal script itself refuses two connections to the same database, before pg_restore --clean", async () => {
    const dumped = await runScript(
      dumpScript(path.join(work, "direct", "live")),
      providerLikeEnv(connectionEnv("LIVE", LIVE_URL)),
    );
    expect(dumped.code, dumped.stderr).toBe(0);
    const dump = dumpLocationFrom(dumped.stdout) ?? "";
    expect(fs.statSync(dump).size).toBeGreaterThan(0);
    fs.copyFileSync(dump, path.join(work, "direct", "live.dump"));

    const migration = `psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -qAt -c "CREATE TABLE migrated_${run} ()"`;
    const refused = await runScript(
      rehearsalScript(dump, migration),
      providerLikeEnv({
        ...connectionEnv("LIVE", LIVE_URL),
        // Another user name and host spelling: only the server can tell that it is the same database.
        ...connectionEnv("REHEARSAL", `postgresql://postgres@localhost:55432/${LIVE_DB}`),
        MIGRATION_DATABASE_URL: `postgresql://postgres@localhost:55432/${LIVE_DB}`,
      }),
    );
    expect(refused.code).toBe(SAME_DATABASE_EXIT_CODE);
    expect(refused.stderr).toMatch(
      /refusing the migration rehearsal: nova-rollout:rehearsalDatabaseUrl reaches the live database/,
    );
    expect(refused.stderr + refused.stdout).not.toContain(LIVE_PASSWORD);
    expect(await liveRows()).toBe(ROW);
    expect(await tableExists(LIVE_DB, `migrated_${run}`)).toBe(false);
  });

  it("on a real clone it restores, migrates with the allow-listed environment only, and leaves the live database alone", async () => {
    const dump = path.join(work, "direct", "live.dump");
    const envFile = path.join(work, "direct", "migration.env");
    const migration = `env > ${envFile}; psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -qAt -c "CREATE TABLE migrated_${run} ()"`;
    const passed = await runScript(
      rehearsalScript(dump, migration),
      providerLikeEnv({
        ...connectionEnv("LIVE", LIVE_URL),
        ...connectionEnv("REHEARSAL", SCRATCH_URL),
        MIGRATION_DATABASE_URL: SCRATCH_URL,
      }),
    );
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stdout).toMatch(/migration rehearsal passed on the clone/);
    expect(await psql(`${PG}/${SCRATCH_DB}`, "SELECT note FROM accounts")).toBe(ROW);
    expect(await tableExists(SCRATCH_DB, `migrated_${run}`)).toBe(true);
    expect(await tableExists(LIVE_DB, `migrated_${run}`)).toBe(false);
    expect(await liveRows()).toBe(ROW);

    const seen = fs.readFileSync(envFile, "utf8");
    const names = seen
      .split("\n")
      .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
      .map((l) => l.slice(0, l.indexOf("=")))
      .filter((n) => !["PWD", "SHLVL", "_", "OLDPWD"].includes(n))
      .sort();
    expect(names).toEqual(["DATABASE_URL", "HOME", "LANG", "PATH", "TMPDIR"]);
    expect(seen).toContain(`DATABASE_URL=${SCRATCH_URL}`);
    for (const leaked of [TEST_PASSPHRASE, REGISTRY_CANARY, LIVE_PASSWORD])
      expect(seen).not.toContain(leaked);
  });

  it("a dump whose pg_dump fails leaves no file under the final name (script, then the engine's dump step)", async () => {
    const badUrl = `postgresql://postgres@127.0.0.1:1/${LIVE_DB}`;
    const failed = await runScript(
      dumpScript(path.join(work, "direct-bad", "x")),
      providerLikeEnv(connectionEnv("LIVE", badUrl)),
    );
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(/pg_dump: error: connection to server .* port 1 failed/);
    expect(dumpsUnder(path.join(work, "direct-bad"))).toEqual([]);

    const stack = await projectStack("it-db-dump", "it-db-dump", {
      databaseUrl: badUrl,
      rehearsalDatabaseUrl: SCRATCH_URL,
    });
    const message = await failureOf(stack.up({ onOutput: capture }));
    expect(message).toMatch(/nova-db-dump: create: command failed: exit status 1/);
    expect(dumpsUnder(path.join(work, "it-db-dump", "backups"))).toEqual([]);
    // The step failed before the rehearsal, the chart and the verification.
    const types = (await stateResources(stack)).map((r) => r.urn.split("::").pop());
    expect(types).not.toContain("nova-db-migration-rehearsal");
    expect(types).not.toContain("nova-verify-api-health");
    expect(message).not.toContain(LIVE_PASSWORD);
  });

  it("`ps` during the engine's dump shows no password: pg_dump gets it through its environment only", async () => {
    const stack = await projectStack("it-db-ps", "it-db-ps", {
      databaseUrl: LIVE_URL,
      rehearsalDatabaseUrl: SCRATCH_URL,
    });
    // A session holding an exclusive lock on the live table keeps pg_dump waiting, so `ps` can see it.
    const LOCKER = `it-db-ps-locker-${run}`;
    const locker = spawn("psql", [`${PG}/${LIVE_DB}`, "-X", "-q", "-v", "ON_ERROR_STOP=1"], {
      env: testEnv({ PGAPPNAME: LOCKER }),
      stdio: ["pipe", "ignore", "ignore"],
    });
    locker.stdin.write("BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(300);\n");
    const up = stack.up({ onOutput: capture });
    // Stop looking when the update ends (its result is checked below).
    let ended = false;
    void up.then(
      () => (ended = true),
      () => (ended = true),
    );
    let seen: { args: string; cmdline: string; environ: string } | undefined;
    try {
      for (let i = 0; i < 1200 && seen === undefined && !ended; i++) {
        const { stdout } = await execFileAsync("ps", ["-eo", "pid=,args="]);
        const line = stdout.split("\n").find((l) => /\bpg_dump\b/.test(l) && l.includes(LIVE_DB));
        if (line !== undefined) {
          const pid = line.trim().split(/\s+/)[0] ?? "";
          seen = {
            args: line,
            cmdline: fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" "),
            environ: fs.readFileSync(`/proc/${pid}/environ`, "utf8"),
          };
        } else await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      // The server would hold the lock until pg_sleep ends: end the session there, then the client.
      await psql(
        `${PG}/postgres`,
        `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '${LOCKER}'`,
      );
      locker.kill();
    }
    expect(seen, "pg_dump never showed up in ps").toBeDefined();
    expect(seen?.args).toContain(`--dbname=postgresql://postgres@127.0.0.1:55432/${LIVE_DB}`);
    expect(seen?.args).not.toContain(LIVE_PASSWORD);
    expect(seen?.cmdline).not.toContain(LIVE_PASSWORD);
    // The password did reach pg_dump: as PGPASSWORD, readable only by the same user and root.
    expect(seen?.environ.split("\0")).toContain(`PGPASSWORD=${LIVE_PASSWORD}`);
    const result = await up;
    expect(result.summary.result).toBe("succeeded");
    expect(dumpsUnder(path.join(work, "it-db-ps", "backups"))).toHaveLength(1);
  });

  it("`syntheticE2eCommand: env` (and the drill, and the migration) print no passphrase, registry authorization or secret", async () => {
    const stack = await projectStack(
      "it-db-env",
      "it-db-env",
      { databaseUrl: LIVE_URL, rehearsalDatabaseUrl: SCRATCH_URL },
      {
        syntheticE2eCommand: "env",
        billingDrillDryRunCommand: "env",
        migrationCommand: `env; psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -qAt -c "CREATE TABLE IF NOT EXISTS release_marker (release text PRIMARY KEY)"`,
      },
    );
    const before = engineOutput.length;
    const up = await stack.up({ onOutput: capture });
    expect(up.summary.result).toBe("succeeded");
    const results = up.outputs.verificationResults?.value as { check: string; ok: boolean }[];
    expect(results.filter((r) => ["synthetic-e2e", "billing-drill-dry-run"].includes(r.check))).toEqual([
      expect.objectContaining({ check: "synthetic-e2e", ok: true }),
      expect.objectContaining({ check: "billing-drill-dry-run", ok: true }),
    ]);
    const output = engineOutput.slice(before).join("");
    // The commands did print their environment, and it was the allow-list.
    expect(output).toMatch(/HOME=/);
    expect(output).toMatch(/TMPDIR=/);
    expect(output).not.toMatch(/PULUMI_CONFIG_PASSPHRASE=|NOVA_REGISTRY_AUTHORIZATION=|PULUMI_BACKEND_URL=/);
    // The migration's DATABASE_URL (the clone's URL, a secret) is redacted by the command provider.
    expect(output).toContain("DATABASE_URL=[secret]");
    expect(await liveRows()).toBe(ROW);

    const state = filesUnder(backend.dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => fs.readFileSync(f, "utf8"))
      .join("\n");
    expect(state).toMatch(/it-db-env/);
    for (const [where, text] of Object.entries({ engineOutput: engineOutput.join(""), state })) {
      for (const [name, canary] of Object.entries(CANARIES)) {
        expect(text.includes(canary), `${where} contains ${name}`).toBe(false);
      }
    }
  });
});
