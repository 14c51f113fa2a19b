import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, isSecret, promiseOf, settle, unwrap, type MockState } from "../support/mocks";

let mocks: MockState;
let mod: typeof import("../../../components/database-safeguards");

beforeAll(async () => {
  mocks = installMocks();
  mod = await import("../../../components/database-safeguards");
});

const args = {
  databaseUrl: pulumi.secret("postgres://nova:pw@db/nova"),
  rehearsalDatabaseUrl: pulumi.secret("postgres://nova:pw@db/rehearsal"),
  backupDestination: "gs://backups/pre-release",
  migrationCommand: "npm run migrate",
  stack: "production",
  release: "2026.11.3",
  releaseKey: ["2026.11.3", "sha256:a", "sha256:b"],
};

describe("DatabaseSafeguards", () => {
  it("dumps, then rehearses the migration on a clone; credentials only in secret environment", async () => {
    const db = new mod.DatabaseSafeguards("db", args);
    const location = await promiseOf(db.dumpLocation);
    expect(location).toMatch(/^gs:\/\/backups\/pre-release\/production-2026\.11\.3-[a-f0-9]{12}\.dump$/);
    expect(await isSecret(db.dump.environment as pulumi.Output<unknown>)).toBe(true);
    await settle();
    const dump = mocks.named("db-dump");
    expect(dump.inputs.create).toContain("pg_dump --format=custom");
    expect(dump.inputs.create).toContain(`gcloud storage cp - ${location}`);
    expect(JSON.stringify(dump.inputs.create)).not.toContain("pw@");
    expect(unwrap(dump.inputs.environment)).toEqual({
      secret: true,
      value: { DATABASE_URL: "postgres://nova:pw@db/nova" },
    });
    const rehearsal = mocks.named("db-migration-rehearsal");
    expect(rehearsal.inputs.create).toContain("pg_restore");
    expect(rehearsal.inputs.create).toContain("npm run migrate");
    expect(rehearsal.inputs.triggers).toEqual(dump.inputs.triggers);
    expect(JSON.stringify(rehearsal.inputs.create)).not.toContain("pw@");
  });

  it("runs both scripts under bash with pipefail", async () => {
    new mod.DatabaseSafeguards("db-bash", args);
    await settle();
    for (const name of ["db-bash-dump", "db-bash-migration-rehearsal"]) {
      const cmd = mocks.named(name);
      expect(cmd.inputs.interpreter).toEqual(["/bin/bash", "-c"]);
      expect(String(cmd.inputs.create).split("\n")[0]).toBe("set -euo pipefail");
    }
  });

  it("gives the rehearsal both URLs as secrets, for the same-database check before pg_restore --clean", async () => {
    new mod.DatabaseSafeguards("db-check", args);
    await settle();
    const rehearsal = mocks.named("db-check-migration-rehearsal");
    expect(unwrap(rehearsal.inputs.environment)).toEqual({
      secret: true,
      value: {
        REHEARSAL_DATABASE_URL: "postgres://nova:pw@db/rehearsal",
        LIVE_DATABASE_URL: "postgres://nova:pw@db/nova",
      },
    });
    const script = String(rehearsal.inputs.create);
    expect(script.indexOf("pg_control_system()")).toBeLessThan(script.indexOf("pg_restore --clean"));
    expect(script.indexOf("unset LIVE_DATABASE_URL")).toBeLessThan(script.indexOf("npm run migrate"));
  });

  it("names the dump after the release so a new release dumps again", async () => {
    const a = await promiseOf(new mod.DatabaseSafeguards("db-a", args).dumpLocation);
    const b = await promiseOf(
      new mod.DatabaseSafeguards("db-b", { ...args, releaseKey: ["2026.11.3", "sha256:c", "sha256:b"] })
        .dumpLocation,
    );
    expect(a).not.toBe(b);
  });
});
