import { afterEach, describe, expect, it, vi } from "vitest";
import { buildProgram, main } from "../../../cli";

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

describe("rollout CLI", () => {
  it("offers every playbook command", () => {
    expect(
      buildProgram()
        .commands.map((c) => c.name())
        .sort(),
    ).toEqual(
      [
        "approve",
        "authorize-restore",
        "drift",
        "exit-codes",
        "freeze",
        "history",
        "keys",
        "override",
        "pin",
        "promote",
        "post-launch",
        "preflight",
        "preview",
        "request-update",
        "recover",
        "restore-db",
        "rollback",
        "status",
        "up",
        "verify",
      ].sort(),
    );
  });

  it("prints its version with --version and exits 0", async () => {
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    expect(await main(["--version"])).toBe(0);
    expect(stdout.mock.calls.map((c) => String(c[0])).join("")).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it.each([[["up"]], [["history", "--stack", "x", "--limit", "0"]], [["launch"]]])(
    "exits 2 with a usage message for %j",
    async (argv) => {
      const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
      expect(await main(argv)).toBe(2);
      expect(stderr.mock.calls.map((c) => String(c[0])).join("")).toMatch(
        /error: (required option|option|unknown command)/,
      );
    },
  );
});
