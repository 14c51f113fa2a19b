/**
 * The rollout CLI's access to the Pulumi engine (Automation API): one place that opens stacks with the offline
 * toolchain environment, attaches the policy pack, streams progress and maps engine failures to exit codes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type {
  ConcurrentUpdateError,
  ConfigMap,
  LocalWorkspace,
  Stack,
  UpdateSummary,
} from "@pulumi/pulumi/automation";
import { parse as parseYaml } from "yaml";
import { ConfigValidationError, CONFIG_NAMESPACE, VERIFICATION_CONFIG_KEYS } from "../src/config";
import { classifyStackFile, policyConfigPath, type StackClass } from "../src/evidence/enforcement";
import { parseAdmission, type Admission } from "../src/evidence/gate";
import { parseRejectionNote, type RejectionRecord } from "../src/evidence/rejections";
import { DEFAULT_EVIDENCE_DIR, VERIFICATION_RESOURCE_PREFIX } from "../src/contract";
import { findProjectDir } from "../src/evidence/stack-settings";
import { cacheDir, selectedToolchain } from "../tools/toolchain";
import { engineEnvFor, productionReason } from "./backend";

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

/**
 * Whether an error is one of the Automation API's (`CommandError` and its subclasses), told by the name each sets: the
 * module need not be loaded to ask, and the answer holds for any copy of it.
 */
function isAutomationError(
  err: unknown,
  name: "CommandError" | "ConcurrentUpdateError" | "StackNotFoundError",
): err is Error {
  return err instanceof Error && err.name === name;
}

/** Whether an error is the engine saying the stack is locked by another update (Automation API or a direct run). */
export function isConcurrentUpdateError(err: unknown): err is ConcurrentUpdateError | EngineRunError {
  if (err instanceof EngineRunError) return err.locked;
  return isAutomationError(err, "ConcurrentUpdateError");
}

/** How the engine says a stack does not exist, and that it is locked (the texts the Automation API decides by). */
const STACK_NOT_FOUND = /no stack named.*found/;
const STACK_LOCKED = [
  "[409] Conflict: Another update is currently in progress.",
  "the stack is currently locked by",
];

/** A `pulumi` command run directly (not through the Automation API) that exited non-zero. */
export class EngineRunError extends Error {
  override readonly name = "EngineRunError";
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(`${command} exited with ${exitCode === null ? "a signal" : `code ${exitCode}`}\n${output}`);
  }
  get stackNotFound(): boolean {
    return STACK_NOT_FOUND.test(this.output);
  }
  get locked(): boolean {
    return STACK_LOCKED.some((t) => this.output.includes(t));
  }
}

/** Exit codes of the rollout CLI, distinct per failure class so pipelines can react. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  stackNotFound: 3,
  concurrentUpdate: 4,
  policyViolation: 5,
  verificationFailed: 6,
  notReady: 7,
  /** A rollback (automatic or manual) failed: the stack is between releases; see the printed emergency steps. */
  rollbackFailed: 8,
  /** `drift`: the cluster no longer matches the last release. */
  drifted: 9,
} as const;

/** The option every command that acts on a stack takes, spelled the same everywhere. */
export const STACK_OPTION = ["-s, --stack <name>", "stack to act on (e.g. production)"] as const;

/** The option of every command that prints a result: the result as JSON on stdout, progress stays on stderr. */
export const JSON_OPTION = ["--json", "print the result as JSON on stdout"] as const;

/**
 * Runs a command's work; with `--json` everything it says for people goes to stderr and its result, as JSON, alone to
 * stdout. Without it the result is not printed (the command has said it in words).
 */
