/**
 * What the engine asked of this program run, read from the arguments the language host started it with. The
 * language host builds those arguments from the engine's run request (`--monitor <address>`, `--dry-run` only for a
 * preview, …, then the program's entry point), so they say what the engine is doing. The SDK's own "is this a
 * preview" flag also trusts `PULUMI_NODEJS_DRY_RUN`, which a caller's environment can set: a guard that must not be
 * switched off from outside asks this instead.
 */

/** Language-host flags that take a value (`--name value` or `--name=value`). */
const VALUE_FLAGS = new Set([
  "monitor",
  "engine",
  "organization",
  "project",
  "root-directory",
  "stack",
  "pwd",
  "parallel",
  "tracing",
  "sync",
]);

/** The run the engine asked for; undefined when the process was not started by a language host (unit-test mocks). */
export interface EngineRun {
  /** The engine asked for a preview (`pulumi preview`, or the preview phase of `pulumi up`). */
  readonly preview: boolean;
}

/**
 * Reads the language host's flags from `argv` (`process.argv`: node, the SDK's run script, flags, entry point, program
 * arguments). Only the flags before the entry point count; a run without `--monitor` was not started by an engine.
 */
export function engineRunFromArgv(argv: readonly string[]): EngineRun | undefined {
  let monitor = false;
  let preview = false;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) break; // the entry point: what follows belongs to the program
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const value = eq < 0 ? undefined : arg.slice(eq + 1);
    if (name === "dry-run") {
      preview = value === undefined || value === "true";
    } else if (VALUE_FLAGS.has(name)) {
      if (name === "monitor") monitor = true;
      if (value === undefined) i++;
    }
  }
  return monitor ? { preview } : undefined;
}

/**
 * The problem when the SDK's dry-run state disagrees with the engine's request, or undefined when they agree. They
 * disagree only when something outside the engine set `PULUMI_NODEJS_DRY_RUN` for the program.
 */
export function dryRunMismatch(run: EngineRun | undefined, sdkDryRun: boolean): string | undefined {
  if (run === undefined || run.preview === sdkDryRun) return undefined;
  return run.preview
    ? "The engine runs a preview, but the program's environment says it is an update (PULUMI_NODEJS_DRY_RUN). Unset PULUMI_NODEJS_DRY_RUN and run the command again."
    : "The engine runs an update, but the program's environment says it is a preview (PULUMI_NODEJS_DRY_RUN=true, inherited from the caller). Nothing was changed. Unset PULUMI_NODEJS_DRY_RUN and run the command again.";
}
