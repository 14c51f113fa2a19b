/**
 * Bounds for the shell commands the program runs (kubectl, pre-apply scripts), so an unreachable cluster or a stuck
 * tool fails the step instead of holding the stack's lock forever. Pure: builds shell text.
 */
import { shellQuote } from "./shell";

/** Default bound of one kubectl call, in seconds (`nova-rollout:kubectlTimeoutSeconds`). */
export const DEFAULT_KUBECTL_TIMEOUT_SECONDS = 120;

/**
 * Default bound of each database step (the logical dump, the rehearsal's restore and migration), in seconds
 * (`nova-rollout:databaseTimeoutSeconds`): six hours, far above a healthy dump, below a lock held overnight.
 */
export const DEFAULT_DATABASE_TIMEOUT_SECONDS = 21_600;

/**
 * The interpreter of a script bounded by coreutils `timeout`: TERM to the script's whole process group after
 * `seconds`, KILL {@link KILL_GRACE_SECONDS} later; the step then fails with exit 124 (or 137).
 */
export function boundedInterpreter(seconds: number, interpreter: readonly string[]): string[] {
  timeoutSeconds(seconds);
  return ["timeout", `--kill-after=${KILL_GRACE_SECONDS}`, String(seconds), ...interpreter];
}

/** Seconds between the TERM a timeout sends and the KILL that follows when the command ignores it. */
export const KILL_GRACE_SECONDS = 10;

/** Exit codes of coreutils `timeout` when the bound fired: 124 (TERM worked), 137 (it needed the KILL). */
export const TIMED_OUT_EXIT_CODES = [124, 137] as const;

/**
 * A shell function `<name> SECONDS COMMAND [ARG]…` that runs the command under coreutils `timeout` (TERM after the
 * bound, KILL {@link KILL_GRACE_SECONDS} later), says on stderr when the bound fired, and returns the command's exit
 * code. Where `timeout` is missing it runs the command unbounded, so callers also pass the tool's own timeout
 * (`kubectl --request-timeout`).
 */
export function boundedRunner(name = "bounded"): string {
  return [
    `${name}() {`,
    '  secs="$1"; shift',
    "  rc=0",
    "  if command -v timeout >/dev/null 2>&1; then",
    `    timeout --kill-after=${KILL_GRACE_SECONDS} "$secs" "$@" || rc=$?`,
    "  else",
    '    "$@" || rc=$?',
    "  fi",
    `  if [ "$rc" -eq ${TIMED_OUT_EXIT_CODES[0]} ] || [ "$rc" -eq ${TIMED_OUT_EXIT_CODES[1]} ]; then`,
    '    echo "$1 did not finish within ${secs}s (timed out)" >&2',
    "  fi",
    '  return "$rc"',
    "}",
  ].join("\n");
}

/** `seconds` checked as a whole number of seconds ≥ 1 (a bound that is not one is a programming error). */
export function timeoutSeconds(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new Error(`a command timeout must be a whole number of seconds ≥ 1 (got ${seconds})`);
  }
  return shellQuote(String(seconds));
}
