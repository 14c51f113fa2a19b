/**
 * Helpers shared by the policies: the runtime (clock, environment, where to look for the project), stack name from
 * a URN, typed config with schema defaults, and the stack's expected release.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type PolicyConfigSchema, type ResourceValidationArgs } from "@pulumi/policy";
import { type PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { DEFAULT_EVIDENCE_DIR } from "../../src/contract";
import { readConfig } from "./sdk-support";
export { isUnknownValueError, policyInternals, readConfig, tryRead } from "./sdk-support";
import {
  evidenceDirOf,
  findProjectDir,
  gateInputOfSettings,
  resolveStackSettings,
  type EvidenceStackSettings,
  type GateInput,
  type SettingsResult,
} from "../../src/evidence";

/** What policies read from their surroundings; tests replace it with `setPolicyRuntime`. */
export interface PolicyRuntime {
  readonly now: () => Date;
  /** The policy process environment: the engine sets PULUMI_STACK / PULUMI_CONFIG here. */
  readonly env: NodeJS.ProcessEnv;
  /** Directories to search upward from for the project's Pulumi.yaml. */
  readonly searchStarts: readonly string[];
}

const defaultRuntime = (): PolicyRuntime => ({
  now: () => new Date(),
  env: process.env,
  // The engine starts the pack with the policy pack directory as cwd; __dirname is dist/policy/policies.
  searchStarts: [process.cwd(), __dirname],
});

let runtime: PolicyRuntime = defaultRuntime();
/** Gate policies that already reported their findings in this process, by policy and stack (see `reportOnce`). */
const reported = new Map<string, string>();
/** The gate input of each stack (and where its project and evidence are) in this process (see `gateInputOf`). */
const gateInputs = new Map<string, { readonly from: string; readonly result: GateInputOf }>();

/** The current runtime. */
export function policyRuntime(): PolicyRuntime {
  return runtime;
}

/** Replaces parts of the runtime (tests); returns a function restoring the previous one. */
export function setPolicyRuntime(partial: Partial<PolicyRuntime>): () => void {
  const previous = runtime;
  runtime = { ...runtime, ...partial };
  reported.clear();
  gateInputs.clear();
  return () => {
    runtime = previous;
    reported.clear();
    gateInputs.clear();
  };
}

/** The stack name of a URN `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackFromUrn(urn: string): string | undefined {
  const m = /^urn:pulumi:([^:]+)::/.exec(urn);
  return m?.[1];
}

/** Config knobs every evidence-reading policy has. */
export interface LocationConfig {
  /** Project directory; default: search upward for the Pulumi.yaml named nova-rollout. */
  readonly projectDir?: string;
  /**
   * Evidence directory relative to the project directory; unset: the stack's `nova-rollout:evidenceDir`, else
   * `DEFAULT_EVIDENCE_DIR`. The schema has no default on purpose: the engine fills schema defaults into the config,
   * which would hide whether the user set it.
   */
  readonly evidenceDir?: string;
}

export const locationSchemaProperties: Record<"projectDir" | "evidenceDir", PolicyConfigJSONSchema> = {
  projectDir: {
    type: "string",
    description:
      "Project directory holding Pulumi.yaml; default: searched upward from the working directory.",
  },
  evidenceDir: {
    type: "string",
    description: `Evidence directory, relative to the project directory; default: the stack's nova-rollout:evidenceDir, else ${DEFAULT_EVIDENCE_DIR}.`,
  },
};

/** The `environments` knob (default: production only); `description` says what applies there. */
export function environmentsSchemaProperty(description: string): PolicyConfigJSONSchema {
  return {
    type: "array",
    items: { type: "string" },
    default: ["production"],
    description,
  };
}

/** Where the project and its evidence are, and what the stack expects. */
export interface StackContext {
  readonly stack: string;
  readonly projectDir: string | undefined;
  readonly evidenceDir: string;
  readonly settings: SettingsResult;
}

