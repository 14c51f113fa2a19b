import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  CONFIG_KEYS,
  ConfigValidationError,
  loadStackSettingsFromFile,
  plaintextSecretProblems,
  readStackFile,
  SECRET_CONFIG_KEYS,
} from "../../../src/config";

const root = path.resolve(__dirname, "../../..");
const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
  name: string;
  runtime: { options: Record<string, unknown> };
  config: Record<string, { type: string; description: string; default?: unknown; secret?: boolean }>;
};

describe("Pulumi.yaml", () => {
  it("is the nova-rollout project running precompiled JavaScript", () => {
    expect(project.name).toBe("nova-rollout");
    expect(project.runtime.options.typescript).toBe(false);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { main: string };
    expect(pkg.main).toBe("dist/program.js"); // the bundle scripts/bundle.mjs makes from index.ts
  });

  it("declares exactly the keys of the schema, each with a type and a description", () => {
    expect(Object.keys(project.config).sort()).toEqual([...CONFIG_KEYS].sort());
    for (const [key, decl] of Object.entries(project.config)) {
      expect(["string", "integer", "boolean", "array"], key).toContain(decl.type);
      expect(decl.description.length, key).toBeGreaterThan(10);
    }
  });

  it("gives secret keys no default other than empty, and says they are secrets", () => {
    for (const key of SECRET_CONFIG_KEYS) {
      expect(project.config[key]?.default ?? "", key).toBe("");
      expect(project.config[key]?.description, key).toMatch(/^Secret:/);
    }
  });
});

describe("committed stack files", () => {
  it("production needs only the rehearsal database and checksum key secrets set per stack (the rest is in Secret Manager)", () => {
    let problems: string[] = [];
    try {
      loadStackSettingsFromFile(root, "production");
    } catch (err) {
      if (!(err instanceof ConfigValidationError)) throw err;
      problems = err.problems.map((p) => p.key);
    }
    expect(problems.sort()).toEqual(["nova-rollout:rehearsalDatabaseUrl", "nova-rollout:secretsChecksumKey"]);
    expect(plaintextSecretProblems(readStackFile(root, "production"))).toEqual([]);
  });

  it("local (the sandbox stack) validates, with every secret stored encrypted", () => {
    const s = loadStackSettingsFromFile(root, "local");
    expect(s.environment).toBe("sandbox");
    expect(s.images.resolver).toBe("registry-api");
    expect([...readStackFile(root, "local").encryptedKeys].sort()).toEqual(
      ["billingApiKey", "databaseUrl", "jwtSigningKey", "rehearsalDatabaseUrl", "secretsChecksumKey"].map(
        (x) => `nova-rollout:${x}`,
      ),
    );
  });

  it("staging names exactly the secrets each machine must set", () => {
    let problems: string[] = [];
    try {
      loadStackSettingsFromFile(root, "staging");
    } catch (err) {
      if (!(err instanceof ConfigValidationError)) throw err;
      problems = err.problems.map((p) => p.key).sort();
    }
    expect(problems).toEqual(
      ["billingApiKey", "databaseUrl", "jwtSigningKey", "rehearsalDatabaseUrl", "secretsChecksumKey"].map(
        (x) => `nova-rollout:${x}`,
      ),
    );
  });
});
