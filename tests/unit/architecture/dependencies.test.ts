import * as fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// No dependency that nothing runs: every runtime dependency of package.json is imported by the code the project ships
// (the program, its components, the CLI, the platform project, the policy pack, the scripts), not only by tests.
const ROOT = path.resolve(__dirname, "../../..");
const SHIPPED = ["index.ts", "src", "components", "cli", "platform", "policy", "scripts", "tools"];
const SOURCE = /\.(ts|mts|cts|mjs|cjs|js)$/;

function sources(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (!fs.existsSync(full)) return [];
  if (fs.statSync(full).isFile()) return SOURCE.test(full) ? [full] : [];
  return fs
    .readdirSync(full, { withFileTypes: true })
    .filter((d) => d.name !== "node_modules" && !d.name.startsWith("."))
    .flatMap((d) => sources(path.join(entry, d.name)));
}

/** The package names a source text imports, requires or loads with `import()` (subpaths folded to the package). */
function importedPackages(text: string): Set<string> {
  const found = new Set<string>();
  const re = /(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"'./][^"']*)["']/gm;
  for (const m of text.matchAll(re)) {
    const spec = m[1] ?? "";
    const parts = spec.split("/");
    found.add(spec.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? spec));
  }
  return found;
}

describe("runtime dependencies", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const used = new Set(
    SHIPPED.flatMap(sources).flatMap((file) => [...importedPackages(fs.readFileSync(file, "utf8"))]),
  );

  it.each(Object.keys(pkg.dependencies ?? {}))("%s is imported by shipped code", (name) => {
    expect(used).toContain(name);
  });

  it("does not include @pulumi/docker (its provider cannot run here; see docs/architecture.md)", () => {
    expect(Object.keys(pkg.dependencies ?? {})).not.toContain("@pulumi/docker");
    expect(used).not.toContain("@pulumi/docker");
  });

  it.each([
    [`import * as k8s from "@pulumi/kubernetes";`, "@pulumi/kubernetes"],
    [`import type { X } from "@pulumi/pulumi/automation";`, "@pulumi/pulumi"],
    [`const z = require("zod");`, "zod"],
    [`const m = await import("yaml");`, "yaml"],
    [`import "commander";`, "commander"],
  ])("reads the package of %s", (text, name) => {
    expect([...importedPackages(text)]).toEqual([name]);
  });

  it("ignores relative imports", () => {
    expect([
      ...importedPackages(`import a from "./a";\nimport b from "../b";\nimport * as fs from "node:fs";`),
    ]).toEqual(["node:fs"]);
  });
});
