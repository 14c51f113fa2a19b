/**
 * Runbooks, STATUS.md and TODO.md were updated for the release: they name its tag (judged by content), and were
 * changed after the release was cut.
 */
import { type CheckId, type CheckResult } from "../model";
import { type LoadedArtifact, result } from "./types";

/** A document with the time it was last changed (see the collector for how that time is determined). */
export interface DatedDocument {
  readonly artifact: LoadedArtifact;
  readonly updatedAt: Date;
  /** `git` (last commit touching a clean file) or `mtime` (uncommitted or untracked file). */
  readonly how: "git" | "mtime";
}

/**
 * Whether a document names the release tag as a word of its own (`2026.11.3`, not `2026.11.30` or
 * `v2026.11.3-rc1`; a leading `v` is accepted).
 */
export function namesRelease(text: string, release: string): boolean {
  const tag = release.replace(/^v(?=\d)/, "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(String.raw`(?<![\w.-])v?${tag}(?![\w-]|\.\w)`).test(text);
}

export function checkDocUpdated(
  id: Extract<CheckId, "runbooks-updated" | "status-updated" | "todo-updated">,
  label: string,
  doc: DatedDocument | undefined,
  releaseCut: Date | undefined,
  stack: string,
  /** The release tag the document must name; undefined judges the date only. */
  release?: string,
  /** Where the document lives, for the fix line (e.g. "in the Nova RMS checkout"). */
  where = "",
): CheckResult {
  const title = `${label} updated since the release was cut`;
  const preflight = `npm run preflight -- --stack ${stack}`;
  const named = release === undefined ? "" : ` naming release ${release}`;
  const remedy =
    releaseCut === undefined
      ? `${preflight} --release-cut <ISO time> (or record a freeze/approval first)`
      : `update ${label}${where} for release ${release ?? "this release"} (name the tag ${release ?? "<tag>"}), commit it, then re-run ${preflight}`;
  const threshold =
    releaseCut === undefined
      ? `updated after the release cut (cut time unknown)${named}`
      : `updated after ${releaseCut.toISOString()}${named}`;
  if (doc === undefined) {
    return result(id, title, false, `${label} not found`, threshold, null, remedy);
  }
  const mentions = release === undefined ? true : namesRelease(doc.artifact.bytes.toString("utf8"), release);
  const found = [
    `${doc.artifact.path} updated ${doc.updatedAt.toISOString()} (${doc.how})`,
    ...(release === undefined ? [] : [mentions ? `names ${release}` : `does not name release ${release}`]),
  ].join(", ");
  const pass = mentions && releaseCut !== undefined && doc.updatedAt.getTime() >= releaseCut.getTime();
  return result(id, title, pass, found, threshold, doc.artifact, remedy);
}
