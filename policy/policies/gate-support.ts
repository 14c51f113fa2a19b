/**
 * What the gate policies (readiness gate, change freeze, leadership approval, break-glass override report) share: the
 * resource types they hook, the guard that reads their config, skips other resource types and locates the stack
 * (failing closed when the URN names none), and {@link gatePolicy}, the one factory that makes each of them from its
 * name, description, config and the gate section it reports. Their gate input is the gate's own, built once per
 * stack (`gateInputOf`), so the gate's trusted view is made once per stack and run.
 */
import {
  type EnforcementLevel,
  type PolicyConfigSchema,
  type ReportViolation,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
} from "@pulumi/policy";
import { type PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import {
  type Finding,
  type GateInput,
  readRecords,
  stackRecordsOf,
  type StackRecords,
} from "../../src/evidence";
import {
  fix,
  gateInputOf,
  type LocationConfig,
  readConfig,
  reportOnce,
  type StackContext,
  stackContext,
} from "./common";

/** Resource types the gate-like policies hook: the first resources the program registers. */
export const GATED_TYPES = [
  "pulumi:pulumi:Stack",
  "pulumi:providers:kubernetes",
  "gcp:container/cluster:Cluster",
  "kubernetes:core/v1:Namespace",
  // The platform's namespace, patched with the release record when a platform stack owns it.
  "kubernetes:core/v1:NamespacePatch",
] as const;

export const gatedTypesSchemaProperty: PolicyConfigJSONSchema = {
  type: "array",
  items: { type: "string" },
  default: [...GATED_TYPES],
  description: "Resource types this policy checks; the first resources the program registers.",
};

/** The stack's root resource: always gated, whatever the config says (the first resource every program registers). */
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * The types a gate-like policy checks: the configured list plus the root stack. A config may add types, never take the
 * gate off: an empty list, a list without the root stack or a value of another shape (a policy group's config is the
 * service's, not the committed file) still gates the root stack, so the gate cannot be configured away (fail closed).
 */
export function gatedTypesOf(cfg: { readonly gatedTypes?: unknown }): readonly string[] {
  const listed = Array.isArray(cfg.gatedTypes)
    ? cfg.gatedTypes.filter((t): t is string => typeof t === "string")
    : [...GATED_TYPES];
  return listed.includes(ROOT_STACK_TYPE) ? listed : [ROOT_STACK_TYPE, ...listed];
}

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
  if (!gatedTypesOf(cfg).includes(args.type)) {
    return undefined;
  }
  const ctx = stackContext(args.urn, cfg);
  if (ctx === undefined) {
    reportViolation(`Cannot read the stack name from URN ${args.urn}; ${check} fails closed.`);
    return undefined;
  }
  return { cfg, ctx };
}

/** A gate policy: its metadata and config, and what it reports. */
export interface GatePolicySpec<C extends LocationConfig> {
  readonly name: string;
  /** A complete sentence. */
  readonly description: string;
  readonly enforcementLevel: EnforcementLevel;
  readonly configSchema: PolicyConfigSchema;
  /**
   * A gate section: how violations name the check (`the freeze check`) when the URN names no stack or the committed
   * enforcement cannot be read (it then fails closed), the fix for the latter, and the section's findings. Reported
   * once per stack: the first gated resource gets every finding, later ones a pointer to it (`reportOnce`).
   */
  readonly section?: {
    readonly check: string;
    readonly restore: string;
    /** The policy's own knobs on the stack's gate input (a non-production stack; production uses committed values). */
    readonly knobs?: (cfg: C, input: GateInput) => Partial<GateInput>;
    readonly findings: (input: GateInput, cfg: C) => readonly Finding[];
    /** One finding as a violation; default: its message and fix. */
    readonly format?: (f: Finding) => string;
    /** Violations about the resource itself, reported on it whenever it is checked (before the stack's). */
    readonly resourceLines?: (args: ResourceValidationArgs, ctx: StackContext) => readonly string[];
  };
  /**
   * A report instead of a section (advisory): the resource types it reports on and its lines, each reported on every
   * such resource; a resource whose URN names no stack is skipped.
   */
  readonly report?: {
    readonly types: (cfg: C) => readonly string[];
    readonly lines: (ctx: StackContext, records: StackRecords) => readonly string[];
  };
}

/** Each policy's gate input per stack input and knobs, so the gate's view of it is made once (see `gatePolicy`). */
const withKnobs = new WeakMap<GateInput, Map<string, GateInput>>();

function inputWithKnobs(policy: string, input: GateInput, knobsOf: () => Partial<GateInput>): GateInput {
  // Production judges with the committed values only: every gate policy shares the stack's input and view.
  if (input.stackClass.production) return input;
  const knobs = knobsOf();
  const byKnobs = withKnobs.get(input) ?? new Map<string, GateInput>();
  withKnobs.set(input, byKnobs);
  const key = `${policy}\u0000${JSON.stringify(knobs)}`;
  const known = byKnobs.get(key);
  if (known !== undefined) return known;
  const derived = { ...input, ...knobs };
  byKnobs.set(key, derived);
  return derived;
}

/** The records of a stack: the gate's (read once per stack), or read here when the enforcement cannot be read. */
function recordsOf(ctx: StackContext): StackRecords {
  const gate = gateInputOf(ctx);
  return gate.input !== undefined ? stackRecordsOf(gate.input) : readRecords(ctx.evidenceDir, ctx.stack);
}

/** Makes a gate policy (see {@link GatePolicySpec}). */
export function gatePolicy<C extends LocationConfig>(spec: GatePolicySpec<C>): ResourceValidationPolicy {
  const { name, section, report, configSchema } = spec;
  return {
    name,
    description: spec.description,
    enforcementLevel: spec.enforcementLevel,
    configSchema,
    validateResource: (args, reportViolation) => {
      if (report !== undefined) {
        const cfg = readConfig<C>(args, configSchema);
        if (!report.types(cfg).includes(args.type)) return;
        const ctx = stackContext(args.urn, cfg);
        if (ctx === undefined) return;
        for (const line of report.lines(ctx, recordsOf(ctx))) reportViolation(line);
        return;
      }
      if (section === undefined) return;
      const gated = gatedContext<C & GatedConfig>(args, configSchema, reportViolation, section.check);
      if (gated === undefined) return;
      const { cfg, ctx } = gated;
      // The resource's own problems are this resource's; report them here, not once per stack.
      for (const line of section.resourceLines?.(args, ctx) ?? []) reportViolation(line);
      const gate = gateInputOf(ctx);
      const format = section.format ?? ((f: Finding) => `${f.message}${fix(f.remedy)}`);
      const lines =
        gate.input === undefined
          ? [`${gate.enforcementError}; ${section.check} fails closed.${fix(section.restore)}`]
          : section
              .findings(
                inputWithKnobs(name, gate.input, () => section.knobs?.(cfg, gate.input) ?? {}),
                cfg,
              )
              .map(format);
      reportOnce(name, ctx.stack, args.urn, lines, reportViolation);
    },
  };
}
