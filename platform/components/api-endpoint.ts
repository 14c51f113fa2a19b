import * as pulumi from "@pulumi/pulumi";
import { gcp } from "../../src/util/cloud-sdks";

export interface ApiEndpointArgs {
  readonly project: string;
  /** Prefix of the address and certificate names, e.g. the cluster name. */
  readonly resourcePrefix: string;
  /** The API's host name; its DNS A record points at the address. */
  readonly host: string;
  /** Pulumi `protect` on every child. Default true. */
  readonly protect?: boolean;
}

/**
 * The API route's fixed parts: a global static IPv4 address (the DNS record never changes between releases) and a
 * Google-managed certificate for the host, both referenced by name from the release's Ingress.
 */
export class ApiEndpoint extends pulumi.ComponentResource {
  public readonly address: pulumi.Output<string>;
  public readonly addressName: pulumi.Output<string>;
  public readonly certificateName: pulumi.Output<string>;

  constructor(name: string, args: ApiEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:platform:ApiEndpoint", name, {}, opts);
    const protect = args.protect ?? true;
    const sdk = gcp();
    const address = new sdk.compute.GlobalAddress(
      `${name}-ip`,
      {
        project: args.project,
        name: `${args.resourcePrefix}-api-ip`,
        addressType: "EXTERNAL",
        ipVersion: "IPV4",
        description: `Static address of ${args.host}`,
      },
      { parent: this, protect },
    );
    const certificate = new sdk.compute.ManagedSslCertificate(
      `${name}-cert`,
      { project: args.project, name: `${args.resourcePrefix}-api-cert`, managed: { domains: [args.host] } },
      { parent: this, protect },
    );
    this.address = address.address;
    this.addressName = address.name;
    this.certificateName = certificate.name;
    this.registerOutputs({
      address: this.address,
      addressName: this.addressName,
      certificateName: this.certificateName,
    });
  }
}