export async function withJsonResult<T>(
  json: boolean | undefined,
  work: () => T | Promise<T>,
): Promise<void> {
  if (json !== true) {
    await work();
    return;
  }
  const log = console.log;
  console.log = (...args: unknown[]) => console.error(...args);
  let result: T;
  try {
    result = await work();
  } finally {
    console.log = log;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** A failure caused by the user's input or state; printed as one line, without a stack trace. */
export class UserError extends Error {
  override readonly name = "UserError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
  }
}

/** The repository root (the directory of the nova-rollout Pulumi.yaml), whether this runs compiled or from source. */
export function projectRoot(): string {
  const dir = findProjectDir([__dirname]);
  if (dir === undefined)
    throw new UserError("Cannot find Pulumi.yaml above the CLI; run it from the repository.");
  return dir;
}

export interface StackContext {
  readonly projectDir: string;
  readonly stack: string;
}

/**
 * Opens an existing stack with the toolchain environment and the backend and secrets settings of {@link engineEnvFor}:
 * the sandbox defaults for the stack `local` only, the user's own backend and passphrase for every other stack, and
 * the production refusals for stacks `classifyStackFile` counts as production. Throws {@link UserError} when the
 * program is not compiled or the backend/passphrase settings are missing or not allowed.
 */
export async function openStack(ctx: StackContext): Promise<Stack> {
  const envVars = engineEnv(ctx);
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
  const stackClass = classifyStackFile(ctx.projectDir, ctx.stack);
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

  /** The stack's evidence directory (absolute): `nova-rollout:evidenceDir`, else the default. */
  evidenceDir(projectDir: string): string {
    return path.resolve(projectDir, this.value("evidenceDir", DEFAULT_EVIDENCE_DIR));
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

/** The committed enforcement a stack's file puts it under, with its classification. */
export function stackEnforcement(
  projectDir: string,
  stackName: string,
): { stackClass: StackClass; level: "production" | "staging" | "local" } {
  const stackClass = classifyStackFile(projectDir, stackName);
  return { stackClass, level: enforcementFor(stackClass, stackClass.declaredEnvironment) };
}

/**
 * The policy pack arguments for a stack: the pack and the committed enforcement of its class. A stack aimed at a
 * protected target gets the production enforcement whatever its name or `environment` value; `--no-policy` is
 * refused for anything but a sandbox stack.
 */
export function policyArgs(
  projectDir: string,
  stackName: string,
  withPolicy = true,
): { policyPacks: string[]; policyPackConfigs: string[] } | Record<string, never> {
  const { stackClass, level } = stackEnforcement(projectDir, stackName);
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

/** Streams engine output to stderr, line by line, so stdout stays for results. */
export function progress(prefix = ""): (out: string) => void {
  return (out) => process.stderr.write(prefix === "" ? out : out.replace(/^/gm, prefix));
}

/** Maps an error to an exit code and a message a person can act on. */
export function describeFailure(err: unknown): { code: number; message: string } {
  if (err instanceof UserError) return { code: err.exitCode, message: err.message };
  if (err instanceof ConfigValidationError) return { code: EXIT.usage, message: err.message };
  if (isAutomationError(err, "StackNotFoundError") || (err instanceof EngineRunError && err.stackNotFound)) {
    return {
      code: EXIT.stackNotFound,
      message: `Stack not found. Create it with \`pulumi stack init <name>\`.`,
    };
  }
  if (isConcurrentUpdateError(err)) {
    return {
      code: EXIT.concurrentUpdate,
      message:
        "Another update of this stack is in progress; wait for it, or run `rollout recover` if it was interrupted.",
    };
  }
  if (err instanceof EngineRunError) return describeEngineOutput(err.output);
  if (isAutomationError(err, "CommandError")) return describeEngineOutput(err.message);
  return { code: EXIT.failed, message: err instanceof Error ? err.message : String(err) };
}

/** A failed engine run's exit code and message, from what the engine printed. */
function describeEngineOutput(text: string): { code: number; message: string } {
  // The engine lists each violation as `- [mandatory]  <policy>  (<type>: <name>)`.
  if (/\[mandatory\]\s+nova-/.test(text)) {
    return { code: EXIT.policyViolation, message: "Blocked by mandatory policy violations (see above)." };
  }
  return { code: EXIT.failed, message: engineErrors(text) ?? lastLines(text, 15) };
}

/** Entries per page when reading a stack's whole history. */
const HISTORY_PAGE = 500;

/**
 * The stack's whole history, newest first: numbering is stable only when counted over every update. Read page by page:
 * `pulumi stack history` without a page size returns only the newest 10.
 */
export async function fullHistory(stack: Pick<Stack, "history">): Promise<ReleaseEntry[]> {
  const all: UpdateSummary[] = [];
  for (let page = 1; ; page += 1) {
    const batch = await stack.history(HISTORY_PAGE, page, false);
    all.push(...batch);
    if (batch.length < HISTORY_PAGE) break;
  }
  return toReleaseEntries(all);
}

function admissionField(message: string | undefined): { admission?: Admission } {
  const admission = parseAdmission(message);
  return admission === undefined ? {} : { admission };
}

/** The engine's own `error:` diagnostics in a command's output (each once), without the closing "update failed". */
function engineErrors(text: string): string | undefined {
  const seen = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^\s*error: (.+)$/.exec(line);
    const msg = m?.[1]?.trim();
    if (msg !== undefined && !/^(update|preview) failed$/.test(msg)) seen.add(msg);
  }
  return seen.size > 0 ? [...seen].slice(0, 10).join("\n") : undefined;
}

function lastLines(text: string, n: number): string {
  return text.trim().split("\n").slice(-n).join("\n");
}

/** The `nova-rollout:` values of an update's config, secrets left out (history never shows them). */
export function releaseConfig(config: ConfigMap): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith("nova-rollout:") && value.secret !== true) out[key] = value.value;
  }
  return out;
}

