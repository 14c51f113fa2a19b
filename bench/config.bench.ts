import { bench, describe } from "vitest";
import { parseStackSettings } from "../src/config";
import { productionRaw } from "../tests/unit/support/config-fixtures";

// Baseline: a JSON round trip of the same raw config (the floor of touching every key once).
const raw = productionRaw();
const opts = { stack: "production", projectDir: "/repo" };

describe("stack config validation", () => {
  bench("baseline: JSON round trip of the raw config", () => {
    JSON.parse(JSON.stringify(raw));
  });
  bench("parseStackSettings (zod schema + cross-key rules)", () => {
    parseStackSettings(raw, opts);
  });
  bench("parseStackSettings on a config with 5 problems (error path)", () => {
    try {
      parseStackSettings(
        { ...raw, environment: "qa", apiReplicas: "0", namespace: "X", bogus: 1, imageTag: "" },
        opts,
      );
    } catch {
      // expected
    }
  });
});
