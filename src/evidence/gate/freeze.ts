/**
 * The freeze section (policy nova-change-freeze): production rolls out only inside an active change-freeze window on
 * record. A window named by a freeze lift (`rollout post-launch`) ends at the lift.
 */
import { type Finding } from "../model";
import { recordsDir } from "../paths";
import { type StackRecords } from "../reader";
import { freezeProblem } from "../signed";
import { activeFreezes } from "../verifier";
import { liftedFreezes } from "../post-launch-records";
import { appliesTo, type GateInput, rel, rolloutCmd } from "./input";
import { concernsNow, type GateView, productionRecords } from "./view";

/** The freeze section of a view; `environments`: where it applies besides production stacks. */
export function freezeSection(view: GateView, environments?: readonly string[]): Finding[] {
  const input = view.input;
  // A rollback to a release that already ran is not a change the freeze is meant to stop.
  if (!appliesTo(input, environments) || view.rollback !== undefined) return [];
  const signed = input.stackClass.production ? productionRecords(view, "freeze") : undefined;
  const records = signed?.records ?? view.records;
  const lifted = view.lifts;
  const out: Finding[] = [...invalidRecordFindings(input, records), ...lifted.findings];
  // Production: a window counts only when declared by a role allowed to and no longer than the committed maximum.
  const roster = view.roster;
  const judged = records.freezes.map((f) => ({
    f,
    why:
      roster === undefined || "checkId" in roster
        ? undefined
        : freezeProblem(f, roster, input.enforcement.freezeRoles, input.enforcement.freezeMaxDays),
  }));
  const windows = liftedFreezes(
    judged.filter((j) => j.why === undefined).map((j) => j.f),
    lifted.lifts,
  );
  if (activeFreezes(windows, input.stack, input.now).length === 0) {
    // Why windows on file do not count: reported only while no window counts.
    out.push(...(signed?.findings ?? []));
    for (const { f, why } of judged) {
      if (why === undefined || !concernsNow(view, f.path)) continue;
      out.push({
        checkId: "freeze",
        message: `Freeze window ${rel(input, f.path)} declared by ${f.declaredBy} does not count: ${why}.`,
        remedy: rolloutCmd(
          `freeze --stack ${input.stack} --end <ISO, at most ${input.enforcement.freezeMaxDays} days after the start> --reason "<why>" --declared-by <roster ${input.enforcement.freezeRoles.join("/")}> --ssh-key <their key>`,
        ),
      });
    }
    const latest = [...windows].sort((a, b) => Date.parse(b.end) - Date.parse(a.end))[0];
    const window =
      latest === undefined
        ? "no freeze record"
        : latest.liftedAt !== undefined
          ? `latest window ${latest.start} – ${latest.declaredEnd ?? latest.end}, lifted at ${latest.liftedAt} by ${latest.liftedBy ?? "?"}`
          : `latest window ${latest.start} – ${latest.end}`;
    const seen = `${window} in ${rel(input, recordsDir(input.evidenceDir, input.stack))}`;
    out.push({
      checkId: "freeze",
      message: `No active change-freeze window for stack ${input.stack} at ${input.now.toISOString()} (found: ${seen}); threshold: a window with start <= now < end, not lifted.`,
      remedy: rolloutCmd(
        `freeze --stack ${input.stack} --start <ISO> --end <ISO> --reason "<why>" --declared-by <you>`,
      ),
    });
  }
  return out;
}

function invalidRecordFindings(input: GateInput, records: StackRecords): Finding[] {
  return records.invalid.map((bad) => ({
    checkId: "records",
    message: `Record ${rel(input, bad.path)} is unreadable or invalid (${bad.error}); records fail closed.`,
    remedy: `fix or delete it, then record it again with ${rolloutCmd(`freeze|approve --stack ${input.stack} …`)}`,
  }));
}
