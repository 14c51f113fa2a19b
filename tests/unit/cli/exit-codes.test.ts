// The exit code table: one table in code, the numbers pipelines and docs rely on unchanged, shown by `--help`, and the
// README's table generated from it (node scripts/exit-codes.mjs).
import * as fs from "node:fs";
import * as path from "node:path";
import * as prettier from "prettier";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../../cli";
import { EXIT, EXIT_CODES, exitCodesMarkdown } from "../../../cli/errors";

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

async function stdoutOf(argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  const code = await main(argv);
  return { code, out: out.join("") };
}

describe("exit codes", () => {
  it.each([
    ["ok", 0],
    ["failed", 1],
    ["usage", 2],
    ["stackNotFound", 3],
    ["concurrentUpdate", 4],
    ["policyViolation", 5],
    ["verificationFailed", 6],
    ["notReady", 7],
    ["rollbackFailed", 8],
    ["drifted", 9],
  ] as const)("%s keeps code %i", (name, code) => {
    expect(EXIT[name]).toBe(code);
  });

  it("has one entry per code, each with a meaning and its relation to Pulumi's codes", () => {
    expect(EXIT_CODES.map((e) => e.code)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const e of EXIT_CODES) {
      expect(e.meaning).not.toBe("");
      expect(e.pulumi).not.toBe("");
    }
    // Where the meaning matches Pulumi's documented code, the table says so; elsewhere it names Pulumi's meaning.
    expect(EXIT_CODES.filter((e) => e.pulumi === "same").map((e) => e.code)).toEqual([0, 1, 2, 5]);
  });

  it("`rollout --help` shows the table and says whose codes they are", async () => {
    const { code, out } = await stdoutOf(["--help"]);
    expect(code).toBe(0);
    expect(out).toMatch(/Exit codes:/);
    for (const e of EXIT_CODES) expect(out).toMatch(new RegExp(`^ +${e.code} {2}\\S`, "m"));
    expect(out).toMatch(/3, 4 and 6-9 are this CLI's own/);
  });

  it("`rollout exit-codes --markdown` prints the README's table", async () => {
    const { code, out } = await stdoutOf(["exit-codes", "--markdown"]);
    expect(code).toBe(0);
    expect(out).toBe(`${exitCodesMarkdown()}\n`);
  });

  it("the README's table is the one generated from the code (as the project's formatter writes it)", async () => {
    const readmePath = path.resolve(__dirname, "../../../README.md");
    const readme = fs.readFileSync(readmePath, "utf8");
    const options = (await prettier.resolveConfig(readmePath)) ?? {};
    const generated = (
      await prettier.format(exitCodesMarkdown(), { ...options, parser: "markdown" })
    ).trimEnd();
    const block = /<!-- exit-codes:begin -->\n([\s\S]*?)\n<!-- exit-codes:end -->/.exec(readme);
    expect(block, "README.md needs the <!-- exit-codes:begin/end --> block").not.toBeNull();
    // Out of date: run `npm run build && node scripts/exit-codes.mjs`.
    expect(block?.[1]?.trim()).toBe(generated);
  });
});
