/** Image references: the digest pattern, parsing and formatting. Pure. */

/** An image digest as registries and Kubernetes write it: `sha256:<64 lowercase hex>`. */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

/** `registry/repository@sha256:…` — the only form the release deploys. */
export function digestRef(registry: string, repository: string, digest: string): string {
  if (!DIGEST_PATTERN.test(digest)) {
    throw new Error(`"${digest}" is not an image digest (expected sha256:<64 lowercase hex characters>)`);
  }
  return `${registry}/${repository}@${digest}`;
}

/** `registry/repository:tag` — used only to look the digest up, never to deploy. */
export function tagRef(registry: string, repository: string, tag: string): string {
  return `${registry}/${repository}:${tag}`;
}

export interface ParsedImageRef {
  /** The reference without tag and digest, e.g. `us-docker.pkg.dev/p/r/nova-rms-api`. */
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Splits `name[:tag][@digest]`; a `:` inside the host part (a port) is not a tag. */
export function parseImageRef(ref: string): ParsedImageRef {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The last path segment of an image name: `nova-rms-api` of `us-docker.pkg.dev/p/r/nova-rms-api`. */
export function repositoryOf(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

/** True when a reference pins its content by digest. */
export function isPinned(ref: string): boolean {
  const digest = parseImageRef(ref).digest;
  return digest !== undefined && DIGEST_PATTERN.test(digest);
}

export interface ArtifactRegistryCoordinates {
  readonly location: string;
  readonly project: string;
  readonly repositoryId: string;
}

/**
 * Reads `<location>-docker.pkg.dev/<project>/<repository>` into the coordinates the Artifact Registry API takes.
 * Returns undefined for any other registry.
 */
export function artifactRegistryCoordinates(registry: string): ArtifactRegistryCoordinates | undefined {
  const m = /^([a-z0-9-]+)-docker\.pkg\.dev\/([a-z][a-z0-9-]{4,28}[a-z0-9])\/([a-z0-9._-]+)$/.exec(registry);
  if (!m) return undefined;
  const [, location, project, repositoryId] = m as unknown as [string, string, string, string];
  return { location, project, repositoryId };
}
