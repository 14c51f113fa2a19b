import { defineConfig } from "vitest/config";

// `npm run bench` runs two parts with this config:
//  1. `vitest run`: bench/**/*.e2e.ts, the real engine on the sandbox (`npm run sandbox:up` first). Each variant is
//     measured as a whole process, 1 warm-up + 5 interleaved runs, and written to bench/results/<date>.json.
//  2. `vitest bench`: bench/**/*.bench.ts, in-process micro benches; each pairs a baseline with the code it measures,
//     so vitest prints how many times slower the measured code is than its baseline in the same run.
// Figures are ratios within one run; see bench/README.md.
export default defineConfig({
  test: {
    include: ["bench/**/*.e2e.ts"],
    // One file, one worker, no parallel runs: the measured commands must not compete with each other.
    fileParallelism: false,
    testTimeout: 3_600_000,
    hookTimeout: 900_000,
    benchmark: { include: ["bench/**/*.bench.ts"] },
  },
});
