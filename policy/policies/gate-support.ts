/**
 * What the gate-like policies (readiness gate, change freeze, leadership approval) share: the resource types they
 * hook, and the guard that reads their config, skips other resource types and locates the stack, failing closed
 * when the URN names none.
 */
import { type PolicyConfigSchema, type ReportViolation, type ResourceValidationArgs } from "@pulumi/policy";
import { type PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { type LocationConfig, readConfig, type StackContext, stackContext } from "./common";

/** Resource types the gate-like policies hook: the first resources the program registers. */
export const GATED_TYPES = [
  "pulumi:pulumi:Stack",
  "pulumi:providers:kubernetes",
  "gcp:container/cluster:Cluster",
  "kubernetes:core/v1:Namespace",
] as const;

export const gatedTypesSchemaProperty: PolicyConfigJSONSchema = {
  type: "array",
  items: { type: "string" },
  default: [...GATED_TYPES],
  description: "Resource types this policy checks; the first resources the program registers.",
};

/** Config knobs every gate-like policy has. */
export interface GatedConfig extends LocationConfig {
  readonly gatedTypes: readonly string[];
}

/**
 * Reads the policy's config and, for a gated resource type, the stack's context. Returns undefined for any other
 * type, and (after reporting a violation naming `check`) when the URN names no stack: the gate fails closed.
 */
export function gatedContext<C extends GatedConfig>(
  args: ResourceValidationArgs,
  schema: PolicyConfigSchema,
  reportViolation: ReportViolation,
  check: string,
): { cfg: C; ctx: StackContext } | undefined {
  const cfg = readConfig<C>(args, schema);
  if (!cfg.gatedTypes.includes(args.type)) {
    return undefined;
  }
  const ctx = stackContext(args.urn, cfg);
  if (ctx === undefined) {
    reportViolation(`Cannot read the stack name from URN ${args.urn}; ${check} fails closed.`);
    return undefined;
  }
  return { cfg, ctx };
}
