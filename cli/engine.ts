/**
 * The rollout CLI's access to the Pulumi engine (Automation API): one place that opens stacks with the offline
 * toolchain environment, reads their config, attaches the policy pack of their class and reads what an update's
 * events and state say about post-deploy verification. Errors and exit codes are in `errors.ts`, output in
 * `output.ts`, the shared flags and the project resolver in `options.ts`, release history in `history.ts`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ConfigMap, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import {
  loadStackSettingsFromFile,
  parseStackSettings,
  projectKeys,
  type StackSettings,
} from "../src/config";
import { VERIFICATION_RESOURCE_PREFIX } from "../src/contract";
import { classifyStackFile, type StackClass } from "../src/evidence/stack-class";
import { policyConfigPath } from "../src/evidence/enforcement";
import { cacheDir, selectedToolchain } from "../tools/toolchain";
import { engineEnvFor, productionReason } from "./backend";
import { DirectStack } from "./direct-stack";
import { UserError } from "./errors";
import { resolveEvidenceDir } from "./options";

type Automation = typeof import("@pulumi/pulumi/automation");
let loadedAutomation: Automation | undefined;

/**
 * The Automation API, loaded on first use: its module graph (the whole SDK, ~0.5 s) is paid only by commands that
 * open a stack, not by `--help`, the record commands or `preview` (which runs `pulumi preview` itself).
 */
export function automation(): Automation {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loadedAutomation ??= require("@pulumi/pulumi/automation") as Automation;
  return loadedAutomation;
}

/** The stack an engine operation acts on; `stackClass` when the caller has classified it already (classified once). */
export interface StackContext {
  readonly projectDir: string;
  readonly stack: string;
  readonly stackClass?: StackClass;
}

/**
 * Opens an existing stack ({@link DirectStack}: no engine run until its first operation) with the toolchain environment and the backend and secrets settings of {@link engineEnvFor}:
 * the sandbox defaults for the stack `local` only, the user's own backend and passphrase for every other stack, and
 * the production refusals for stacks `classifyStackFile` counts as production. Throws {@link UserError} when the
 * program is not compiled or the backend/passphrase settings are missing or not allowed.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- async, so a refusal is a rejection like the engine's
export async function openStack(ctx: StackContext): Promise<DirectStack> {
  const envVars = engineEnv(ctx);
  return new DirectStack(ctx.stack, ctx.projectDir, pulumiBinary(), envVars, () =>
    automationStack(ctx, envVars),
  );
}

/** The Automation API's stack of `ctx`, for what {@link DirectStack} leaves to it (refresh, preview, cancel, outputs). */
async function automationStack(ctx: StackContext, envVars: Record<string, string>): Promise<Stack> {
  const { LocalWorkspace, PulumiCommand, Stack } = automation();
  const pulumiCommand =
    pulumiBinary() !== "pulumi"
      ? await PulumiCommand.get({ root: cacheDir(), skipVersionCheck: true })
      : undefined;
  const workspace = await LocalWorkspace.create({
    workDir: ctx.projectDir,
    envVars,
    ...(pulumiCommand !== undefined ? { pulumiCommand } : {}),
  });
  return Stack.select(ctx.stack, withoutStackSelect(workspace));
}

/**
 * The environment the engine runs a stack's operations with ({@link engineEnvFor}); throws {@link UserError} when the
 * program is not compiled or the backend/passphrase settings are missing or not allowed.
 */
export function engineEnv(ctx: StackContext): Record<string, string> {
  const compiled = path.join(ctx.projectDir, "dist", "index.js");
  if (!fs.existsSync(compiled)) {
    throw new UserError(`The program is not compiled (${compiled} is missing). Run \`npm run build\` first.`);
  }
  const stackClass = ctx.stackClass ?? classifyStackFile(ctx.projectDir, ctx.stack);
  return engineEnvFor({
    projectDir: ctx.projectDir,
    stack: ctx.stack,
    baseEnv: process.env,
    production: stackClass.production,
    productionReason: productionReason(stackClass),
  });
}

/** The offline CLI built by `npm run setup` when that is the selected toolchain and present, else `pulumi` from PATH. */
export function pulumiBinary(): string {
  const cached = path.join(cacheDir(), "bin", "pulumi");
  return selectedToolchain(process.env).kind === "offline" && fs.existsSync(cached) ? cached : "pulumi";
}

/**
 * The workspace with `selectStack` answered at once: every operation of the Automation API names its stack
 * (`--stack`), so the `pulumi stack select` run that `Stack.select` starts only costs a CLI start (0.3–0.6 s); a
 * missing stack is reported by the first operation instead (StackNotFoundError, exit code 3).
 */
