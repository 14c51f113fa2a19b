import { defineConfig } from "vitest/config";

// One runner, four layers. `npx vitest run --project unit` runs one of them.
export default defineConfig({
  test: {
    isolate: true,
    reporters: ["default"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["tests/unit/**/*.test.ts"],
          // A stand-in API server on loopback: what stack classification asks a cluster (tests/support).
          globalSetup: ["tests/support/kube-api-standin.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "policy",
          include: ["tests/policy/**/*.test.ts"],
          // A stand-in API server on loopback: what stack classification asks a cluster (tests/support).
          globalSetup: ["tests/support/kube-api-standin.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "chart",
          include: ["tests/chart/**/*.test.ts"],
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          // The integration layer shares one sandbox cluster and one toolchain: run its files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
