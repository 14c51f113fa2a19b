/** `freeze --stack <stack> --end <time>`: records a change-freeze window under `<evidenceDir>/<stack>/records/`. */
import * as path from "node:path";
import { Command } from "commander";
import { findProjectDir, parseTime, resolveStackSettings, writeRecord } from "../../src/evidence";

interface FreezeOptions {
  stack: string;
  start?: string;
  end: string;
  reason: string;
  declaredBy: string;
  projectDir?: string;
  evidenceDir?: string;
}

/** Resolves the absolute evidence directory of a stack (flag, stack config, default). */
export function evidenceDirFor(stack: string, projectDir?: string, evidenceDir?: string): string {
  const dir = path.resolve(projectDir ?? findProjectDir([process.cwd()]) ?? process.cwd());
  const s = resolveStackSettings({ stack, projectDir: dir, env: {} });
  return path.resolve(dir, evidenceDir ?? (s.ok ? s.settings.evidenceDir : "tests/drills/logs"));
}

export function freezeCommand(): Command {
  return new Command("freeze")
    .description("Record a change-freeze window for a stack (production rollouts need one covering now).")
    .requiredOption("--stack <stack>", "stack the freeze applies to")
    .option("--start <time>", "window start (ISO or +<n>h; default now)")
    .requiredOption("--end <time>", "window end (ISO or +<n>h)")
    .requiredOption("--reason <text>", "why the freeze is declared")
    .requiredOption("--declared-by <name>", "who declares it")
    .option("--project-dir <dir>", "project directory")
    .option("--evidence-dir <dir>", "evidence directory relative to the project")
    .action((o: FreezeOptions) => {
      const now = new Date();
      const file = writeRecord(
        evidenceDirFor(o.stack, o.projectDir, o.evidenceDir),
        {
          kind: "freeze",
          stack: o.stack,
          start: (o.start === undefined ? now : parseTime(o.start, now)).toISOString(),
          end: parseTime(o.end, now).toISOString(),
          reason: o.reason,
          declaredBy: o.declaredBy,
        },
        now,
      );
      console.log(`wrote ${file}`);
    });
}
