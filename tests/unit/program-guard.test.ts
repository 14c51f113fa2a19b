import * as pulumi from "@pulumi/pulumi";
import { expect, it } from "vitest";
import { productionRaw, useStackConfig } from "./support/config-fixtures";
import { installMocks, programError } from "./support/mocks";

// A real update (not a preview) of a production stack with no evidence on file: the program refuses before it
// registers any resource, with one message listing every finding and its fix.
it("refuses a real update of an unready production stack and registers nothing", async () => {
  useStackConfig(productionRaw({ evidenceDir: "tests/drills/logs" }));
  const mocks = installMocks({ stack: "it-guard-no-evidence", preview: false });
  const error = await programError();
  expect(error).toBeInstanceOf(pulumi.RunError);
  const message = (error as Error).message;
  expect(message).toMatch(/^Stack it-guard-no-evidence is production \(it targets namespace nova-prod/);
  expect(message).toMatch(/\[bundle\] No readiness evidence for stack "it-guard-no-evidence"/);
  expect(message).toMatch(/\[freeze\] No active change-freeze window/);
  expect(message).toMatch(/\[approval\] No valid leadership approval/);
  expect(message).toMatch(/fix: npm run preflight -- --stack it-guard-no-evidence/);
  expect(message).toMatch(/Nothing was changed\.$/);
  expect(mocks.resources.filter((r) => !r.type.startsWith("pulumi:"))).toEqual([]);
});
