import { shellQuote } from "./naming";

/** How a probe is bounded: attempts with exponential backoff, and a timeout per attempt. */
export interface ProbeBudget {
  /** Attempts before the check fails (≥ 1). */
  readonly attempts: number;
  /** Seconds each attempt may take. */
  readonly timeoutSeconds: number;
  /** First backoff delay in milliseconds (doubles each retry). Default 2000. */
  readonly backoffMs?: number;
}

export type ProbeSpec =
  | { readonly kind: "http"; readonly url: string; readonly prometheus?: boolean }
  | { readonly kind: "alerts"; readonly url: string }
  | { readonly kind: "digest"; readonly url: string; readonly expect: string }
  | { readonly kind: "exec"; readonly command: string };

/**
 * The shell command that runs one probe with the project's probe script (`src/verify/probe.ts`, compiled).
 * Pure: the same inputs give the same command, so an unchanged release does not re-run its checks.
 */
export function probeCommand(
  probeScript: string,
  name: string,
  spec: ProbeSpec,
  budget: ProbeBudget,
): string {
  const parts = ["node", shellQuote(probeScript), spec.kind, "--name", shellQuote(name)];
  if (spec.kind !== "exec") parts.push("--url", shellQuote(spec.url));
  if (spec.kind === "http" && spec.prometheus === true) parts.push("--prometheus");
  if (spec.kind === "digest") parts.push("--expect", shellQuote(spec.expect));
  parts.push(
    "--attempts",
    String(budget.attempts),
    "--timeout",
    String(budget.timeoutSeconds),
    "--backoff-ms",
    String(budget.backoffMs ?? 2000),
  );
  if (spec.kind === "exec") parts.push("--", spec.command);
  return parts.join(" ");
}

/** Joins a base URL and a path without doubling or dropping the slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}
