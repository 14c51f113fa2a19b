/**
 * The GCP and Docker SDKs, loaded on first use. Most stacks (the sandbox, kubeconfig-mode clusters, pinned digests)
 * register none of their resources, and loading them costs every program start about a tenth of a second.
 */
import type * as gcpSdk from "@pulumi/gcp";
import type * as dockerSdk from "@pulumi/docker";

/** `@pulumi/gcp`, loaded when a component first needs it. */
export function gcp(): typeof gcpSdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberately lazy (see above)
  return require("@pulumi/gcp") as typeof gcpSdk;
}

/** `@pulumi/docker`, loaded when a component first needs it. */
export function docker(): typeof dockerSdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberately lazy (see above)
  return require("@pulumi/docker") as typeof dockerSdk;
}
