/**
 * The flags the rollout commands share, declared once (kubectl's shared-flags idea), and the one resolver of the
 * project directory and a stack's evidence directory that every command uses.
 */
import { Command, InvalidArgumentError } from "commander";
import { evidenceDirOf, findProjectDir, resolveProjectDir as projectDirFrom } from "../src/config/project";
import { resolveStackSettings } from "../src/evidence";
import { UserError } from "./errors";

/** The option every command that acts on a stack takes, spelled the same everywhere. */
export const STACK_OPTION = ["-s, --stack <name>", "stack to act on (e.g. production)"] as const;

/** The project directory option (default: the nearest nova-rollout Pulumi.yaml above the working directory). */
export const PROJECT_DIR_OPTION = [
  "--project-dir <dir>",
  "project directory (default: the nearest Pulumi.yaml named nova-rollout)",
] as const;

/** The evidence directory option of the commands that read or write records and bundles. */
export const EVIDENCE_DIR_OPTION = [
  "--evidence-dir <dir>",
  "evidence directory relative to the project (default: nova-rollout:evidenceDir)",
] as const;

/** The option of every command that signs a record. */
export const SSH_KEY_OPTION = [
  "--ssh-key <file>",
  "SSH key (private key file, or public key file with the private key in ssh-agent) to sign the record with; default NOVA_SSH_KEY_FILE",
] as const;

/** What the shared options parse to. */
export interface SharedOptions {
  readonly stack: string;
  readonly projectDir?: string;
  readonly evidenceDir?: string;
}

/**
 * A command acting on one stack, with the shared options: `-s/--stack` (required) and `--project-dir`, plus
 * `--evidence-dir` when the command reads or writes evidence itself (the engine commands take the stack's own).
 */
export function stackCommand(name: string, o: { readonly evidenceDir?: boolean } = {}): Command {
  const command = new Command(name).requiredOption(...STACK_OPTION).option(...PROJECT_DIR_OPTION);
  return o.evidenceDir === true ? command.option(...EVIDENCE_DIR_OPTION) : command;
}

/**
 * The project directory: `--project-dir` when given, else the nearest nova-rollout Pulumi.yaml above the working
 * directory, else the checkout the CLI runs from (compiled or from source).
 */
export function resolveProjectDir(option?: string): string {
  const starts = [process.cwd(), __dirname];
  if (option === undefined && findProjectDir(starts) === undefined) {
    throw new UserError(
      "Cannot find the nova-rollout Pulumi.yaml; run from the repository or pass --project-dir.",
    );
  }
  return projectDirFrom(option, starts);
}

/** The repository root the CLI runs in ({@link resolveProjectDir} without an option). */
export function projectRoot(): string {
  return resolveProjectDir();
}

/**
 * A stack's evidence directory, absolute: the option, else the configured value (`nova-rollout:evidenceDir`), else
 * the default; relative to the stack's app checkout when it has one (`appDir`), else to the project.
 */
export function resolveEvidenceDir(
  projectDir: string,
  option?: string,
  configured?: string,
  appDir?: string,
): string {
  return evidenceDirOf({ projectDir, appDir }, option, configured);
}

/** The evidence directory a stack file configures (flag first), for commands that do not open the stack. */
export function evidenceDirFor(stack: string, projectDir: string, option?: string): string {
  const s = resolveStackSettings({ stack, projectDir, env: {} });
  return resolveEvidenceDir(
    projectDir,
    option,
    s.ok ? s.settings.evidenceDir : undefined,
    s.ok ? s.settings.appDir : undefined,
  );
}

/** A commander parser for a whole number ≥ 1. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number ≥ 1");
  return n;
}

/** `90s`, `45m`, `2h`, `1h30m`, `1d` → milliseconds (commander argument parser). */
export function parseDuration(value: string): number {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value.trim());
  if (m === null || value.trim() === "") {
    throw new InvalidArgumentError("expected a duration such as 90s, 45m, 2h or 1h30m");
  }
  const [d, h, min, s] = [m[1], m[2], m[3], m[4]].map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
  ];
  const ms = (((d * 24 + h) * 60 + min) * 60 + s) * 1000;
  if (ms <= 0) throw new InvalidArgumentError("expected a duration above zero");
  return ms;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
}

/** The default age from which a lock without evidence of its holder may be cancelled after confirmation. */
export const DEFAULT_STALE_LOCK_AGE = "3h";

/** The option of the commands that recover an abandoned lock (`up`, `recover`). */
export const LOCK_AGE_OPTION = [
  "--lock-stale-after <duration>",
  "a lock this old whose holder cannot be checked (another host or PID namespace) may be cancelled once you confirm it; never by age alone",
  parseDuration,
  parseDuration(DEFAULT_STALE_LOCK_AGE),
] as const;

/** `runner-7:4242` → itself, checked (commander argument parser, repeatable). */
export function collectHolderId(value: string, previous: readonly string[] = []): string[] {
  if (!/^[^\s:]+:\d+$/.test(value.trim())) {
    throw new InvalidArgumentError(
      "expected the lock holder as <host>:<pid>, as the locked-stack message names it",
    );
  }
  return [...previous, value.trim()];
}

/** The option that cancels a lock whose holder cannot be checked, naming it (`up`, `recover`). */
export const FORCE_UNLOCK_OPTION = [
  "--force-unlock <host:pid>",
  "cancel the lock of this holder although nothing shows it is gone (you checked it yourself); repeatable",
  collectHolderId,
  [] as string[],
] as const;
