/**
 * The registry checks of the preflight: the release tag of each image resolves to the expected digest, and this
 * machine may push to both repositories (proved without pushing: an upload started and cancelled). Both go through
 * {@link RegistryAccess} (src/registry/access.ts): the registry's own auth flow with the machine's logins.
 */
import { SERVICES } from "../../contract";
import { type RegistryAccess, serviceRepositories } from "../../registry/access";
import { registryLoginFix } from "../../registry/skopeo";
import { type CheckResult, type ImageDigests } from "../model";
import { result } from "./types";

export type { RegistryAccess };

/** A registry check of a stack without `imageRegistry`: it fails and names the setting. */
function noRegistry(id: "registry-digests" | "registry-push", title: string, threshold: string): CheckResult {
  const remedy = "pulumi config set nova-rollout:imageRegistry <registry/prefix>";
  return result(id, title, false, "imageRegistry not configured", threshold, null, remedy);
}

export async function checkRegistryDigests(opts: {
  readonly imageRegistry: string | undefined;
  readonly release: string;
  readonly expected: ImageDigests;
  readonly registry: RegistryAccess;
}): Promise<CheckResult> {
  const title = "Registry resolves the release tag to the expected digests";
  const threshold = `api ${opts.expected.api}, worker ${opts.expected.worker} at tag ${opts.release}`;
  if (opts.imageRegistry === undefined) {
    return noRegistry("registry-digests", title, threshold);
  }
  const repos = serviceRepositories(opts.imageRegistry);
  const parts: string[] = [];
  let pass = true;
  for (const svc of SERVICES) {
    try {
      const digest = await opts.registry.digestOf(`${repos[svc]}:${opts.release}`);
      if (digest !== opts.expected[svc]) pass = false;
      parts.push(`${svc}: ${digest}`);
    } catch (e) {
      pass = false;
      parts.push(`${svc}: ${(e as Error).message}`);
    }
  }
  const remedy =
    `${registryLoginFix(opts.imageRegistry)}; then skopeo inspect --raw docker://${repos.api}:${opts.release} ` +
    `(rollout pin --tag ${opts.release} writes the digests it resolves, or push the release)`;
  return result("registry-digests", title, pass, parts.join("; "), threshold, null, remedy);
}

export async function checkRegistryPush(opts: {
  readonly imageRegistry: string | undefined;
  readonly registry: RegistryAccess;
}): Promise<CheckResult> {
  const title = "Registry credentials validated for pushing";
  const threshold = "a blob upload started (and cancelled) in both image repositories";
  if (opts.imageRegistry === undefined) {
    return noRegistry("registry-push", title, threshold);
  }
  const repos = serviceRepositories(opts.imageRegistry);
  const answers = await Promise.all(SERVICES.map((svc) => opts.registry.pushPermission(repos[svc])));
  const pass = answers.every((a) => a.ok);
  const found = SERVICES.map((svc, i) => `${svc}: ${answers[i]?.ok ? "push permitted" : answers[i]?.detail}`);
  return result(
    "registry-push",
    title,
    pass,
    found.join("; "),
    threshold,
    null,
    registryLoginFix(opts.imageRegistry, true),
  );
}
