/**
 * The rollout CLI's failures: the exit code table (one place; `--help` and the README are generated from it), the
 * error a user's mistake raises, and the mapping of any error to an exit code and a message a person can act on.
 */
import type { ConcurrentUpdateError } from "@pulumi/pulumi/automation";
import { ConfigValidationError } from "../src/config";

/**
 * One exit code: its number, its name in {@link EXIT}, what it means, and how it relates to the Pulumi CLI's own
 * codes (https://www.pulumi.com/docs/iac/cli/exit-codes/, Pulumi v3.226.1 and later).
 */
export interface ExitCodeEntry {
  readonly code: number;
  readonly name: string;
  readonly meaning: string;
  /** `same` when Pulumi gives the number the same meaning; otherwise what Pulumi means by it. */
  readonly pulumi: string;
}

/**
 * The exit codes of the rollout CLI. 0, 1, 2 and 5 mean what they mean for the Pulumi CLI; 3, 4 and 6–9 are this
 * CLI's own (they predate Pulumi's table and pipelines rely on them), so a script that runs both must not read a
 * rollout code as a Pulumi one.
 */
export const EXIT_CODES = [
  { code: 0, name: "ok", meaning: "success", pulumi: "same" },
  { code: 1, name: "failed", meaning: "failed (any failure without a code of its own)", pulumi: "same" },
  {
    code: 2,
    name: "usage",
    meaning: "usage or configuration mistake (flags, stack config, backend or passphrase settings)",
    pulumi: "same",
  },
  {
    code: 3,
    name: "stackNotFound",
    meaning: "stack not found",
    pulumi: "authentication or authorization error (Pulumi's stack-not-found is 6)",
  },
  {
    code: 4,
    name: "concurrentUpdate",
    meaning: "stack locked by another update (see `rollout recover`)",
    pulumi: "resource or deployment error",
  },
  {
    code: 5,
    name: "policyViolation",
    meaning: "blocked by mandatory policy violations; nothing changed",
    pulumi: "same",
  },
  {
    code: 6,
    name: "verificationFailed",
    meaning: "post-deploy verification failed (`up` rolled back unless `--no-auto-rollback`)",
    pulumi: "stack not found",
  },
  {
    code: 7,
    name: "notReady",
    meaning: "not ready (`preflight`)",
    pulumi: "no changes expected, changes found",
  },
  {
    code: 8,
    name: "rollbackFailed",
    meaning:
      "a rollback (automatic or manual) failed: the stack is between releases; see the printed emergency steps",
    pulumi: "canceled run",
  },
  {
    code: 9,
    name: "drifted",
    meaning: "`drift`: the cluster no longer matches the last release",
    pulumi: "not in Pulumi's table",
  },
] as const satisfies readonly ExitCodeEntry[];

type ExitName = (typeof EXIT_CODES)[number]["name"];

/** Exit codes by name (`EXIT.rollbackFailed` is 8), distinct per failure class so pipelines can react. */
export const EXIT = Object.fromEntries(EXIT_CODES.map((e) => [e.name, e.code])) as {
  readonly [N in ExitName]: Extract<(typeof EXIT_CODES)[number], { name: N }>["code"];
};

/** The sentence that says whose codes these are (in `--help` and above the README's table). */
export const EXIT_CODES_NOTE =
  "Exit codes 0, 1, 2 and 5 mean what they mean for the Pulumi CLI; 3, 4 and 6-9 are this CLI's own, so do not read them as Pulumi's.";

/** The exit code table as Markdown (the README's table is this text; a unit test keeps them equal). */
export function exitCodesMarkdown(): string {
  return [
    EXIT_CODES_NOTE,
    "",
    "| code | name | meaning | [Pulumi CLI](https://www.pulumi.com/docs/iac/cli/exit-codes/)'s meaning of the number |",
    "|---:|---|---|---|",
    ...EXIT_CODES.map(
      (e) => `| ${e.code} | \`${e.name}\` | ${e.meaning} | ${e.pulumi === "same" ? "same" : e.pulumi} |`,
    ),
  ].join("\n");
}

/** The exit code table for `rollout --help`. */
export function exitCodesHelp(): string {
  return [
    "",
    "Exit codes:",
    ...EXIT_CODES.map((e) => `  ${String(e.code).padStart(2)}  ${e.meaning.replace(/`/g, "")}`),
    EXIT_CODES_NOTE,
  ].join("\n");
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

/** Whether an error is the engine saying the stack is locked by another update (Automation API or a direct run). */
export function isConcurrentUpdateError(err: unknown): err is ConcurrentUpdateError | EngineRunError {
  if (err instanceof EngineRunError) return err.locked;
  return isAutomationError(err, "ConcurrentUpdateError");
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
  const message = engineErrors(text) ?? lastLines(text, 15);
  // A file backend's metadata left half-written by a killed engine: every read of the state fails until it is set aside.
  if (/failed to load checkpoint: (EOF|unexpected end of JSON input)/.test(text)) {
    return {
      code: EXIT.failed,
      message: `${message}\nThe state backend holds a file an interrupted update left half-written: \`rollout recover --stack <stack>\` sets it aside.`,
    };
  }
  return { code: EXIT.failed, message };
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