export function withoutStackSelect(workspace: LocalWorkspace): LocalWorkspace {
  return new Proxy(workspace, {
    get(target, property) {
      if (property === "selectStack") return () => Promise.resolve();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * A stack's config as the engine holds it, read once per command (one `pulumi config` run instead of one per key;
 * secret values stay in memory and are never printed).
 */
export class StackConfig {
  private constructor(readonly all: ConfigMap) {}

  static async of(stack: Pick<Stack, "getAllConfig">): Promise<StackConfig> {
    return new StackConfig(await stack.getAllConfig());
  }

  /** A `nova-rollout:` value, or `fallback` when it is not set. */
  value(key: string, fallback = ""): string {
    return this.all[`nova-rollout:${key}`]?.value ?? fallback;
  }

  /** The stack's evidence directory (absolute): `nova-rollout:evidenceDir`, else the default (under `appDir`). */
  evidenceDir(projectDir: string): string {
    return resolveEvidenceDir(
      projectDir,
      undefined,
      this.value("evidenceDir", "") || undefined,
      this.value("appDir", "") || undefined,
    );
  }
}

/** The committed enforcement a stack is judged with: production follows the target, not the label. */
export function enforcementFor(
  stackClass: StackClass,
  environment: string | undefined,
): "production" | "staging" | "local" {
  if (stackClass.production) return "production";
  return environment === "sandbox" ? "local" : environment === "staging" ? "staging" : "production";
}

/** The committed enforcement a stack's file puts it under, with its classification (given, or classified here). */
export function stackEnforcement(
  projectDir: string,
  stackName: string,
  classified?: StackClass,
): { stackClass: StackClass; level: "production" | "staging" | "local" } {
  const stackClass = classified ?? classifyStackFile(projectDir, stackName);
  return { stackClass, level: enforcementFor(stackClass, stackClass.declaredEnvironment) };
}

/**
 * The policy pack arguments for a stack: the pack and the committed enforcement of its class. A stack aimed at a
 * protected target gets the production enforcement whatever its name or `environment` value; `--no-policy` is
 * refused for anything but a sandbox stack. `classified`: the stack's class when the caller has it already.
 */
export function policyArgs(
  projectDir: string,
  stackName: string,
  withPolicy = true,
  classified?: StackClass,
): { policyPacks: string[]; policyPackConfigs: string[] } | Record<string, never> {
  const { stackClass, level } = stackEnforcement(projectDir, stackName, classified);
  if (!withPolicy) {
    if (level !== "local") {
      throw new UserError(
        `--no-policy is only for sandbox stacks; ${stackName} is judged with the ${level} enforcement${stackClass.protectedTargets.length > 0 ? ` (it targets ${stackClass.protectedTargets.join(", ")})` : ""}.`,
      );
    }
    process.stderr.write("warning: running without the policy pack; the readiness gate is not enforced\n");
    return {};
  }
  const config = policyConfigPath(projectDir, level);
  if (!fs.existsSync(config)) throw new UserError(`The committed policy config ${config} is missing.`);
  return { policyPacks: [path.join(projectDir, "policy")], policyPackConfigs: [config] };
}

/** Names of the post-deploy verification commands (`PostDeployVerification` children), by logical name prefix. */
export { VERIFICATION_RESOURCE_PREFIX };

/** The parts of Automation API engine events the failure classification reads. */
export interface EngineEventLike {
  readonly resOpFailedEvent?: { readonly metadata?: { readonly urn?: string } };
  readonly diagnosticEvent?: { readonly urn?: string; readonly severity?: string };
}

/** URNs of the resources whose step failed, from the engine's event stream. */
export function failedUrns(events: readonly EngineEventLike[]): string[] {
  const urns = new Set<string>();
  for (const e of events) {
    const op = e.resOpFailedEvent?.metadata?.urn;
    if (op !== undefined && op !== "") urns.add(op);
    const d = e.diagnosticEvent;
    if (
      d?.severity === "error" &&
      d.urn !== undefined &&
      d.urn !== "" &&
      !d.urn.endsWith("::pulumi:pulumi:Stack")
    ) {
      // The root stack's error diagnostic only summarises; the failing step has its own URN.
      urns.add(d.urn);
    }
  }
  return [...urns];
}

/**
 * Whether an update failed in post-deploy verification and nowhere else: every failing resource is a verification
 * command. A failure of any other step (e.g. resuming a CronJob after verification passed) is not a verification
 * failure and must not roll a healthy release back.
 */
export function failedInVerification(events: readonly EngineEventLike[]): boolean {
  const urns = failedUrns(events);
  return urns.length > 0 && urns.every(isVerificationUrn);
}

/** Whether a URN is one of the post-deploy verification commands (`nova-verify-<check>`). */
export function isVerificationUrn(urn: string): boolean {
  // urn:pulumi:<stack>::<project>::<parent types $ separated>$<type>::<name>
  const parts = urn.split("::");
  const type = parts[2]?.split("$").at(-1);
  const name = parts.slice(3).join("::");
  return type === "command:local:Command" && name.startsWith(VERIFICATION_RESOURCE_PREFIX);
}

/**
 * The verification commands in a stack's state. A rollback replaces them all (`--replace`), so every check runs
 * against the restored release: after a failed release the checks that failed keep their previous state (their
 * replacement was never created), and with the previous triggers restored they would otherwise not run at all.
 */
export async function verificationUrns(stack: Pick<Stack, "exportStack">): Promise<string[]> {
  const state = await stack.exportStack();
  const resources = (state.deployment as { resources?: { urn?: unknown }[] } | undefined)?.resources ?? [];
  return resources
    .map((r) => r.urn)
    .filter((u): u is string => typeof u === "string" && isVerificationUrn(u));
}

/**
 * A stack's settings with its config as the engine decrypts it (secrets included; never printed). The stack file is
 * validated first, so a malformed one is named without an engine run.
 */
export async function decryptedSettings(projectDir: string, stack: string): Promise<StackSettings> {
  loadStackSettingsFromFile(projectDir, stack);
  const config = await (await openStack({ projectDir, stack })).getAllConfig();
  const values = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, v.value]));
  return parseStackSettings(projectKeys(values), { stack, projectDir });
}
