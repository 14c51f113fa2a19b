#!/usr/bin/env node
// Writes the rollout CLI's exit code table (cli/errors.ts, through the compiled CLI) into README.md between the
// `<!-- exit-codes:begin -->` and `<!-- exit-codes:end -->` markers. Run after `npm run build`:
//   node scripts/exit-codes.mjs           rewrite README.md
//   node scripts/exit-codes.mjs --check   exit 1 when README.md differs from the code
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const readme = path.join(root, "README.md");
const table = execFileSync(
  process.execPath,
  [path.join(root, "dist/cli/index.js"), "exit-codes", "--markdown"],
  {
    encoding: "utf8",
  },
).trimEnd();
const text = fs.readFileSync(readme, "utf8");
const block = /(<!-- exit-codes:begin -->\n)[\s\S]*?(<!-- exit-codes:end -->)/;
if (!block.test(text)) {
  console.error("README.md has no <!-- exit-codes:begin --> … <!-- exit-codes:end --> block");
  process.exit(1);
}
// Written as the project's formatter writes it, so `npm run format:check` and this script agree.
const options = (await prettier.resolveConfig(readme)) ?? {};
const next = await prettier.format(
  text.replace(block, (_m, begin, end) => `${begin}${table}\n${end}`),
  { ...options, parser: "markdown" },
);
if (process.argv.includes("--check")) {
  if (next !== text) {
    console.error("README.md's exit code table differs from cli/errors.ts: run node scripts/exit-codes.mjs");
    process.exit(1);
  }
} else if (next !== text) {
  fs.writeFileSync(readme, next);
  console.error("README.md: exit code table updated");
}
