/** The release history of a stack (`rollout history`): its updates, which qualify as rollback targets, overdue drills. */
import { formatOverdueFollowUps, overdueFollowUps } from "../../src/evidence/follow-ups";
import { openStack, StackConfig } from "../engine";
import {
  fullHistory,
  qualifyingList,
  type ReleaseDigests,
  rollbackCandidates,
  type ReleaseEntry,
} from "../history";
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

/** A stack's releases as the engine records them, the digests it rejected since, and where its evidence is. */
export interface StackReleases {
  /** Every update, newest first. */
  readonly entries: ReleaseEntry[];
  readonly rejected: ReleaseDigests[];
  readonly evidenceDir: string;
  readonly production: boolean;
}

/** Reads a stack's history and config side by side (one engine run each) and the rejections its evidence holds. */
export async function stackReleases(projectDir: string, stackName: string): Promise<StackReleases> {
  const resolved = resolveStack(projectDir, stackName);
  const stack = await openStack(resolved);
  const [entries, config] = await Promise.all([fullHistory(stack), StackConfig.of(stack)]);
  const evidenceDir = config.evidenceDir(projectDir);
  const rejected = rejectedDigests(projectDir, evidenceDir, stackName, resolved.production);
  return { entries, rejected, evidenceDir, production: resolved.production };
}

export async function releaseHistory(projectDir: string, stackName: string): Promise<HistoryReport> {
  const { entries, rejected, evidenceDir, production } = await stackReleases(projectDir, stackName);
  return {
    entries,
    qualifying: qualifyingList(rollbackCandidates(entries, production, rejected)),
    overdue: formatOverdueFollowUps(overdueFollowUps(evidenceDir, stackName, new Date()), projectDir),
  };
}
