import { gcp } from "../src/util/cloud-sdks";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  artifactRegistryCoordinates,
  DIGEST_PATTERN,
  digestRef,
  parseImageRef,
  SERVICES,
  tagRef,
  type Service,
} from "../src/contract";
import { probeCommand, type ProbeBudget } from "../src/verify/probe-command";
import { forwardDependsOn } from "./depends-on";

export type { Service };
export type ImageResolver = "pinned" | "registry-api" | "artifact-registry";

/** One service's image. */
export interface ReleaseImageSpec {
  /** Repository inside the registry, e.g. `nova-rms-api`. */
  readonly repository: string;
  /** Expected digest `sha256:<64 hex>`. Required: a tag alone is mutable. */
  readonly digest?: string;
}

export interface ReleaseImagesArgs {
  /** `host[:port]/path` the images live under, e.g. `us-docker.pkg.dev/nova-prod/nova`. */
  readonly registry: string;
  /** The release tag the images were published with (e.g. `2026.11.3`); looked up, never deployed. */
  readonly tag: string;
  /**
   * How the digests are checked:
   * - `pinned`: trust the expected digests (the readiness gate's evidence checked them against the registry);
   * - `registry-api`: a command asks the registry's OCI distribution API for the tag's digest before the release;
   * - `artifact-registry`: `gcp.artifactregistry.getDockerImage` invoke at preview time.
   *
   * Images are never built here: the release-images workflow builds and pushes them, and the stack pins its digests.
   */
  readonly resolver: ImageResolver;
  readonly images: Readonly<Record<Service, ReleaseImageSpec>>;
  /** Compiled probe script (`dist/src/verify/probe.js`); required for `registry-api`. */
  readonly probeScript?: string;
  /** Retry budget of the `registry-api` digest check. Default 3 attempts of 10 s. */
  readonly probeBudget?: ProbeBudget;
}

/**
 * The release's container images, resolved to immutable `registry/name@sha256:…` references. A digest that differs
 * from the registry's fails the deployment before any workload changes.
 */
export class ReleaseImages extends pulumi.ComponentResource {
  /** `registry/repository@sha256:…` per service. */
  public readonly refs: pulumi.Output<Record<Service, string>>;
  /** The digests per service. */
  public readonly digests: pulumi.Output<Record<Service, string>>;
  /** Resources that must complete before the images may be used (digest checks). */
  public readonly checks: pulumi.Resource[];

  constructor(name: string, args: ReleaseImagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:images:ReleaseImages", name, {}, opts);
    validate(args);

    this.checks = [];
    const resolved = {} as Record<Service, pulumi.Output<string>>;
    for (const service of SERVICES) {
      resolved[service] = this.resolve(name, service, args, opts);
    }
    this.digests = pulumi.output(resolved);
    this.refs = pulumi
      .all(resolved)
      .apply(
        (d) =>
          Object.fromEntries(
            (Object.keys(d) as Service[]).map((s) => [
              s,
              digestRef(args.registry, args.images[s].repository, d[s] ?? ""),
            ]),
          ) as Record<Service, string>,
      );
    this.registerOutputs({ refs: this.refs, digests: this.digests });
  }

  private resolve(
    name: string,
    service: Service,
    args: ReleaseImagesArgs,
    opts?: pulumi.ComponentResourceOptions,
  ): pulumi.Output<string> {
    const spec = args.images[service];
    const expected = spec.digest ?? "";
    const lookup = tagRef(args.registry, spec.repository, args.tag);
    switch (args.resolver) {
      case "pinned":
        return pulumi.output(expected);
      case "registry-api": {
        const check = new command.local.Command(
          `${name}-${service}-digest`,
          {
            create: probeCommand(
              args.probeScript as string,
              `${service}-digest`,
              {
                kind: "digest",
                ref: lookup,
                expect: expected,
              },
              args.probeBudget ?? { attempts: 3, timeoutSeconds: 10 },
            ),
            triggers: [lookup, expected],
          },
          { parent: this, ...forwardDependsOn(opts) },
        );
        this.checks.push(check);
        // The digest is known from config: the chart uses it at preview (so every rendered object is visible to the
        // policies then) and waits for the check, which fails the update before any workload changes on a mismatch.
        return pulumi.output(expected);
      }
      case "artifact-registry": {
        const at = artifactRegistryCoordinates(args.registry);
        if (at === undefined) {
          throw new pulumi.InputPropertiesError({
            message: "imageResolver artifact-registry needs an Artifact Registry address",
            errors: [
              {
                propertyPath: "registry",
                reason: `"${args.registry}" is not <location>-docker.pkg.dev/<project>/<repository>`,
              },
            ],
          });
        }
        return gcp()
          .artifactregistry.getDockerImageOutput(
            { ...at, imageName: `${spec.repository}:${args.tag}` },
            { parent: this },
          )
          .selfLink.apply((link) =>
            assertDigest(service, lookup, expected, parseImageRef(link).digest ?? ""),
          );
      }
    }
  }
}

/** Returns `found` when it equals `expected`; otherwise throws an error saying how to resolve the mismatch. Pure. */
export function assertDigest(service: Service, lookup: string, expected: string, found: string): string {
  if (found !== expected) {
    throw new Error(
      `The registry's digest for ${service} image ${lookup} is ${found || "(none)"}, but the stack expects ` +
        `${expected}. Publish the expected image or update nova-rollout:${service}ImageDigest after review.`,
    );
  }
  return found;
}

function validate(args: ReleaseImagesArgs): void {
  const errors: { propertyPath: string; reason: string }[] = [];
  for (const service of SERVICES) {
    const spec = args.images[service];
    const at = `images.${service}`;
    if (spec.digest === undefined) {
      errors.push({
        propertyPath: `${at}.digest`,
        reason:
          `${spec.repository} is given only by the mutable tag "${args.tag}"; ` +
          "pin it with the digest the registry reports (sha256:…)",
      });
    }
    if (spec.digest !== undefined && !DIGEST_PATTERN.test(spec.digest)) {
      errors.push({ propertyPath: `${at}.digest`, reason: `"${spec.digest}" is not sha256:<64 hex>` });
    }
  }
  if (args.resolver === "registry-api" && args.probeScript === undefined) {
    errors.push({ propertyPath: "probeScript", reason: "required for the registry-api resolver" });
  }
  if (errors.length > 0) {
    throw new pulumi.InputPropertiesError({ message: "ReleaseImages: invalid images", errors });
  }
}
