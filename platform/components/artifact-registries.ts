import * as pulumi from "@pulumi/pulumi";
import { gcp } from "../../src/util/cloud-sdks";

export interface ArtifactRegistriesArgs {
  readonly project: string;
  /** Artifact Registry location, e.g. `us` (host `us-docker.pkg.dev`). */
  readonly location: string;
  /** Docker repository ids; the first is the release's `imageRegistry`. At least one. */
  readonly repositories: readonly string[];
  /** IAM members that pull images (the GKE nodes' service account). */
  readonly readers: readonly pulumi.Input<string>[];
  /** IAM members that push images (the build identity); empty when images are pushed elsewhere. */
  readonly writers: readonly pulumi.Input<string>[];
  /** Pulumi `protect` on every child. Default true. */
  readonly protect?: boolean;
}

/**
 * Docker repositories in Artifact Registry with immutable tags (a pushed tag never moves: the digest the gate
 * approved is the one that runs), readers and writers granted per repository, never project-wide.
 */
export class ArtifactRegistries extends pulumi.ComponentResource {
  /** `<location>-docker.pkg.dev`. */
  public readonly host: string;
  /** `<host>/<project>/<repository>` by repository id. */
  public readonly addresses: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: ArtifactRegistriesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:platform:ArtifactRegistries", name, {}, opts);
    if (args.repositories.length === 0) {
      throw new pulumi.InputPropertiesError({
        message: "ArtifactRegistries needs at least one repository",
        errors: [{ propertyPath: "repositories", reason: "at least one repository id is required" }],
      });
    }
    const protect = args.protect ?? true;
    const sdk = gcp();
    this.host = `${args.location}-docker.pkg.dev`;
    this.addresses = {};
    for (const id of args.repositories) {
      const repo = new sdk.artifactregistry.Repository(
        `${name}-${id}`,
        {
          project: args.project,
          location: args.location,
          repositoryId: id,
          format: "DOCKER",
          description: "Nova RMS release images (tags are immutable)",
          dockerConfig: { immutableTags: true },
        },
        { parent: this, protect },
      );
      const grant = (role: string, members: readonly pulumi.Input<string>[], kind: string) =>
        members.forEach((member, i) => {
          new sdk.artifactregistry.RepositoryIamMember(
            `${name}-${id}-${kind}-${i}`,
            { project: args.project, location: args.location, repository: repo.repositoryId, role, member },
            { parent: this, protect },
          );
        });
      grant("roles/artifactregistry.reader", args.readers, "reader");
      grant("roles/artifactregistry.writer", args.writers, "writer");
      this.addresses[id] = pulumi.interpolate`${this.host}/${args.project}/${repo.repositoryId}`;
    }
    this.registerOutputs({ host: this.host, addresses: this.addresses });
  }
}
