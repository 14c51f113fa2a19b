import * as pulumi from "@pulumi/pulumi";
import { afterEach, expect, it } from "vitest";
import { productionRaw, useStackConfig } from "./support/config-fixtures";
import { installMocks, programError } from "./support/mocks";

// The SDK believes this run is a preview (as it does when PULUMI_NODEJS_DRY_RUN=true is inherited from the caller),
// while the language host's arguments say the engine runs an update: the program refuses before any resource, for a
// production stack whose guard would otherwise only warn.
const argv = process.argv;
afterEach(() => {
  process.argv = argv;
});

it("refuses an update whose environment claims a preview, and registers nothing", async () => {
  useStackConfig(productionRaw({ evidenceDir: "tests/drills/logs" }));
  const mocks = installMocks({ stack: "it-guard-dry-run", preview: true });
  process.argv = [
    argv[0] ?? "node",
    "run",
    "--monitor",
    "127.0.0.1:1",
    "--stack",
    "it-guard-dry-run",
    "index.js",
  ];
  const error = await programError();
  expect(error).toBeInstanceOf(pulumi.RunError);
  expect((error as Error).message).toMatch(/engine runs an update.*PULUMI_NODEJS_DRY_RUN=true/);
  expect(mocks.resources.filter((r) => !r.type.startsWith("pulumi:"))).toEqual([]);
});
