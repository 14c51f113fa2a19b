/**
 * The GCP SDK, loaded on first use. Most stacks (the sandbox, kubeconfig-mode clusters, pinned digests) register none
 * of its resources, and loading it costs every program start about a tenth of a second.
 */
import type * as gcpSdk from "@pulumi/gcp";

/** `@pulumi/gcp`, loaded when a component first needs it. */
export function gcp(): typeof gcpSdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberately lazy (see above)
  return require("@pulumi/gcp") as typeof gcpSdk;
}
