/** `history`: the stack's updates as releases, numbered the way `rollback --to` takes them. */
import {
  STACK_OPTION,
  openStack,
  projectRoot,
  fullHistory,
  qualifyingList,
  rollbackCandidates,
  type ReleaseEntry,
  StackConfig,
} from "../engine";
import { classifyStackFile } from "../../src/evidence/enforcement";
import { rejectedDigests } from "../rejected-releases";
import { Command, InvalidArgumentError } from "commander";
import { formatOverdueFollowUps, overdueFollowUps } from "../../src/evidence/follow-ups";

/** A commander parser for a whole number ≥ 1. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number ≥ 1");
  return n;
}

export function shortDigest(d: string): string {
  return d.startsWith("sha256:") ? `${d.slice(0, 19)}…` : d || "-";
}

export function formatHistory(entries: readonly ReleaseEntry[]): string {
  const rows = entries.map((e) =>
    [
      String(e.version).padStart(4),
      e.kind.padEnd(8),
      e.result.padEnd(10),
      e.startTime.toISOString().replace(/\.\d{3}Z$/, "Z"),
      (e.release || "-").padEnd(12),
      shortDigest(e.apiDigest).padEnd(21),
      shortDigest(e.workerDigest),
    ].join("  "),
  );
  const header = [
    "  v#",
    "kind    ",
    "result    ",
    "started             ",
    "release     ",
    "api                  ",
    "worker",
  ].join("  ");
  return [header, ...rows].join("\n");
}

export function historyCommand(): Command {
  return new Command("history")
    .description("List the stack's updates with the release and digests each ran with (secrets never shown)")
    .requiredOption(...STACK_OPTION)
    .option("-n, --limit <count>", "how many updates", positiveInt, 20)
    .option("--json", "print JSON")
    .action(async (o: { stack: string; limit: number; json?: boolean }) => {
      const projectDir = projectRoot();
      const stack = await openStack({ projectDir, stack: o.stack });
      const all = await fullHistory(stack);
      const entries = all.slice(0, o.limit);
      process.stdout.write(
        `${o.json === true ? JSON.stringify(entries, null, 2) : formatHistory(entries)}\n`,
      );
      const evidenceDir = (await StackConfig.of(stack)).evidenceDir(projectDir);
      // Which versions `rollback --to` takes: admitted (production), succeeded, not rejected since.
      const production = classifyStackFile(projectDir, o.stack).production;
      const rejected = rejectedDigests(projectDir, evidenceDir, o.stack, production);
      process.stderr.write(`${qualifyingList(rollbackCandidates(all, production, rejected))}\n`);
      // Follow-up drills `post-launch` scheduled and nobody recorded as done in time.
      const overdue = overdueFollowUps(evidenceDir, o.stack, new Date());
      for (const line of formatOverdueFollowUps(overdue, projectDir)) process.stderr.write(`${line}\n`);
    });
}
