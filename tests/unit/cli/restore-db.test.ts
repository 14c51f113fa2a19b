import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stackDumps } from "../../../cli/actions/dumps";
import { liveConnection, restoreDb } from "../../../cli/actions/restore-db";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "restore-db-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("restore-db", () => {
  it("finds the stack's dumps, newest first by the time in their names", () => {
    for (const name of [
      "production-2026.11.2-aaaa-20261120T100000Z.dump",
      "production-2026.11.3-bbbb-20261203T150405Z.dump",
      "production-2026.11.3-cccc-20261203T150405Z.dump.partial", // never finished
      "staging-2026.11.3-dddd-20261204T000000Z.dump", // another stack's
      "production-notes.txt",
    ])
      fs.writeFileSync(path.join(dir, name), "");
    expect(stackDumps(dir, "production").map((f) => path.basename(f))).toEqual([
      "production-2026.11.3-bbbb-20261203T150405Z.dump",
      "production-2026.11.2-aaaa-20261120T100000Z.dump",
    ]);
    expect(stackDumps(path.join(dir, "none"), "production")).toEqual([]);
  });

  it("names a target variable that is not set (or not a name) before anything else runs", async () => {
    delete process.env.NOVA_RESTORE_UNSET;
    await expect(
      restoreDb({ stack: "production", projectDir: dir, targetEnv: "NOVA_RESTORE_UNSET" }),
    ).rejects.toThrow(/--target-env NOVA_RESTORE_UNSET: the variable is not set/);
    const mistaken = restoreDb({
      stack: "production",
      projectDir: dir,
      targetEnv: "postgres://u:pw-1@db/nova",
    });
    await expect(mistaken).rejects.toThrow(/--target-env takes the name of an environment variable/);
    await expect(mistaken).rejects.not.toThrow(/pw-1/);
  });

  it("checks the target against the live database the config names; --live-env cannot stand in for it", () => {
    const fromConfig = {
      secrets: { source: "config", values: { databaseUrl: "postgres://nova@db/nova" } },
    } as unknown as Parameters<typeof liveConnection>[0];
    expect(liveConnection(fromConfig, undefined)).toBe("postgres://nova@db/nova");
    process.env.NOVA_DECOY_LIVE = "postgres://nova@decoy/other";
    expect(() => liveConnection(fromConfig, "NOVA_DECOY_LIVE")).toThrow(
      /--live-env is for stacks whose secrets/,
    );
    const fromSecretManager = { secrets: { source: "gcp-secret-manager" } } as unknown as Parameters<
      typeof liveConnection
    >[0];
    expect(liveConnection(fromSecretManager, "NOVA_DECOY_LIVE")).toBe("postgres://nova@decoy/other");
    expect(() => liveConnection(fromSecretManager, undefined)).toThrow(/pass --live-env <variable>/);
    delete process.env.NOVA_DECOY_LIVE;
  });
});