export function stackContext(urn: string, cfg: LocationConfig): StackContext | undefined {
  const stack = stackFromUrn(urn);
  if (stack === undefined) {
    return undefined;
  }
  const rt = policyRuntime();
  const projectDir =
    cfg.projectDir !== undefined ? path.resolve(cfg.projectDir) : findProjectDir(rt.searchStarts);
  const settings = resolveStackSettings({ stack, projectDir, env: rt.env });
  // In order: the policy config when the user set it, else the stack's `nova-rollout:evidenceDir`, else the default;
  // relative to the stack's app checkout when it has one.
  const evidenceDir = evidenceDirOf(
    { projectDir: projectDir ?? process.cwd(), appDir: settings.ok ? settings.settings.appDir : undefined },
    cfg.evidenceDir,
    settings.ok ? settings.settings.evidenceDir : undefined,
  );
  return { stack, projectDir, evidenceDir, settings };
}

/** A stack's gate input, or why the committed enforcement cannot be read. */
export type GateInputOf =
  | { readonly input: GateInput; readonly enforcementError?: undefined }
  | { readonly input?: undefined; readonly enforcementError: string };

/**
 * What a gate-like policy judges: the stack's settings, the committed production enforcement of the project and
 * how the stack is classified, built by the gate's own input builder once per stack and process (every gated resource
 * and every gate policy of a run shares it, and with it the gate's trusted view). It is built again only when what it
 * was built from changes: the stack's settings, its evidence, the committed policy config or roster. Production
 * follows the target: any protected target makes the stack production. When the enforcement cannot be read the
 * stack counts as production and `enforcementError` says why (fail closed).
 */
export function gateInputOf(ctx: StackContext): GateInputOf {
  const projectDir = ctx.projectDir ?? process.cwd();
  const key = [ctx.stack, projectDir, ctx.evidenceDir].join("\u0000");
  const from = [
    JSON.stringify(ctx.settings),
    filesState(path.join(ctx.evidenceDir, ctx.stack)),
    filesState(path.join(projectDir, "policy", "config")),
    filesState(path.join(projectDir, "policy", "trust")),
  ].join("\n");
  const known = gateInputs.get(key);
  if (known !== undefined && known.from === from) return known.result;
  const built = gateInputOfSettings({
    stack: ctx.stack,
    settings: ctx.settings,
    projectDir,
    evidenceDir: ctx.evidenceDir,
    now: policyRuntime().now(),
  });
  const result: GateInputOf =
    "enforcementError" in built ? { enforcementError: built.enforcementError } : { input: built };
  gateInputs.set(key, { from, result });
  return result;
}

/** Names, sizes, modification times and inodes of the files under `dir` (empty when it does not exist). */
function filesState(dir: string): string {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return "";
  }
  return entries
    .map((e) => {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) return `${e.name}/{${filesState(file)}}`;
      try {
        const st = fs.statSync(file);
        return `${e.name}:${st.size}:${st.mtimeMs}:${st.ino}`;
      } catch {
        return `${e.name}:gone`;
      }
    })
    .sort()
    .join(",");
}

/**
 * Reports a gate policy's findings once per stack and process: the first gated resource (the root stack) gets every
 * finding with its fix; later gated resources get one line pointing there, so a blocked preview reads like a
 * checklist while each gated resource is still blocked.
 */
export function reportOnce(
  policy: string,
  stack: string,
  urn: string,
  lines: readonly string[],
  reportViolation: (message: string) => void,
): void {
  if (lines.length === 0) return;
  const key = `${policy}\u0000${stack}`;
  const first = reported.get(key);
  if (first === undefined || first === urn) {
    reported.set(key, urn);
    for (const line of lines) reportViolation(line);
    return;
  }
  reportViolation(
    `Blocked by the ${lines.length} ${lines.length === 1 ? "finding" : "findings"} reported for ${first}.`,
  );
}

/** A resource policy's config (schema defaults filled) and the context of the resource's stack, if its URN names one. */
export function policyContext<C extends LocationConfig>(
  args: ResourceValidationArgs,
  schema: PolicyConfigSchema,
): { cfg: C; ctx: StackContext | undefined } {
  const cfg = readConfig<C>(args, schema);
  return { cfg, ctx: stackContext(args.urn, cfg) };
}

/** The stack's environment; unknown counts as production (fail closed). */
export function environmentOf(settings: SettingsResult, fallback?: string): string {
  if (settings.ok && settings.settings.environment !== undefined) {
    return settings.settings.environment;
  }
  return fallback ?? "production";
}

/** The message tail naming what to run. */
export function fix(command: string): string {
  return ` Fix: ${command}`;
}

export type { EvidenceStackSettings, ResourceValidationArgs };
