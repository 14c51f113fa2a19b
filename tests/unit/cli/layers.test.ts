// The CLI's layers, drawn from its imports: commands parse flags and call actions, a command never imports another
// command, an action never imports a command, no import circle, src/comms never reaches up into cli/, and no file in
// cli/ grows past ~400 lines.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../../..");
const CLI = path.join(ROOT, "cli");

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(full);
    return e.name.endsWith(".ts") ? [full] : [];
  });
}

/** The repository files a TypeScript file imports or re-exports (relative specifiers only). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/g)].map(
    (m) => m[1] ?? "",
  );
  return specs.map((s) => {
    const base = path.resolve(path.dirname(file), s);
    for (const candidate of [`${base}.ts`, path.join(base, "index.ts")]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    return base;
  });
}

const rel = (f: string) => path.relative(ROOT, f);
const inDir = (f: string, dir: string) => !path.relative(dir, f).startsWith("..");

describe("cli/ layers", () => {
  const files = tsFiles(CLI);

  it.each(files.filter((f) => inDir(f, path.join(CLI, "commands"))).map(rel))(
    "%s imports no other command",
    (file) => {
      const commands = importsOf(path.join(ROOT, file)).filter((i) => inDir(i, path.join(CLI, "commands")));
      expect(commands.map(rel)).toEqual([]);
    },
  );

  it("no module outside cli/commands imports a command (except the program in cli/index.ts)", () => {
    const offenders = files
      .filter((f) => !inDir(f, path.join(CLI, "commands")) && f !== path.join(CLI, "index.ts"))
      .flatMap((f) =>
        importsOf(f)
          .filter((i) => inDir(i, path.join(CLI, "commands")))
          .map((i) => `${rel(f)} -> ${rel(i)}`),
      );
    expect(offenders).toEqual([]);
  });

  it("has no import circle", () => {
    const graph = new Map(files.map((f) => [f, importsOf(f).filter((i) => inDir(i, CLI))]));
    const circles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") {
        circles.push([...trail.slice(trail.indexOf(f)), f].map(rel).join(" -> "));
        return;
      }
      state.set(f, "open");
      for (const next of graph.get(f) ?? []) visit(next, [...trail, f]);
      state.set(f, "done");
    };
    for (const f of files) visit(f, []);
    expect(circles).toEqual([]);
  });

  it("src/comms never imports cli/", () => {
    const offenders = tsFiles(path.join(ROOT, "src", "comms")).flatMap((f) =>
      importsOf(f)
        .filter((i) => inDir(i, CLI))
        .map((i) => `${rel(f)} -> ${rel(i)}`),
    );
    expect(offenders).toEqual([]);
  });

  it("keeps every file in cli/ at or under 400 lines", () => {
    const long = files
      .map((f) => [rel(f), fs.readFileSync(f, "utf8").split("\n").length] as const)
      .filter(([, n]) => n > 400);
    expect(long).toEqual([]);
  });
});
