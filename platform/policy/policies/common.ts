/**
 * What the platform pack's policies share: reading props that may be unknown during preview, and {@link platformPolicy},
 * the one factory that turns a list of problems with a resource into violations naming the resource and the fix.
 * Nothing here reads files or the environment: the platform pack judges only what the engine sends it.
 */
import {
  type EnforcementLevel,
  type PolicyConfigSchema,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
} from "@pulumi/policy";
import { isUnknownValueError, readConfig } from "../../../policy/policies/sdk-support";

/** The project name of the platform program (platform/Pulumi.yaml). */
export const PLATFORM_PROJECT = "nova-platform";

/** Marks a value that is unknown during preview. */
export const UNKNOWN_VALUE: unique symbol = Symbol("unknown during preview");

/** The value at `path` under `root` (undefined when a step is missing), or {@link UNKNOWN_VALUE}. */
export function read(root: unknown, ...path: readonly string[]): unknown {
  try {
    let value: unknown = root;
    for (const key of path) {
      if (value === null || typeof value !== "object") return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    // Reading a nested unknown throws only on access; touch arrays' and objects' entries too.
    if (Array.isArray(value)) value.forEach((v: unknown) => v);
    return value;
  } catch (e) {
    if (isUnknownValueError(e)) return UNKNOWN_VALUE;
    throw e;
  }
}

/** `value` as JSON for messages; unknown values say so. */
export function show(value: unknown): string {
  if (value === UNKNOWN_VALUE) return "unknown during preview";
  if (value === undefined) return "unset";
  return JSON.stringify(value);
}

/** What a platform policy is made of. */
export interface PlatformPolicySpec<C extends object> {
  /** Stable kebab name, `nova-platform-*`. */
  readonly name: string;
  /** A complete sentence. */
  readonly description: string;
  /** The level when no config names one; mandatory for every platform policy (fail closed). */
  readonly enforcementLevel?: EnforcementLevel;
  readonly configSchema?: PolicyConfigSchema;
  /** Resource types judged (a list, or a test of the type token); every other type is skipped. */
  readonly types: readonly string[] | ((type: string) => boolean);
  /** How violations name the resource, e.g. `GKE cluster nova-prod`. */
  readonly label: (args: ResourceValidationArgs) => string;
  /** Every problem with the resource, each a clause saying what is wrong and what to set. */
  readonly problems: (args: ResourceValidationArgs, cfg: C) => readonly string[];
  /** What to change (appended as ` Fix: …`). */
  readonly fix: string;
}

/** Makes a resource policy that reports every problem of a judged resource in one violation. */
export function platformPolicy<C extends object>(spec: PlatformPolicySpec<C>): ResourceValidationPolicy {
  const configSchema = spec.configSchema ?? { properties: {} };
  return {
    name: spec.name,
    description: spec.description,
    enforcementLevel: spec.enforcementLevel ?? "mandatory",
    configSchema,
    validateResource: (args, reportViolation) => {
      const judged =
        typeof spec.types === "function" ? spec.types(args.type) : spec.types.includes(args.type);
      if (!judged) return;
      const cfg = readConfig<C>(args, configSchema);
      const problems = spec.problems(args, cfg);
      if (problems.length === 0) return;
      reportViolation(`${spec.label(args)}: ${problems.join("; ")}. Fix: ${spec.fix}`);
    },
  };
}

/** The resource's own name in its cloud (`props.name`), else its Pulumi name. */
export function nameOf(args: ResourceValidationArgs, ...path: readonly string[]): string {
  const value = read(args.props, ...(path.length > 0 ? path : ["name"]));
  return typeof value === "string" && value !== "" ? value : args.name;
}
