/** The release history of a stack (`rollout history`): its updates, which qualify as rollback targets, overdue drills. */
import { formatOverdueFollowUps, overdueFollowUps } from "../../src/evidence/follow-ups";
import { openStack, StackConfig } from "../engine";
import { fullHistory, qualifyingList, rollbackCandidates, type ReleaseEntry } from "../history";
import { rejectedDigests } from "../rejected-releases";
import { resolveStack } from "./stack";

export interface HistoryReport {
  /** Every update, newest first. */
  readonly entries: readonly ReleaseEntry[];
  /** Which versions `rollback --to` takes: admitted (production), succeeded, not rejected since. */
  readonly qualifying: string;
  /** Follow-up drills `post-launch` scheduled and nobody recorded as done in time. */
  readonly overdue: readonly string[];
}

export async function releaseHistory(projectDir: string, stackName: string): Promise<HistoryReport> {
  const resolved = resolveStack(projectDir, stackName);
  const stack = await openStack(resolved);
  const entries = await fullHistory(stack);
  const evidenceDir = (await StackConfig.of(stack)).evidenceDir(projectDir);
  const rejected = rejectedDigests(projectDir, evidenceDir, stackName, resolved.production);
  return {
    entries,
    qualifying: qualifyingList(rollbackCandidates(entries, resolved.production, rejected)),
    overdue: formatOverdueFollowUps(overdueFollowUps(evidenceDir, stackName, new Date()), projectDir),
  };
}
