/**
 * A harness that calls policies with the same argument objects the @pulumi/policy 1.21 runtime builds (server.js
 * makeAnalyzeRpcFun / makeAnalyzeStackRpcFun): props wrapped in `unknownCheckingProxy`, `getConfig` returning the
 * schema defaults plus overrides minus `enforcementLevel` (the engine's ReconcilePolicyPackConfig), a URN carrying
 * the stack, resource options with empty defaults, `notApplicable` throwing, and UnknownValueError turned into an
 * advisory "can't run during preview" diagnostic. Never imports policy/index.ts (its PolicyPack starts a server).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type EnforcementLevel,
  type Policy,
  type PolicyResource,
  type PolicyResourceOptions,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
  type StackValidationArgs,
  type StackValidationPolicy,
} from "@pulumi/policy";
import { isUnknownValueError, policyInternals } from "../../policy/policies/common";

const { unknownCheckingProxy } = policyInternals;

/** The engine's sentinel for an unknown string/object during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const PROJECT = "nova-rollout";

export function urnOf(stack: string, type: string, name: string, project = PROJECT): string {
  return `urn:pulumi:${stack}::${project}::${type}::${name}`;
}

export interface Violation {
  readonly message: string;
  readonly urn?: string;
}

export interface Outcome {
  readonly violations: readonly Violation[];
  readonly messages: readonly string[];
  /** Set when the policy called notApplicable(). */
  readonly notApplicable?: string;
  /** Set when the runtime would have reported "can't run policy during preview" (advisory). */
  readonly unknownAdvisory?: string;
}

class NotApplicable extends Error {
  constructor(readonly reason: string | undefined) {
    super(reason ?? "Policy does not apply");
  }
}

/** Schema defaults + overrides, without enforcementLevel (what `getConfig()` returns at run time). */
export function configFor(policy: Policy, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(policy.configSchema?.properties ?? {})) {
    if ("default" in v) {
      out[k] = v.default;
    }
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (k !== "enforcementLevel") {
      out[k] = v;
    }
  }
  return out;
}

/** Reads `policy/config/<file>.json` as passed with `--policy-pack-config`. */
export function packConfigFile(
  file: "production" | "staging" | "local",
): Record<string, Record<string, unknown>> {
  const p = path.resolve(__dirname, "../../policy/config", `${file}.json`);
  return JSON.parse(fs.readFileSync(p, "utf8")) as Record<string, Record<string, unknown>>;
}

/** The enforcement level the runtime uses: config file, else the policy's own, else the pack default (advisory). */
export function enforcementFor(policy: Policy, file: "production" | "staging" | "local"): EnforcementLevel {
  const entry = packConfigFile(file)[policy.name];
  const fromFile =
    typeof entry === "string" ? entry : (entry?.["enforcementLevel"] as EnforcementLevel | undefined);
  return fromFile ?? policy.enforcementLevel ?? "advisory";
}

/** Policy config from a pack config file plus overrides. */
export function fileConfig(
  policy: Policy,
  file: "production" | "staging" | "local",
  overrides: Record<string, unknown> = {},
) {
  const entry = packConfigFile(file)[policy.name];
  return { ...(typeof entry === "object" ? entry : {}), ...overrides };
}

const defaultOpts: PolicyResourceOptions = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

export interface ResourceInput {
  readonly type: string;
  readonly props: Record<string, unknown>;
  readonly name?: string;
  readonly stack?: string;
  readonly urn?: string;
  readonly config?: Record<string, unknown>;
  readonly opts?: Partial<PolicyResourceOptions>;
}

async function capture(
  run: (report: (message: string, urn?: string) => void) => Promise<void> | void,
): Promise<Outcome> {
  const violations: Violation[] = [];
  try {
    await run((message, urn) => violations.push(urn === undefined ? { message } : { message, urn }));
  } catch (e) {
    if (e instanceof NotApplicable) {
      return { violations, messages: violations.map((v) => v.message), notApplicable: e.reason ?? "" };
    }
    if (isUnknownValueError(e)) {
      return { violations, messages: violations.map((v) => v.message), unknownAdvisory: e.message };
    }
    throw e;
  }
  return { violations, messages: violations.map((v) => v.message) };
}

/** Runs a resource policy the way `analyze` does. */
export function runResourcePolicy(policy: ResourceValidationPolicy, input: ResourceInput): Promise<Outcome> {
  const name = input.name ?? "fixture";
  const stack = input.stack ?? "production";
  const config = configFor(policy, input.config);
  const args: ResourceValidationArgs = {
    type: input.type,
    props: unknownCheckingProxy(structuredClone(input.props)),
    urn: input.urn ?? urnOf(stack, input.type, name),
    name,
    opts: { ...defaultOpts, ...input.opts },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => ({ ...config }) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
  const validations = policy.validateResource === undefined ? [] : [policy.validateResource].flat();
  return capture(async (report) => {
    for (const v of validations) {
      await v(args, report);
    }
  });
}

export interface StackResourceSpec {
  readonly type: string;
  readonly name: string;
  readonly props?: Record<string, unknown>;
  /** Names of resources this one depends on. */
  readonly dependsOn?: readonly string[];
  /** Name of the parent resource. */
  readonly parent?: string;
}

/** Builds linked PolicyResource objects (dependencies and parents resolved by name). */
export function stackResources(specs: readonly StackResourceSpec[], stack = "production"): PolicyResource[] {
  const byName = new Map<string, PolicyResource & { dependencies: PolicyResource[] }>();
  for (const s of specs) {
    byName.set(s.name, {
      type: s.type,
      name: s.name,
      urn: urnOf(stack, s.type, s.name),
      props: unknownCheckingProxy(structuredClone(s.props ?? {})),
      opts: { ...defaultOpts },
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    });
  }
  for (const s of specs) {
    const r = byName.get(s.name);
    if (r === undefined) continue;
    for (const d of s.dependsOn ?? []) {
      const dep = byName.get(d);
      if (dep) r.dependencies.push(dep);
    }
    if (s.parent !== undefined) {
      const parent = byName.get(s.parent);
      if (parent) {
        (r as { parent?: PolicyResource }).parent = parent;
        r.opts.parent = parent.urn;
      }
    }
  }
  return [...byName.values()];
}

/** Runs a stack policy the way `analyzeStack` does. */
export function runStackPolicy(
  policy: StackValidationPolicy,
  input: { resources: PolicyResource[]; config?: Record<string, unknown> },
): Promise<Outcome> {
  const config = configFor(policy, input.config);
  const args: StackValidationArgs = {
    resources: input.resources,
    stackTags: new Map(),
    getConfig: <T extends object>() => ({ ...config }) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
  return capture((report) => policy.validateStack(args, report));
}
