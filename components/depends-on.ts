import * as pulumi from "@pulumi/pulumi";

/**
 * Children do not inherit a component's `dependsOn`; components that must run after something pass it on with
 * this, explicitly (never the whole options object).
 */
export function forwardDependsOn(
  opts?: pulumi.ResourceOptions,
  ...more: pulumi.Resource[]
): Pick<pulumi.ResourceOptions, "dependsOn"> {
  const given = opts?.dependsOn;
  if (given === undefined) return more.length > 0 ? { dependsOn: more } : {};
  if (more.length === 0) return { dependsOn: given };
  if (Array.isArray(given)) return { dependsOn: [...given, ...more] };
  if (pulumi.Resource.isInstance(given)) return { dependsOn: [given, ...more] };
  return {
    dependsOn: pulumi
      .output(given as pulumi.Input<pulumi.Input<pulumi.Resource>[] | pulumi.Resource>)
      .apply((d) => [...(Array.isArray(d) ? d : [d]), ...more]),
  };
}
