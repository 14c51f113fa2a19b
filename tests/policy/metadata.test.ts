import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { policies } from "../../policy/policies";
import { POLICY_NAMES } from "../../src/contract";
import { enforcementFor, packConfigFile } from "./harness";

const names = policies.map((p) => p.name);

describe("policy pack metadata", () => {
  it("has unique kebab-case names prefixed nova-", () => {
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^nova-[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it.each(policies.map((p) => [p.name, p] as const))(
    "%s has a complete-sentence description and a config schema",
    (_n, p) => {
      expect(p.description).toMatch(/^[A-Z][^]*\.$/);
      expect(p.description.split(" ").length).toBeGreaterThanOrEqual(8);
      expect(p.configSchema).toBeDefined();
      expect(Object.keys(p.configSchema?.properties ?? {})).not.toContain("enforcementLevel");
    },
  );

  it("names its policies as src/contract does (POLICY_NAMES), each once", () => {
    expect([...names].sort()).toEqual(Object.values(POLICY_NAMES).sort());
  });

  it("has one policy file per policy, exporting it", () => {
    const dir = path.resolve(__dirname, "../../policy/policies");
    const files = fs
      .readdirSync(dir)
      .filter(
        (f) =>
          f.endsWith(".ts") &&
          ![
            "index.ts",
            "common.ts",
            "gate-support.ts",
            "sdk-support.ts",
            "records-policy.ts",
            "pod-security-standard.ts",
          ].includes(f),
      );
    expect(files.map((f) => `nova-${f.replace(/\.ts$/, "")}`).sort()).toEqual([...names].sort());
  });

  it.each(["production", "staging", "local"] as const)(
    "config/%s.json names only known policies and schema keys",
    (file) => {
      const config = packConfigFile(file);
      for (const [name, entry] of Object.entries(config)) {
        const policy = policies.find((p) => p.name === name);
        expect(policy, name).toBeDefined();
        for (const key of Object.keys(entry)) {
          if (key !== "enforcementLevel")
            expect(Object.keys(policy?.configSchema?.properties ?? {}), `${name}.${key}`).toContain(key);
        }
      }
      expect(Object.keys(config).sort()).toEqual([...names].sort());
    },
  );

  it("makes the gate mandatory in production and advisory in staging and sandbox stacks", () => {
    const gate = policies.find((p) => p.name === "nova-readiness-gate")!;
    expect(enforcementFor(gate, "production")).toBe("mandatory");
    expect(enforcementFor(gate, "staging")).toBe("advisory");
    expect(enforcementFor(gate, "local")).toBe("advisory");
  });

  it("keeps every safety policy but the override report mandatory in production", () => {
    for (const p of policies) {
      expect(enforcementFor(p, "production"), p.name).toBe(
        p.name === "nova-break-glass-override" ? "advisory" : "mandatory",
      );
    }
  });

  it("PulumiPolicy.yaml uses the nodejs runtime and package.json points at the compiled pack", () => {
    const yaml = fs.readFileSync(path.resolve(__dirname, "../../policy/PulumiPolicy.yaml"), "utf8");
    expect(yaml).toMatch(/^runtime: nodejs$/m);
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../policy/package.json"), "utf8")) as {
      main: string;
    };
    expect(pkg.main).toBe("../dist/policy/pack.js"); // the bundle scripts/bundle.mjs makes from policy/index.ts
  });
});
