/**
 * The one place the project asks a registry's OCI distribution API for a manifest: the evidence collector's digest
 * check (`src/evidence/checks/registry.ts`) and `rollout pin` (`cli/actions/pin.ts`) both resolve tags here. Addresses
 * and accept headers come from `./oci`.
 */
import { createHash } from "node:crypto";
import { MANIFEST_ACCEPT } from "./oci";

/** The subset of `fetch` the lookups use; inject a fake in tests. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string> },
) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** What a manifest reference resolved to, or why it did not. */
export type ManifestLookup =
  | {
      readonly ok: true;
      /** The digest of what the reference points at (for a multi-arch image: the index). */
      readonly digest: string;
      /** The manifest's media type (`Content-Type`, else the body's `mediaType`); undefined when neither says. */
      readonly mediaType?: string;
    }
  | {
      readonly ok: false;
      /** The registry's HTTP status; undefined when it could not be reached. */
      readonly status?: number;
      readonly error: string;
    };

/** The media types of a manifest list / image index: an image with one manifest per platform. */
export const INDEX_MEDIA_TYPES: readonly string[] = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
];

/** A person's name for a manifest media type (the type itself when unknown). */
export function describeMediaType(mediaType: string | undefined): string {
  switch (mediaType) {
    case "application/vnd.oci.image.index.v1+json":
      return "OCI image index (multi-arch)";
    case "application/vnd.docker.distribution.manifest.list.v2+json":
      return "Docker manifest list (multi-arch)";
    case "application/vnd.oci.image.manifest.v1+json":
      return "OCI image manifest (single platform)";
    case "application/vnd.docker.distribution.manifest.v2+json":
      return "Docker v2 manifest (single platform)";
    case undefined:
      return "media type not reported";
    default:
      return mediaType;
  }
}

/** `Content-Type` without parameters, undefined when absent or empty. */
function contentType(headers: { get(name: string): string | null }): string | undefined {
  const value = headers.get("content-type")?.split(";")[0]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/** The `mediaType` field of a manifest body, undefined when the body is not JSON or has none. */
export function bodyMediaType(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { mediaType?: unknown };
    return typeof parsed.mediaType === "string" ? parsed.mediaType : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolves a manifest URL (a tag or digest reference) to the digest of what it points at: `Docker-Content-Digest` of
 * HEAD, else of GET, else the sha256 of the GET body. Asks with the OCI index, Docker manifest list, OCI manifest and
 * Docker v2 manifest accept headers, so a multi-arch image answers with its index (whose digest every node pulls,
 * each then picking its platform's manifest). `authorization` is sent as the `Authorization` header when given.
 */
export async function resolveManifest(
  fetchFn: FetchLike,
  url: string,
  authorization?: string,
): Promise<ManifestLookup> {
  const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT };
  if (authorization !== undefined) {
    headers["Authorization"] = authorization;
  }
  try {
    const head = await fetchFn(url, { method: "HEAD", headers });
    const headDigest = head.headers.get("docker-content-digest");
    if (head.status === 200 && headDigest) {
      const mediaType = contentType(head.headers);
      return { ok: true, digest: headDigest, ...(mediaType !== undefined ? { mediaType } : {}) };
    }
    if (head.status === 401 || head.status === 403) {
      return { ok: false, status: head.status, error: `HTTP ${head.status} (authentication required)` };
    }
    const get = await fetchFn(url, { method: "GET", headers });
    if (get.status !== 200) {
      return { ok: false, status: get.status, error: `HTTP ${get.status}` };
    }
    const body = Buffer.from(await get.arrayBuffer());
    const mediaType = contentType(get.headers) ?? bodyMediaType(body);
    const digest =
      get.headers.get("docker-content-digest") || `sha256:${createHash("sha256").update(body).digest("hex")}`;
    return { ok: true, digest, ...(mediaType !== undefined ? { mediaType } : {}) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}
