/**
 * nova-platform-registry-immutable-tags: every Artifact Registry repository holds Docker images with immutable tags,
 * so a pushed tag never moves and the digest the release gate approved is the one that runs.
 */
import { type ResourceValidationArgs } from "@pulumi/policy";
import { nameOf, platformPolicy, read, show } from "./common";

export const REGISTRY_TYPE = "gcp:artifactregistry/repository:Repository";

/** Every problem with a repository's props; empty when it is a Docker repository with immutable tags. */
export function registryProblems(args: ResourceValidationArgs): string[] {
  const out: string[] = [];
  const format = read(args.props, "format");
  if (format !== "DOCKER")
    out.push(`format is ${show(format)}; release images live in a "DOCKER" repository`);
  const immutable = read(args.props, "dockerConfig", "immutableTags");
  if (immutable !== true) out.push(`dockerConfig.immutableTags is ${show(immutable)}; set it to true`);
  return out;
}

export const registryImmutableTags = platformPolicy({
  name: "nova-platform-registry-immutable-tags",
  description:
    "Requires every Artifact Registry repository to be a Docker repository with immutable tags, so an approved tag never points at another digest.",
  types: [REGISTRY_TYPE],
  label: (args) => `Artifact Registry repository ${nameOf(args, "repositoryId")}`,
  problems: registryProblems,
  fix: "restore dockerConfig.immutableTags in platform/components/artifact-registries.ts and re-run pulumi preview in platform/.",
});