/** One line of release history. */
export interface ReleaseEntry {
  readonly version: number;
  readonly result: UpdateSummary["result"];
  readonly kind: UpdateSummary["kind"];
  readonly startTime: Date;
  readonly endTime: Date;
  readonly release: string;
  readonly apiDigest: string;
  readonly workerDigest: string;
  readonly config: Record<string, string>;
  /** What admitted this release through the gate (recorded in the update's message by `rollout up`/`rollback`). */
  readonly admission?: Admission;
  /** The release an automatic rollback rejected (its message carries the rejection of the failed update). */
  readonly rejects?: RejectionRecord;
}

/**
 * History entries, newest first, as releases. Backends that do not number updates (the file backend reports 0)
 * get their position counted from the oldest, so versions are always usable with `rollback --to`. Pass the whole
 * history (see {@link fullHistory}): positions counted on a page would shift as updates accumulate.
 */
export function toReleaseEntries(history: readonly UpdateSummary[]): ReleaseEntry[] {
  return history.map((u, i) => toReleaseEntry(u, history.length - i));
}

export function toReleaseEntry(u: UpdateSummary, position?: number): ReleaseEntry {
  const config = releaseConfig(u.config ?? {});
  return {
    version: u.version > 0 ? u.version : (position ?? u.version),
    result: u.result,
    kind: u.kind,
    startTime: u.startTime,
    endTime: u.endTime,
    release: config["nova-rollout:imageTag"] ?? "",
    apiDigest: config["nova-rollout:apiImageDigest"] ?? "",
    workerDigest: config["nova-rollout:workerImageDigest"] ?? "",
    config,
    ...admissionField(u.message),
    ...rejectsField(u.message),
  };
}

function rejectsField(message: string | undefined): { rejects?: RejectionRecord } {
  const rejects = parseRejectionNote(message);
  return rejects === undefined ? {} : { rejects };
}

/** Image digests of a release, as a rollback target is compared with what the stack runs or has rejected. */
export interface ReleaseDigests {
  readonly api: string;
  readonly worker: string;
}

/**
 * Why a history entry cannot be a rollback target, or undefined when it qualifies: only a successful `update` (it
 * passed the gate and the post-deploy verification, since a failed verification fails the update), on a production
 * stack one whose admission history records, and never one whose digests the stack has since rejected.
 */
export function targetProblem(
  entry: ReleaseEntry,
  requireAdmission: boolean,
  rejected: readonly ReleaseDigests[] = [],
): string | undefined {
  if (entry.kind !== "update") return `it was a ${entry.result} ${entry.kind}, not a release`;
  if (entry.result === "failed") {
    return `it was a failed update: release ${entry.release || "(unknown)"} did not pass the gate and post-deploy verification in it`;
  }
  if (entry.result !== "succeeded") {
    return `it was a ${entry.result} update: it never finished its post-deploy verification`;
  }
  if (requireAdmission && entry.admission === undefined) {
    return "it carries no gate admission (it was not released through `rollout up`), so the gate never admitted it; a production stack rolls back only to a release the gate admitted";
  }
  if (rejected.some((d) => d.api === entry.apiDigest && d.worker === entry.workerDigest)) {
    return `its release ${entry.release} was rejected on this stack afterwards (a later update with the same digests failed post-deploy verification)`;
  }
  return undefined;
}

/** The updates that qualify as rollback targets (see {@link targetProblem}), newest first. */
export function rollbackCandidates(
  history: readonly ReleaseEntry[],
  requireAdmission: boolean,
  rejected: readonly ReleaseDigests[] = [],
): ReleaseEntry[] {
  return history
    .filter((h) => targetProblem(h, requireAdmission, rejected) === undefined)
    .sort((a, b) => b.version - a.version);
}

/** The versions that qualify as rollback targets, newest first, for messages (at most `limit`). */
export function qualifyingList(good: readonly ReleaseEntry[], limit = 10): string {
  if (good.length === 0) return "No update of this stack qualifies as a rollback target.";
  const shown = good.slice(0, limit).map((h) => `${h.version} (release ${h.release})`);
  const more = good.length > limit ? `, and ${good.length - limit} older` : "";
  return `Updates that qualify (admitted and succeeded, newest first): ${shown.join(", ")}${more}; see \`rollout history\`.`;
}

/**
 * The update to roll back to: the newest qualifying update (see {@link targetProblem}) whose digests differ from
 * `current`, or exactly `version` when given, which must itself qualify. A refusal names why and which versions do.
 */
