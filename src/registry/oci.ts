/**
 * OCI distribution API helpers shared by the release components (`components/image-refs.ts`), the post-deploy probe
 * (`src/verify/probe.ts`) and the evidence collector (`src/evidence/checks/registry.ts`). Pure: no I/O.
 */

/** Accept headers for OCI and Docker manifests and indexes. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Splits `[scheme://]host[:port][/path/prefix][/]` into host and repository prefix (no slashes at either end). */
export function splitRegistry(registry: string): { host: string; prefix: string } {
  const trimmed = registry.replace(/^[a-z]+:\/\//, "").replace(/\/+$/, "");
  const slash = trimmed.indexOf("/");
  return slash < 0
    ? { host: trimmed, prefix: "" }
    : { host: trimmed.slice(0, slash), prefix: trimmed.slice(slash + 1) };
}

/** `http` for loopback registries (127.x.x.x, localhost, [::1], any port), `https` otherwise. */
export function registryScheme(host: string): "http" | "https" {
  return /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host) ? "http" : "https";
}

/**
 * The manifest URL of `<registry>/<repository>` at `reference` (a tag or a `sha256:…` digest):
 * `<scheme>://<host>/v2/<prefix>/<repository>/manifests/<reference>`, `http` for loopback registries (the sandbox),
 * `https` everywhere else. The reference is percent-encoded except for the `:` of a digest, which a path may hold.
 */
export function manifestUrl(registry: string, repository: string, reference: string): string {
  const { host, prefix } = splitRegistry(registry);
  const repo = prefix.length > 0 ? `${prefix}/${repository}` : repository;
  const ref = encodeURIComponent(reference).replace(/%3A/gi, ":");
  return `${registryScheme(host)}://${host}/v2/${repo}/manifests/${ref}`;
}
