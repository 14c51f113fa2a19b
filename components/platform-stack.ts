import * as pulumi from "@pulumi/pulumi";
import { PLATFORM_OUTPUTS } from "../src/contract";

/** What the release expects of the platform stack it names: the same namespace, environment and (gke) cluster. */
export interface PlatformExpectation {
  readonly namespace: string;
  readonly environment: string;
  /** The GKE cluster's name, when the release reaches the cluster in gke mode. */
  readonly clusterName?: string;
}

/** The platform stack's outputs the release reads. */
export interface PlatformFacts {
  readonly namespace?: unknown;
  readonly environment?: unknown;
  readonly clusterName?: unknown;
  readonly workloadServiceAccount?: unknown;
}

/**
 * Why the platform stack is not the one this release belongs on: each output that differs from the release's own
 * config, or is missing. Pure.
 */
export function platformMismatches(
  platformStack: string,
  facts: PlatformFacts,
  expect: PlatformExpectation,
): string[] {
  const out: string[] = [];
  const compare = (output: string, found: unknown, wanted: string, key: string) => {
    if (found === undefined || found === null || found === "") {
      out.push(`${platformStack} has no output ${output} (is it a nova-platform stack that is up?)`);
    } else if (found !== wanted) {
      out.push(
        `${platformStack} output ${output} is ${JSON.stringify(found)}, but nova-rollout:${key} is ${wanted}`,
      );
    }
  };
  compare(PLATFORM_OUTPUTS.namespace, facts.namespace, expect.namespace, "namespace");
  compare(PLATFORM_OUTPUTS.environment, facts.environment, expect.environment, "environment");
  if (expect.clusterName !== undefined) {
    compare(PLATFORM_OUTPUTS.clusterName, facts.clusterName, expect.clusterName, "gkeClusterName");
  }
  if (typeof facts.workloadServiceAccount !== "string" || facts.workloadServiceAccount === "") {
    out.push(`${platformStack} has no output ${PLATFORM_OUTPUTS.workloadServiceAccount}`);
  }
  return out;
}

export interface PlatformStackArgs {
  /** `<organization>/nova-platform/<stack>`. */
  readonly stack: string;
  readonly expect: PlatformExpectation;
}

/**
 * The platform stack the release runs on, read through a StackReference: the cluster, the namespace and the
 * workloads' service account are the platform's. Its outputs are checked against the release's own config first; a
 * platform that serves another namespace, environment or cluster fails the update before any Kubernetes object is
 * written (every output below waits for the check).
 */
export class PlatformStack extends pulumi.ComponentResource {
  /** The platform's kubeconfig (a secret), for gke mode, where the platform created the cluster. */
  public readonly kubeconfig: pulumi.Output<string>;
  /** The namespace the platform owns (equal to the release's `namespace`). */
  public readonly namespace: pulumi.Output<string>;
  /** The Kubernetes service account the workloads run as. */
  public readonly workloadServiceAccount: pulumi.Output<string>;
  /** Resolves once the outputs matched the release's config; rejects (failing the update) otherwise. */
  public readonly checked: pulumi.Output<true>;

  constructor(name: string, args: PlatformStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:platform:PlatformStack", name, {}, opts);
    const ref = new pulumi.StackReference(`${name}-platform`, { name: args.stack }, { parent: this });
    const out = (key: string) => ref.getOutput(key);
    this.checked = pulumi
      .all([
        out(PLATFORM_OUTPUTS.namespace),
        out(PLATFORM_OUTPUTS.environment),
        out(PLATFORM_OUTPUTS.clusterName),
        out(PLATFORM_OUTPUTS.workloadServiceAccount),
      ])
      .apply(([namespace, environment, clusterName, workloadServiceAccount]) => {
        const problems = platformMismatches(
          args.stack,
          {
            namespace: namespace as unknown,
            environment: environment as unknown,
            clusterName: clusterName as unknown,
            workloadServiceAccount: workloadServiceAccount as unknown,
          },
          args.expect,
        );
        if (problems.length > 0) {
          throw new pulumi.RunError(
            `The platform stack ${args.stack} is not this release's: ${problems.join("; ")}. Nothing was changed.`,
          );
        }
        return true as const;
      });
    const after = <T>(value: pulumi.Output<T>) => pulumi.all([this.checked, value]).apply(([, v]) => v);
    this.kubeconfig = pulumi.secret(after(out(PLATFORM_OUTPUTS.kubeconfig)).apply((k) => String(k ?? "")));
    this.namespace = after(out(PLATFORM_OUTPUTS.namespace)).apply((v) => String(v));
    this.workloadServiceAccount = after(out(PLATFORM_OUTPUTS.workloadServiceAccount)).apply((v) => String(v));
    this.registerOutputs({ stack: args.stack });
  }
}
