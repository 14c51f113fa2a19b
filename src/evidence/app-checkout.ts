/**
 * The Nova RMS checkout the readiness checks read (`nova-rollout:appDir`): where it is, the playbook's check commands
 * run in it, and the content-addressed copies of the artifacts a bundle judged.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { type CheckId, type CheckResult, sha256 } from "./model";
import { toProjectRelative } from "./paths";
import { writeFileAtomic } from "../util/atomic-file";
import { PLAYBOOK_COMMANDS } from "../contract";

/** The checks whose artifacts come from the app checkout, and so may have a check command of their own. */
export const APP_CHECK_IDS = ["coverage", "e2e-smoke", "billing-drill", "sample-data"] as const;
export type AppCheckId = (typeof APP_CHECK_IDS)[number] & CheckId;

/** The check commands a preflight runs in the app checkout by default (`nova-rollout:readinessCommands`). */
export const DEFAULT_READINESS_COMMANDS: Readonly<Partial<Record<AppCheckId, string>>> = {
  "billing-drill": PLAYBOOK_COMMANDS.drillCheck,
};

/** What one check command did. */
export interface CommandOutcome {
  readonly command: string;
  /** Exit status; null when the command could not start or was killed. */
  readonly exitCode: number | null;
  /** Why it did not finish (not found, timed out, signal), when it did not. */
  readonly error?: string;
  /** stdout and stderr, redacted. */
  readonly output: string;
  readonly durationMs: number;
}

/** Runs one command line in a directory. */
export type CommandRunner = (command: string, cwd: string) => CommandOutcome;

/** Names of environment variables whose values never appear in kept output. */
const SECRET_NAME =
  /(secret|token|password|passwd|pass|key|credential|auth|dsn|database_url|cookie|session)/i;

/**
 * Removes secrets from command output: values of secret-looking environment variables (`env`), `NAME=value` /
 * `NAME: value` pairs with secret-looking names, the password of `scheme://user:password@host` URLs and
 * `Bearer`/`Basic` credentials.
 */
export function redact(text: string, env: NodeJS.ProcessEnv = {}): string {
  let out = text;
  const values = Object.entries(env)
    .filter(([k, v]) => SECRET_NAME.test(k) && v !== undefined && v.length >= 6)
    .map(([, v]) => v as string)
    .sort((a, b) => b.length - a.length);
  for (const v of values) {
    out = out.split(v).join("[redacted]");
  }
  return out
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi, "$1:[redacted]@")
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g, "$1 [redacted]")
    .replace(
      /\b([A-Za-z_][A-Za-z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIALS?|DSN|DATABASE_URL)[A-Za-z0-9_]*)(\s*[=:]\s*)(?!\[redacted\])\S+/gi,
      "$1$2[redacted]",
    );
}

/** Longest kept output (the end is kept: that is where tools say why they failed). */
const MAX_OUTPUT = 64 * 1024;

/** What the rollout holds for itself and never hands to the app's commands (state passphrase, keys, registry token). */
const WITHHELD_ENV =
  /^(?:PULUMI_CONFIG_PASSPHRASE(?:_FILE)?|PULUMI_ACCESS_TOKEN|NOVA_SIGNING_KEY_FILE|NOVA_SSH_KEY_FILE|NOVA_REGISTRY_AUTHORIZATION)$/;

/**
 * Runs a command line without a shell: split on whitespace (no quoting), the first word looked up on `PATH`. The
 * command gets the caller's environment without what the rollout holds for itself ({@link WITHHELD_ENV}); its output
 * is redacted with the whole environment. A command that cannot start (`pnpm` not installed) or runs longer than
 * `timeoutMs` has exit code null and says why.
 */
export function spawnCommand(timeoutMs = 15 * 60_000, env: NodeJS.ProcessEnv = process.env): CommandRunner {
  const childEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !WITHHELD_ENV.test(k)));
  return (command, cwd) => {
    const [file = "", ...args] = command.trim().split(/\s+/);
    const started = Date.now();
    const r = spawnSync(file, args, {
      cwd,
      env: childEnv,
      encoding: "utf8",
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const durationMs = Date.now() - started;
    const raw = `${r.stdout ?? ""}${r.stderr ?? ""}`;
    const output = redact(raw.length > MAX_OUTPUT ? raw.slice(-MAX_OUTPUT) : raw, env);
    let error: string | undefined;
    if (r.error !== undefined) {
      const code = (r.error as NodeJS.ErrnoException).code;
      error =
        code === "ENOENT"
          ? `${file} is not installed (not on PATH)${file === "pnpm" ? "; install pnpm (corepack enable pnpm) or set nova-rollout:readinessCommands to npm run … commands" : ""}`
          : code === "ETIMEDOUT"
            ? `timed out after ${Math.round(timeoutMs / 1000)} s`
            : redact(r.error.message, env);
    } else if (r.signal !== null) {
      error = `killed by ${r.signal}`;
    }
    return {
      command,
      exitCode: r.status,
      ...(error === undefined ? {} : { error }),
      output,
      durationMs,
    };
  };
}

/** Where a bundle keeps its copies: `<evidenceDir>/<stack>/artifacts/`. */
export function artifactCopiesDir(evidenceDirAbs: string, stack: string): string {
  return path.join(evidenceDirAbs, stack, "artifacts");
}

/**
 * Keeps a content-addressed copy of `bytes` as `<evidenceDir>/<stack>/artifacts/<sha256>-<name>` (written once; the
 * name says what it holds) and returns its path relative to the project directory, as bundles record it.
 */
export function keepArtifactCopy(
  projectDir: string,
  evidenceDirAbs: string,
  stack: string,
  name: string,
  bytes: Buffer,
): string {
  const safe = path.basename(name).replace(/[^A-Za-z0-9._-]/g, "_") || "artifact";
  const file = path.join(artifactCopiesDir(evidenceDirAbs, stack), `${sha256(bytes)}-${safe}`);
  let same = false;
  try {
    same = sha256(fs.readFileSync(file)) === sha256(bytes);
  } catch {
    same = false;
  }
  if (!same) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, bytes);
  }
  return toProjectRelative(projectDir, file);
}

/** One line for a check's `found`: what the command did and where its output is kept. */
export function describeOutcome(o: CommandOutcome, outputPath: string | undefined): string {
  const status = o.error !== undefined ? `did not finish: ${o.error}` : `exited ${o.exitCode ?? "?"}`;
  const kept = outputPath === undefined ? "" : `, output ${outputPath}`;
  return `ran \`${o.command}\` in the app checkout: ${status} (${(o.durationMs / 1000).toFixed(1)} s${kept})`;
}

/**
 * A check judged also by its command: a command that did not exit 0 fails the check, and the fix names it; the
 * outcome is named in `found` either way.
 */
export function judgeWithCommand(
  check: CheckResult,
  outcome: CommandOutcome,
  outputPath: string | undefined,
  preflight: string,
): CheckResult {
  const line = describeOutcome(outcome, outputPath);
  const ok = outcome.error === undefined && outcome.exitCode === 0;
  if (ok) {
    return { ...check, found: `${check.found}; ${line}` };
  }
  const tail = outcome.output
    .trim()
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "")
    .at(-1);
  return {
    ...check,
    verdict: "fail",
    found: `${line}${tail === undefined ? "" : `, last line "${tail.trim()}"`}; ${check.found}`,
    threshold: `\`${outcome.command}\` exits 0; ${check.threshold}`,
    remedy: `fix what \`${outcome.command}\` reports (run it in the Nova RMS checkout until it exits 0), then ${preflight}; ${check.remedy}`,
  };
}
