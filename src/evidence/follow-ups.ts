/**
 * Follow-up drills after a launch (`rollout post-launch` schedules them, `post-launch --done <drill>` completes them):
 * which are still open and which are overdue. Advisory: `preflight` and `history` warn about overdue ones; the gate
 * does not block on them.
 */
import * as path from "node:path";
import {
  type FollowUpDrill,
  type InvalidPostLaunchRecord,
  readPostLaunchRecords,
} from "./post-launch-records";

/** One scheduled drill that no completion covers yet. */
export interface OpenFollowUp {
  readonly stack: string;
  readonly drill: FollowUpDrill;
  readonly release: string;
  readonly dueAt: string;
  readonly scheduledAt: string;
  readonly scheduledBy: string;
  /** The follow-ups record that scheduled it. */
  readonly record: string;
  /** Whether the due date is past. */
  readonly overdue: boolean;
  /** Days past the due date (0 when not overdue), one decimal. */
  readonly daysOverdue: number;
}

/** The open follow-ups of a stack (overdue first, then by due date) and the post-launch files that could not be read. */
export function followUpStatus(
  evidenceDir: string,
  stack: string,
  now: Date,
): { readonly open: readonly OpenFollowUp[]; readonly invalid: readonly InvalidPostLaunchRecord[] } {
  const records = readPostLaunchRecords(evidenceDir, stack);
  const t = now.getTime();
  const open: OpenFollowUp[] = [];
  for (const f of records.followUps) {
    for (const d of f.drills) {
      // A completion counts for every follow-up of its drill scheduled at or before it was done.
      const completed = records.done.some(
        (c) => c.drill === d.drill && Date.parse(c.doneAt) >= Date.parse(f.scheduledAt),
      );
      if (completed) continue;
      const late = t - Date.parse(d.dueAt);
      open.push({
        stack,
        drill: d.drill,
        release: f.release,
        dueAt: d.dueAt,
        scheduledAt: f.scheduledAt,
        scheduledBy: f.scheduledBy,
        record: f.path,
        overdue: late > 0,
        daysOverdue: late > 0 ? Math.round(late / 8_640_000) / 10 : 0,
      });
    }
  }
  open.sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt));
  return { open, invalid: records.invalid.filter((r) => r.kind !== "freeze-lift") };
}

/** The follow-up drills of a stack whose due date is past with no completion recorded, oldest due first. */
export function overdueFollowUps(evidenceDir: string, stack: string, now: Date): OpenFollowUp[] {
  return followUpStatus(evidenceDir, stack, now).open.filter((f) => f.overdue);
}

/** The command that records a drill as done. */
export function followUpDoneCommand(stack: string, drill: string): string {
  return `npm run rollout -- post-launch --stack ${stack} --done ${drill} --by <you> --ssh-key <your key>`;
}

/** Warning lines for overdue follow-ups (empty when none), e.g. for `preflight` and `history`. */
export function formatOverdueFollowUps(overdue: readonly OpenFollowUp[], projectDir?: string): string[] {
  if (overdue.length === 0) return [];
  const rel = (p: string) => (projectDir !== undefined ? path.relative(projectDir, p) : p);
  return [
    `warning: ${overdue.length} post-launch follow-up(s) of stack ${overdue[0]?.stack ?? ""} overdue:`,
    ...overdue.flatMap((f) => [
      `  - ${f.drill} drill for release ${f.release}: due ${f.dueAt}, ${f.daysOverdue} day(s) overdue (${rel(f.record)})`,
      `    when done: ${followUpDoneCommand(f.stack, f.drill)}`,
    ]),
  ];
}
