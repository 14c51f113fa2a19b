import { defineConfig } from "vitest/config";

// `npm run bench`: each file pairs a baseline with the code it measures; vitest prints how many times slower the
// measured code is than its baseline in the same run, so numbers compare across machines.
export default defineConfig({
  test: {
    benchmark: { include: ["bench/**/*.bench.ts"] },
  },
});
