/** Shared shapes of the individual readiness checks. */
import { type ArtifactRef, type CheckId, type CheckResult, sha256 } from "../model";

/** A file the collector read: its project-relative path and exact bytes. */
export interface LoadedArtifact {
  readonly path: string;
  readonly bytes: Buffer;
}

/** The artifact reference a bundle records for a loaded file. */
export function refOf(artifact: LoadedArtifact): ArtifactRef {
  return { path: artifact.path, sha256: sha256(artifact.bytes) };
}

/** Builds a check result. */
export function result(
  id: CheckId,
  title: string,
  pass: boolean,
  found: string,
  threshold: string,
  artifact: LoadedArtifact | ArtifactRef | null,
  remedy: string,
): CheckResult {
  const ref = artifact === null ? null : "bytes" in artifact ? refOf(artifact) : artifact;
  return { id, title, verdict: pass ? "pass" : "fail", found, threshold, artifact: ref, remedy };
}

/**
 * The release and commit an artifact says it belongs to: lines `release: <id>` and `commit: <sha>` (also `=`,
 * optionally after a leading ISO timestamp, case-insensitive; the first of each counts). Returns text for a check's
 * `found`, e.g. `release 2026.11.3, commit 3f9c2e1`, or an empty string when the artifact names neither.
 */
export function provenanceOf(text: string): string {
  const field = (key: string): string | undefined =>
    new RegExp(String.raw`^\s*(?:\d{4}-\d{2}-\d{2}T\S*\s+)?${key}\s*[:=]\s*(\S+)\s*$`, "im").exec(text)?.[1];
  return describeProvenance(field("release"), field("commit"));
}

/** `release <r>, commit <c>` for the parts that are known; empty when neither is. */
export function describeProvenance(release: string | undefined, commit: string | undefined): string {
  return [
    ...(release === undefined ? [] : [`release ${release}`]),
    ...(commit === undefined ? [] : [`commit ${commit}`]),
  ].join(", ");
}
