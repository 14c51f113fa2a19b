/**
 * Manifest media types as people read them: which types are multi-arch indexes, a name for each, and the type a
 * manifest body declares. Used by `rollout pin` and `promote` (cli/actions) and the skopeo reader (./skopeo).
 */

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

/** The `mediaType` field of a manifest body, undefined when the body is not JSON or has none. */
export function bodyMediaType(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { mediaType?: unknown };
    return typeof parsed.mediaType === "string" ? parsed.mediaType : undefined;
  } catch {
    return undefined;
  }
}