export function rollbackTarget(
  history: readonly ReleaseEntry[],
  current: { apiDigest: string; workerDigest: string },
  version?: number,
  requireAdmission = false,
  rejected: readonly ReleaseDigests[] = [],
): ReleaseEntry {
  const good = rollbackCandidates(history, requireAdmission, rejected);
  if (version !== undefined) {
    const entry = history.find((h) => h.version === version);
    if (entry === undefined) {
      throw new UserError(`Update ${version} is not in this stack's history. ${qualifyingList(good)}`);
    }
    const problem = targetProblem(entry, requireAdmission, rejected);
    if (problem !== undefined) {
      throw new UserError(
        `Update ${version} cannot be a rollback target: ${problem}. Nothing was changed. ${qualifyingList(good)}`,
      );
    }
    return entry;
  }
  const target = good.find(
    (h) => h.apiDigest !== current.apiDigest || h.workerDigest !== current.workerDigest,
  );
  if (target === undefined) {
    throw new UserError(
      `No earlier successful release with other image digests is in the stack's history. ${qualifyingList(good)}`,
    );
  }
  return target;
}

/** The full keys (`nova-rollout:<key>`) of the verification settings, which a rollback never changes. */
export const VERIFICATION_KEYS: ReadonlySet<string> = new Set(
  VERIFICATION_CONFIG_KEYS.map((k) => `${CONFIG_NAMESPACE}:${k}`),
);

/**
 * The project's config defaults (Pulumi.yaml `config:`), by full key, as the text history stores values in (lists and
 * maps as JSON). An unreadable Pulumi.yaml has none.
 */
export function projectConfigDefaults(projectDir: string): Record<string, string> {
  let doc: unknown;
  try {
    doc = parseYaml(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"));
  } catch {
    return {};
  }
  const config = (doc as { config?: unknown } | null)?.config;
  if (typeof config !== "object" || config === null) return {};
  const out: Record<string, string> = {};
  for (const [key, decl] of Object.entries(config as Record<string, unknown>)) {
    if (typeof decl !== "object" || decl === null || !("default" in decl)) continue;
    const value = decl.default;
    const full = key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`;
    out[full] = typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  }
  return out;
}

/** Whether two config texts hold the same value (lists and maps compared as JSON, whatever their spacing). */
export function sameConfigValue(a: string, b: string): boolean {
  if (a === b) return true;
  if (!/^\s*[[{]/.test(a) || !/^\s*[[{]/.test(b)) return false;
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/**
 * What a rollback changes in the stack config to re-apply a target update's config: the keys whose value differs from
 * the stack's now (`set`), and the keys set now that the target ran with at their project default (`remove`: a
 * default is never written into the stack file). The verification settings (`VERIFICATION_CONFIG_KEYS`) are left as
 * the stack has them now: the restored release is verified with the current checks, the ones that failed included.
 */
export function rollbackConfigChanges(
  target: Readonly<Record<string, string>>,
  current: Readonly<Record<string, { readonly value: string; readonly secret?: boolean } | undefined>>,
  defaults: Readonly<Record<string, string>>,
): { set: Record<string, string>; remove: string[] } {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const [key, value] of Object.entries(target)) {
    if (VERIFICATION_KEYS.has(key)) continue;
    const now = current[key];
    const fallback = defaults[key];
    if (fallback !== undefined && sameConfigValue(value, fallback)) {
      if (now !== undefined && (now.secret === true || !sameConfigValue(now.value, fallback)))
        remove.push(key);
      continue;
    }
    if (now === undefined || now.secret === true || !sameConfigValue(now.value, value)) set[key] = value;
  }
  return { set, remove };
}

/**
 * The `pulumi config --json` document that sets `values`: list and map values (stored as JSON text in history) are
 * set as structured values, so keys that Pulumi.yaml types as arrays keep their type.
 */
export function configJson(
  values: Readonly<Record<string, string | { readonly value: string; readonly secret?: boolean }>>,
): string {
  const doc: Record<string, { value: string; secret: boolean; objectValue?: unknown }> = {};
  for (const [key, entry] of Object.entries(values)) {
    const { value, secret } = typeof entry === "string" ? { value: entry, secret: false } : entry;
    let objectValue: unknown;
    // Secrets are restored as the text they were, never parsed into a structured (and plain) value.
    if (secret !== true && /^\s*[[{]/.test(value)) {
      try {
        objectValue = JSON.parse(value);
      } catch {
        objectValue = undefined;
      }
    }
    doc[key] = {
      value,
      secret: secret === true,
      ...(objectValue !== undefined ? { objectValue } : {}),
    };
  }
  return JSON.stringify(doc);
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
