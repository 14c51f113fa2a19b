/**
 * What both policy packs (this one and the platform's, platform/policy) need of @pulumi/policy beyond its typings:
 * reading values unknown during preview, and a policy's config with its schema's defaults. Only the SDK is imported,
 * so the platform pack's bundle does not take in the release pack's evidence model.
 */
import * as policySdk from "@pulumi/policy";
import { type PolicyConfigSchema } from "@pulumi/policy";

/**
 * The runtime wraps props in a proxy (`unknownCheckingProxy`) that throws `UnknownValueError` when a value unknown
 * during preview is read. @pulumi/policy exports both at run time, but its typings strip them (`@internal`).
 */
export const policyInternals = policySdk as unknown as {
  readonly UnknownValueError: new (...args: never[]) => Error;
  readonly unknownCheckingProxy: <T>(value: T) => T;
};

export function isUnknownValueError(e: unknown): e is Error {
  return e instanceof policyInternals.UnknownValueError;
}

/** Reads a value that may be unknown during preview; returns `undefined` plus `unknown: true` instead of throwing. */
export function tryRead<T>(fn: () => T): { value: T | undefined; unknown: boolean } {
  try {
    return { value: fn(), unknown: false };
  } catch (e) {
    if (isUnknownValueError(e)) {
      return { value: undefined, unknown: true };
    }
    throw e;
  }
}

/**
 * Reads a policy's config, filling schema defaults (the engine fills them too; tests and a policy group's service may
 * not). A key given as null or undefined keeps its default.
 */
export function readConfig<T extends object>(
  args: { getConfig<C extends object>(): C },
  schema: PolicyConfigSchema,
): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema.properties)) {
    if ("default" in v) out[k] = v.default;
  }
  for (const [k, v] of Object.entries(args.getConfig<Record<string, unknown>>())) {
    if (v !== undefined && v !== null) out[k] = v;
  }
  return out as T;
}
