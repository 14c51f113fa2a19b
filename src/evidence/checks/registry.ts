/** The registry resolves the release tag of each image to the expected digest (OCI distribution API). */
import { createHash } from "node:crypto";
import { IMAGE_REPOSITORIES } from "../../contract";
import { MANIFEST_ACCEPT, manifestUrl, registryScheme, splitRegistry } from "../../registry/oci";
import { type CheckResult, type ImageDigests } from "../model";
import { result } from "./types";

/** The OCI helpers live in src/registry/oci.ts; re-exported here for the evidence API. */
export { MANIFEST_ACCEPT, manifestUrl, registryScheme, splitRegistry };

/** The subset of `fetch` the check uses; inject a fake in tests. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string> },
) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

export { IMAGE_REPOSITORIES };

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
