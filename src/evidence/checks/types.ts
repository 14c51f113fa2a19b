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
