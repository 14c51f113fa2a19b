import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";

/** Quotes a value for a POSIX shell (single quotes; embedded quotes escaped). */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/** A short, stable hex digest of the given parts, for names and checksums that must change when any part does. */
export function shortHash(parts: readonly string[], length = 16): string {
  const h = createHash("sha256");
  for (const part of parts) h.update(part).update("\u0000");
  return h.digest("hex").slice(0, length);
}

/** The Kubernetes-safe child suffix of a name (lowercase letters, digits and '-'). */
export function kebab(value: string): string {
  return value
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .toLowerCase();
}

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
