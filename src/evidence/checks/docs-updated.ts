/** Runbooks, STATUS.md and TODO.md were updated after the release was cut. */
import { type CheckId, type CheckResult } from "../model";
import { type LoadedArtifact, result } from "./types";

/** A document with the time it was last changed (see the collector for how that time is determined). */
export interface DatedDocument {
  readonly artifact: LoadedArtifact;
  readonly updatedAt: Date;
  /** `git` (last commit touching a clean file) or `mtime` (uncommitted or untracked file). */
  readonly how: "git" | "mtime";
}

export function checkDocUpdated(
  id: Extract<CheckId, "runbooks-updated" | "status-updated" | "todo-updated">,
  label: string,
  doc: DatedDocument | undefined,
  releaseCut: Date | undefined,
  stack: string,
): CheckResult {
  const title = `${label} updated since the release was cut`;
  const remedy =
    releaseCut === undefined
      ? `npm run preflight -- --stack ${stack} --release-cut <ISO time> (or record a freeze/approval first)`
      : `update ${label} for this release, commit it, then re-run npm run preflight -- --stack ${stack}`;
  const threshold =
    releaseCut === undefined
      ? "updated after the release cut (cut time unknown)"
      : `updated after ${releaseCut.toISOString()}`;
  if (doc === undefined) {
    return result(id, title, false, `${label} not found`, threshold, null, remedy);
  }
  const found = `${doc.artifact.path} updated ${doc.updatedAt.toISOString()} (${doc.how})`;
  const pass = releaseCut !== undefined && doc.updatedAt.getTime() >= releaseCut.getTime();
  return result(id, title, pass, found, threshold, doc.artifact, remedy);
}
