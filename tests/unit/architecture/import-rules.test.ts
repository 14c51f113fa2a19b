import * as fs from "node:fs";
import path from "node:path";
import { ESLint } from "eslint";
import { beforeAll, describe, expect, it } from "vitest";

// The architecture rules of docs/architecture.md#rules, run through the project's own eslint.config.mjs on code
// linted at virtual paths (no fixture file on disk, so `npm run lint` never sees these violations).
const ROOT = path.resolve(__dirname, "../../..");
const IMPORT_RULES = new Set(["no-restricted-imports", "no-restricted-syntax"]);

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({
    cwd: ROOT,
    overrideConfigFile: path.join(ROOT, "eslint.config.mjs"),
    // The import rules read syntax only: skip the type-aware program (and every other rule) to keep this fast.
    overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
    ruleFilter: ({ ruleId }) => IMPORT_RULES.has(ruleId),
  });
});

async function lint(file: string, code: string): Promise<ESLint.LintResult> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  if (!result) throw new Error(`no lint result for ${file}`);
  return result;
}

// [rule, file, statement]: one row per form of import the rules must catch.
const VIOLATIONS: readonly (readonly [string, string, string])[] = [
  ["R1", "src/comms/templates.ts", `import type { LaunchSummary } from "../../cli/launch-report";`],
  ["R1", "src/evidence/gate/index.ts", `import { UserError } from "../../../cli/errors";`],
  ["R1", "src/config/index.ts", `export * from "../../cli/actions/release";`],
  ["R1", "src/util/cloud-sdks.ts", `export const m: unknown = require("../../cli/engine");`],
  ["R1", "src/evidence/checks/staging-stack.ts", `export const m = import("../../../cli/backend");`],
  ["R1", "src/release/fingerprint.ts", `export type E = typeof import("../../cli/engine");`],
  ["R2", "components/nova-release.ts", `import { parseStackSettings } from "../src/config/settings";`],
  ["R2", "components/app-secrets.ts", `import { SECRET_ENV_NAMES } from "../src/config";`],
  ["R2", "components/release-images.ts", `import type { Bundle } from "../src/evidence/model";`],
  ["R2", "components/scripts/dump.ts", `import { gateForStack } from "../../src/evidence";`],
  ["R2", "components/database-safeguards.ts", `import { toolchainEnv } from "../tools/toolchain-env";`],
  [
    "R3",
    "policy/policies/secrets-from-secret-values.ts",
    `import { SECRET_ENV_NAMES } from "../../src/config/schema";`,
  ],
  ["R3", "policy/index.ts", `import { exitCodes } from "../cli/errors";`],
  ["R3", "policy/policies/common.ts", `import { run } from "../../tools/sandbox/run";`],
  ["R3", "policy/policies/readiness-gate.ts", `export const m = import("../../cli/actions/preflight");`],
  ["R4", "src/contract/names.ts", `import { kebab } from "../util";`],
  ["R4", "src/contract/images.ts", `import { z } from "zod";`],
  ["R4", "src/contract/names.ts", `import { shellQuote } from "./../util/shell";`],
  ["R4", "src/contract/release.ts", `import { UserError } from "../../cli/errors";`],
  ["R4", "src/contract/index.ts", `export { parseStackSettings } from "../config/settings";`],
  ["R4", "src/contract/release.ts", `export const m: unknown = require("./../config");`],
];

describe("architecture import rules: violations fail with the rule's message", () => {
  it.each(VIOLATIONS)("%s: %s may not %s", async (rule, file, statement) => {
    const { messages } = await lint(file, `${statement}\n`);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(IMPORT_RULES.has(message?.ruleId ?? "")).toBe(true);
    expect(message?.message).toContain(`architecture rule ${rule} (docs/architecture.md#rules)`);
  });
});

describe("architecture import rules: allowed imports pass", () => {
  it.each([
    ["src/comms/templates.ts", `import type { LaunchSummary } from "./launch-summary";`],
    ["src/evidence/gate/index.ts", `import { RELEASE_ANNOTATIONS } from "../../contract";`],
    ["src/evidence/stack-settings.ts", `import { parseStackSettings } from "../config/settings";`],
    ["src/util/cloud-sdks.ts", `export const m: unknown = require("@pulumi/gcp");`],
    ["src/evidence/checks/staging-stack.ts", `export const m = import("@pulumi/pulumi/automation");`],
    ["components/post-deploy-verification.ts", `import { CHECKS } from "../src/verify/checks";`],
    ["components/release-images.ts", `import { DIGEST_PATTERN } from "../src/contract";`],
    ["components/nova-release.ts", `import { dependsOn } from "./depends-on";`],
    ["policy/policies/common.ts", `import { resolveStackSettings } from "../../src/evidence";`],
    ["policy/policies/thresholds.ts", `import enforcement from "../config/production.json";`],
    ["policy/index.ts", `import { SECRET_ENV_NAMES } from "../src/contract";`],
    ["src/contract/index.ts", `export * from "./names";`],
    ["src/contract/images.ts", `import { createHash } from "node:crypto";`],
    ["cli/commands/up.ts", `import { loadStackSettingsFromFile } from "../../src/config/stack-file";`],
    ["cli/actions/release.ts", `import { toolchainEnv } from "../../tools/toolchain-env";`],
    ["index.ts", `import { parseStackSettings } from "./src/config";`],
  ])("%s: %s", async (file, statement) => {
    const { messages } = await lint(file, `${statement}\n`);
    expect(messages).toEqual([]);
  });
});

describe("docs/architecture.md#rules", () => {
  it("has the section the lint messages point to, stating each enforced rule", () => {
    const doc = fs.readFileSync(path.join(ROOT, "docs/architecture.md"), "utf8");
    const section = /^## Rules\n([\s\S]*?)(?=^## )/m.exec(doc)?.[1] ?? "";
    const rules = [...new Set(VIOLATIONS.map(([rule]) => rule))];
    expect(rules).toEqual(["R1", "R2", "R3", "R4"]);
    for (const rule of rules) expect(section).toMatch(new RegExp(`^- \\*\\*${rule} · `, "m"));
  });
});
