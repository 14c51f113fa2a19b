import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, isSecret, promiseOf, settle, unwrap, type MockState } from "../support/mocks";

/** What the dump command prints last (the provider records stdout; the component reads the location from it). */
const DUMPED = "gs://backups/pre-release/production-2026.11.3-0123456789ab-20261203T150405Z.dump";

let mocks: MockState;
let mod: typeof import("../../../components/database-safeguards");

beforeAll(async () => {
  mocks = installMocks({
    outputs: {
      "command:local:Command": (inputs) => ({
        stdout:
          typeof inputs.create === "string" && inputs.create.includes("pg_dump")
            ? `logical dump written to ${DUMPED}`
            : "",
        stderr: "",
      }),
    },
  });
  mod = await import("../../../components/database-safeguards");
});

const args = {
  databaseUrl: pulumi.secret("postgres://nova:pw%2Fsecret@db/nova"),
  rehearsalDatabaseUrl: pulumi.secret("postgres://nova:clone-pw@db/rehearsal"),
  backupDestination: "gs://backups/pre-release",
  migrationCommand: "npm run migrate",
  stack: "production",
  release: "2026.11.3",
  releaseKey: ["2026.11.3", "sha256:a", "sha256:b"],
};

describe("DatabaseSafeguards", () => {
  it("dumps, then rehearses the migration on a clone; passwords only in secret environment, never in a script", async () => {
    const db = new mod.DatabaseSafeguards("db", args);
    expect(await promiseOf(db.dumpLocation)).toBe(DUMPED);
    expect(await isSecret(db.dumpLocation)).toBe(false);
    expect(await isSecret(db.dump.environment as pulumi.Output<unknown>)).toBe(true);
    await settle();
    const dump = mocks.named("db-dump");
    expect(dump.inputs.create).toContain("pg_dump --format=custom");
    expect(dump.inputs.create).toMatch(
      /location=gs:\/\/backups\/pre-release\/production-2026\.11\.3-[a-f0-9]{12}-"\$\(date -u \+%Y%m%dT%H%M%SZ\)"\.dump/,
    );
    expect(dump.inputs.create).toContain("gcloud storage cp --no-clobber -");
    expect(unwrap(dump.inputs.environment)).toEqual({
      secret: true,
      value: { LIVE_PG_URL: "postgres://nova@db/nova", LIVE_PGPASSWORD: "pw/secret" },
    });
    const rehearsal = mocks.named("db-migration-rehearsal");
    expect(rehearsal.inputs.create).toContain(`gcloud storage cat ${DUMPED} | pg_as REHEARSAL pg_restore`);
    expect(rehearsal.inputs.create).toContain("npm run migrate");
    expect(rehearsal.inputs.triggers).toEqual(dump.inputs.triggers);
    for (const script of [dump.inputs.create, rehearsal.inputs.create]) {
      for (const secret of ["pw%2Fsecret", "pw/secret", "clone-pw"])
        expect(String(script)).not.toContain(secret);
    }
  });

  it("runs both scripts under bash with pipefail, bounded by the default timeout (6 h)", async () => {
    new mod.DatabaseSafeguards("db-bash", args);
    await settle();
    for (const name of ["db-bash-dump", "db-bash-migration-rehearsal"]) {
      const cmd = mocks.named(name);
      expect(cmd.inputs.interpreter).toEqual(["timeout", "--kill-after=10", "21600", "/bin/bash", "-c"]);
      expect(String(cmd.inputs.create).split("\n")[0]).toBe("set -euo pipefail");
    }
  });

  it("bounds each step by timeoutSeconds", async () => {
    new mod.DatabaseSafeguards("db-bound", { ...args, timeoutSeconds: 900 });
    await settle();
    for (const name of ["db-bound-dump", "db-bound-migration-rehearsal"]) {
      expect(mocks.named(name).inputs.interpreter).toEqual([
        "timeout",
        "--kill-after=10",
        "900",
        "/bin/bash",
        "-c",
      ]);
    }
  });

  it("gives the rehearsal both connections as secrets, for the same-database check before pg_restore --clean", async () => {
    new mod.DatabaseSafeguards("db-check", args);
    await settle();
    const rehearsal = mocks.named("db-check-migration-rehearsal");
    expect(unwrap(rehearsal.inputs.environment)).toEqual({
      secret: true,
      value: {
        LIVE_PG_URL: "postgres://nova@db/nova",
        LIVE_PGPASSWORD: "pw/secret",
        REHEARSAL_PG_URL: "postgres://nova@db/rehearsal",
        REHEARSAL_PGPASSWORD: "clone-pw",
        MIGRATION_DATABASE_URL: "postgres://nova:clone-pw@db/rehearsal",
      },
    });
    const script = String(rehearsal.inputs.create);
    expect(script.indexOf("pg_control_system()")).toBeLessThan(script.indexOf("pg_restore --clean"));
    expect(script.indexOf("unset LIVE_PG_URL LIVE_PGPASSWORD")).toBeLessThan(
      script.indexOf("npm run migrate"),
    );
  });

  it("triggers a new dump for a new release", async () => {
    new mod.DatabaseSafeguards("db-a", args);
    new mod.DatabaseSafeguards("db-b", { ...args, releaseKey: ["2026.11.3", "sha256:c", "sha256:b"] });
    await settle();
    expect(mocks.named("db-a-dump").inputs.triggers).not.toEqual(mocks.named("db-b-dump").inputs.triggers);
  });

  it("a rollback registers both commands with nothing to run: no script, no credentials", async () => {
    const db = new mod.DatabaseSafeguards("db-rollback", { ...args, mode: "rollback" });
    await settle();
    for (const name of ["db-rollback-dump", "db-rollback-migration-rehearsal"]) {
      const cmd = mocks.named(name);
      // The provider runs `update`, else `create`: with neither, the update that records the rollback runs nothing.
      expect(cmd.inputs.create).toBeUndefined();
      expect(cmd.inputs.update).toBeUndefined();
      expect(cmd.inputs.delete).toBeUndefined();
      expect(cmd.inputs.environment).toBeUndefined();
      expect(cmd.inputs.interpreter).toEqual(["timeout", "--kill-after=10", "21600", "/bin/bash", "-c"]);
    }
    // Still there for the ordering policy: the chart depends on the dump command.
    expect(mocks.named("db-rollback-migration-rehearsal").dependsOn).toContain("db-rollback-dump");
    // Under mocks no earlier dump is recorded; on the engine the location recorded before the rollback is kept.
    expect(await promiseOf(db.dumpLocation)).toBe("");
  });
});
