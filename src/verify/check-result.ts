/**
 * One post-deploy check's result as the probe prints it (its last stdout line, JSON), and its reader: shared by the
 * PostDeployVerification component and the CLI's progress lines, without the Pulumi SDK (the CLI reads results while
 * the engine runs and need not load it).
 */
import type { KeptFile } from "./kept-files";

/** The result of one check, parsed from the probe's JSON line. */
export interface CheckResult {
  readonly check: string;
  readonly ok: boolean;
  readonly attempts: number;
  readonly elapsedMs: number;
  readonly detail: string;
  /** An exec check's output, redacted (its tail when long). */
  readonly output?: string;
  /** Files an exec check's command left, as copied into the verification's kept-files directory. */
  readonly kept?: readonly KeptFile[];
}

/** Reads the probe's last stdout line; a missing or malformed line is a failed check, never a pass. */
export function parseCheckResult(check: string, stdout: string): CheckResult {
  const last = stdout.trim().split("\n").pop() ?? "";
  try {
    const parsed = JSON.parse(last) as Partial<CheckResult>;
    if (typeof parsed.ok === "boolean" && typeof parsed.check === "string") {
      return {
        check: parsed.check,
        ok: parsed.ok,
        attempts: Number(parsed.attempts ?? 0),
        elapsedMs: Number(parsed.elapsedMs ?? 0),
        detail: String(parsed.detail ?? ""),
        ...(typeof parsed.output === "string" ? { output: parsed.output } : {}),
        ...(Array.isArray(parsed.kept) ? { kept: parsed.kept } : {}),
      };
    }
  } catch {
    // fall through
  }
  return { check, ok: false, attempts: 0, elapsedMs: 0, detail: "the probe printed no result" };
}

/** One attempt of a check: resolves to a detail string on success, throws (with a reason) on failure. */
export type Attempt = (signal: AbortSignal) => Promise<string>;
