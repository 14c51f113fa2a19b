/**
 * What the probes print about secrets and errors: the redaction of secret values (every probe, the restore's
 * commands) and an error's text with its cause. A leaf module, so every probe kind can use it.
 */
import { passwordForms } from "../util/pg-connection";

/** Lines of a multi-line secret shorter than this are not redacted on their own (they would blank common text). */
export const MIN_REDACTED_FRAGMENT = 4;

/** The marker that replaces a secret value. */
export const REDACTED = "[secret]";

/**
 * A function that replaces every secret value in a text with {@link REDACTED}: each whole value as a substring
 * (longest first), the password of a value that is a PostgreSQL connection string alone (as written, decoded and
 * percent-encoded; see `passwordForms`), then each line of a multi-line value that has at least
 * {@link MIN_REDACTED_FRAGMENT} characters, so output that is split into lines (streamed, or cut to a tail) never
 * shows a line of a multi-line secret either.
 *
 * @param secrets the secret values; empty ones are ignored
 */
export function redactor(secrets: readonly string[]): (text: string) => string {
  // A connection string's password alone, decoded and percent-encoded (libpq prints parts of a malformed URL).
  const passwords = secrets.flatMap(passwordForms).filter((p) => p.length >= MIN_REDACTED_FRAGMENT);
  const whole = [...new Set([...secrets, ...passwords].filter((v) => v !== ""))];
  const fragments = whole
    .filter((v) => /[\r\n]/.test(v))
    .flatMap((v) => v.split(/\r?\n|\r/))
    .filter((line) => line.length >= MIN_REDACTED_FRAGMENT);
  const needles = [...new Set([...whole, ...fragments])].sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (text) => text;
  return (text) => needles.reduce((out, needle) => out.split(needle).join(REDACTED), text);
}

/** An error's message, with its cause's when it has one (fetch's "fetch failed (connect ECONNREFUSED …)"). */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
