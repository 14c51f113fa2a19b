import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { DIGEST_A, DIGEST_B, productionRaw } from "./support/config-fixtures";
import { installMocks, promiseOf, settle, type MockState } from "./support/mocks";

// The whole program on a production-shaped stack during a rollback's own update (`rollout rollback` sets
// nova-rollout:rollbackOf), under mocks: no database work is registered to run.
let mocks: MockState;
let program: typeof import("../../index");

beforeAll(async () => {
  const raw = productionRaw({ rollbackOf: `update 7 api ${DIGEST_A} worker ${DIGEST_B}` });
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(raw).map(([k, v]) => [`nova-rollout:${k}`, String(v)])),
    [
      "nova-rollout:rehearsalDatabaseUrl",
      "nova-rollout:secretsChecksumKey",
      "nova-rollout:databaseUrl",
      "nova-rollout:jwtSigningKey",
      "nova-rollout:billingApiKey",
    ],
  );
  mocks = installMocks({
    stack: "production",
    preview: true,
    calls: {
      "gcp:artifactregistry/getDockerImage:getDockerImage": (i) => ({
        selfLink: `us-docker.pkg.dev/nova-prod/nova/x@${String(i.imageName).startsWith("nova-rms-api") ? DIGEST_A : DIGEST_B}`,
      }),
    },
  });
  program = await import("../../index");
  await promiseOf(program.verificationResults);
  await settle();
});

describe("the program during a rollback", () => {
  it("registers the dump and the rehearsal with nothing to run and no credentials", () => {
    for (const name of ["nova-db-dump", "nova-db-migration-rehearsal"]) {
      const cmd = mocks.named(name);
      expect(cmd.inputs.create).toBeUndefined();
      expect(cmd.inputs.update).toBeUndefined();
      expect(cmd.inputs.environment).toBeUndefined();
    }
  });

  it("still orders the chart after the database step (the ordering policy sees the dump command)", () => {
    const deployments = mocks.byType("kubernetes:helm.sh/v4:Chart");
    expect(deployments.length).toBeGreaterThan(0);
    for (const chart of deployments)
      expect(chart.dependsOn).toEqual(expect.arrayContaining(["nova-db-dump"]));
  });

  it("re-applies the restored release itself", async () => {
    expect(await promiseOf(program.imageDigests)).toEqual({ api: DIGEST_A, worker: DIGEST_B });
  });
});
