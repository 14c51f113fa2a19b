/** The registry resolves the release tag of each image to the expected digest (OCI distribution API). */
import { IMAGE_REPOSITORIES } from "../../contract";
import { type FetchLike, resolveManifest } from "../../registry/client";
import { MANIFEST_ACCEPT, manifestUrl, registryScheme, splitRegistry } from "../../registry/oci";
import { type CheckResult, type ImageDigests } from "../model";
import { result } from "./types";

/** The OCI helpers live in src/registry/oci.ts; re-exported here for the evidence API. */
export { MANIFEST_ACCEPT, manifestUrl, registryScheme, splitRegistry };

/** The subset of `fetch` the check uses (src/registry/client.ts); inject a fake in tests. */
export type { FetchLike };

export { IMAGE_REPOSITORIES };

/** Resolves a tag to its digest: `Docker-Content-Digest` of HEAD, else of GET, else sha256 of the GET body. */
export async function resolveDigest(
  fetchFn: FetchLike,
  url: string,
  authorization?: string,
): Promise<{ digest?: string; error?: string }> {
  const found = await resolveManifest(fetchFn, url, authorization);
  return found.ok ? { digest: found.digest } : { error: found.error };
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
