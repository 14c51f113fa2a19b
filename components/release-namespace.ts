import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  CHILD_SUFFIXES,
  ENVIRONMENT_LABEL,
  PART_OF,
  POD_SECURITY_LABELS,
  RELEASE_ANNOTATIONS,
  type Environment,
} from "../src/contract";

export interface ReleaseNamespaceArgs {
  /** Namespace name, e.g. `nova-prod`. */
  readonly name: pulumi.Input<string>;
  /**
   * The namespace belongs to the platform stack (`nova-rollout:platformStack`): the release patches it with its
   * record and labels (a server-side apply patch, `NamespacePatch`) instead of creating it, so destroying the release
   * takes back only its own fields and leaves the namespace, and everything the platform put in it, in place.
   */
  readonly ownedByPlatform?: boolean;
  readonly environment: Environment;
  /** Release id (image tag). */
  readonly release: string;
  /** The expected image digests, known at preview time (from stack config). */
  readonly digests: { readonly api: string; readonly worker: string };
  /**
   * Set Pulumi's `protect` option on the Namespace, so the engine refuses to delete or replace it (and with it every
   * object inside) until it is unprotected with `pulumi state unprotect`. Pass `true` for production. Default false;
   * when omitted the Namespace inherits the component's own `protect` option, as any Pulumi child does.
   */
  readonly protect?: boolean;
}

/** Release-record annotations for the namespace. Pure. */
export function releaseAnnotations(args: ReleaseNamespaceArgs): Record<string, string> {
  return {
    [RELEASE_ANNOTATIONS.release]: args.release,
    [RELEASE_ANNOTATIONS.apiDigest]: args.digests.api,
    [RELEASE_ANNOTATIONS.workerDigest]: args.digests.worker,
    [RELEASE_ANNOTATIONS.environment]: args.environment,
  };
}

/**
 * The release's namespace. It is the first Kubernetes object the program registers and carries the release record
 * (tag and digests) as annotations, so the readiness gate can stop an unready rollout before anything changes. Its
 * Pod Security Admission labels enforce the restricted standard at `latest` (checked by nova-namespace-pod-security).
 */
export class ReleaseNamespace extends pulumi.ComponentResource {
  public readonly namespace: k8s.core.v1.Namespace | k8s.core.v1.NamespacePatch;
  public readonly name: pulumi.Output<string>;

  constructor(name: string, args: ReleaseNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:cluster:ReleaseNamespace", name, {}, opts);
    const metadata = {
      name: args.name,
      labels: {
        "app.kubernetes.io/part-of": PART_OF,
        [ENVIRONMENT_LABEL]: args.environment,
        // The API server itself refuses any pod that breaks the restricted Pod Security Standard.
        ...POD_SECURITY_LABELS,
      },
      annotations: releaseAnnotations(args),
    };
    const childName = `${name}${CHILD_SUFFIXES.namespace}`;
    if (args.ownedByPlatform === true) {
      // The platform's namespace: no `protect` (deleting a patch only takes the release's fields back).
      const patch = new k8s.core.v1.NamespacePatch(childName, { metadata }, { parent: this });
      this.namespace = patch;
      this.name = patch.metadata.apply((m) => m?.name ?? "");
    } else {
      const created = new k8s.core.v1.Namespace(
        childName,
        { metadata },
        { parent: this, ...(args.protect !== undefined ? { protect: args.protect } : {}) },
      );
      this.namespace = created;
      this.name = created.metadata.name;
    }
    this.registerOutputs({ name: this.name });
  }
}
