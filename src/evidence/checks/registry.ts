/** The registry resolves the release tag of each image to the expected digest (OCI distribution API). */
import { createHash } from "node:crypto";
import { type CheckResult, type ImageDigests } from "../model";
import { result } from "./types";

/** The subset of `fetch` the check uses; inject a fake in tests. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string> },
) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** Accept headers for OCI and Docker manifests and indexes. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export const IMAGE_REPOSITORIES = { api: "nova-rms-api", worker: "nova-rms-worker" } as const;

/** Splits `host[:port]/path/prefix` into host and repository prefix. */
export function splitRegistry(imageRegistry: string): { host: string; prefix: string } {
  const trimmed = imageRegistry.replace(/^[a-z]+:\/\//, "").replace(/\/+$/, "");
  const slash = trimmed.indexOf("/");
  return slash < 0
    ? { host: trimmed, prefix: "" }
    : { host: trimmed.slice(0, slash), prefix: trimmed.slice(slash + 1) };
}

/** `http` for loopback registries, `https` otherwise. */
export function registryScheme(host: string): "http" | "https" {
  return /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host) ? "http" : "https";
}

/** The manifest URL of `<registry>/<repository>:<tag>`. */
export function manifestUrl(imageRegistry: string, repository: string, tag: string): string {
  const { host, prefix } = splitRegistry(imageRegistry);
  const repo = prefix.length > 0 ? `${prefix}/${repository}` : repository;
  return `${registryScheme(host)}://${host}/v2/${repo}/manifests/${encodeURIComponent(tag)}`;
}

/** Resolves a tag to its digest: `Docker-Content-Digest` of HEAD, else of GET, else sha256 of the GET body. */
export async function resolveDigest(
  fetchFn: FetchLike,
  url: string,
  authorization?: string,
): Promise<{ digest?: string; error?: string }> {
  const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT };
  if (authorization !== undefined) {
    headers["Authorization"] = authorization;
  }
  try {
    const head = await fetchFn(url, { method: "HEAD", headers });
    if (head.status === 200 && head.headers.get("docker-content-digest")) {
      return { digest: head.headers.get("docker-content-digest") ?? undefined };
    }
    if (head.status === 401 || head.status === 403) {
      return { error: `HTTP ${head.status} (authentication required)` };
    }
    const get = await fetchFn(url, { method: "GET", headers });
    if (get.status !== 200) {
      return { error: `HTTP ${get.status}` };
    }
    const header = get.headers.get("docker-content-digest");
    if (header) {
      return { digest: header };
    }
    const body = Buffer.from(await get.arrayBuffer());
    return { digest: `sha256:${createHash("sha256").update(body).digest("hex")}` };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export async function checkRegistryDigests(opts: {
  readonly imageRegistry: string | undefined;
  readonly release: string;
  readonly expected: ImageDigests;
  readonly fetch: FetchLike;
  readonly authorization?: string;
}): Promise<CheckResult> {
  const title = "Registry resolves the release tag to the expected digests";
  const threshold = `api ${opts.expected.api}, worker ${opts.expected.worker} at tag ${opts.release}`;
  if (opts.imageRegistry === undefined) {
    return result(
      "registry-digests",
      title,
      false,
      "imageRegistry not configured",
      threshold,
      null,
      "pulumi config set nova-rollout:imageRegistry <registry/prefix>",
    );
  }
  const { host } = splitRegistry(opts.imageRegistry);
  const parts: string[] = [];
  let pass = true;
  for (const svc of ["api", "worker"] as const) {
    const url = manifestUrl(opts.imageRegistry, IMAGE_REPOSITORIES[svc], opts.release);
    const r = await resolveDigest(opts.fetch, url, opts.authorization);
    if (r.digest === undefined) {
      pass = false;
      parts.push(`${svc}: ${r.error ?? "no digest"}`);
    } else {
      if (r.digest !== opts.expected[svc]) {
        pass = false;
      }
      parts.push(`${svc}: ${r.digest}`);
    }
  }
  const remedy = `docker login ${host} && docker buildx imagetools inspect ${opts.imageRegistry}/${IMAGE_REPOSITORIES.api}:${opts.release} (then fix nova-rollout:apiImageDigest / workerImageDigest or push the release)`;
  return result("registry-digests", title, pass, parts.join("; "), threshold, null, remedy);
}
