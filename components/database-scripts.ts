import { shellQuote } from "./naming";

/**
 * Shell scripts of the database safeguards. Credentials never appear in them: the commands read `DATABASE_URL`
 * and `REHEARSAL_DATABASE_URL` from their (secret) environment.
 */

/** The dump file's location for a release: `<destination>/<stack>-<release>-<id>.dump`. */
export function dumpLocation(destination: string, stack: string, release: string, id: string): string {
  return `${destination.replace(/\/+$/, "")}/${stack}-${release}-${id}.dump`;
}

const isGcs = (location: string) => location.startsWith("gs://");

/** Logical dump (pg_dump custom format) to a local directory or a `gs://` object. */
export function dumpScript(location: string): string {
  const q = shellQuote(location);
  const lines = ["set -eu", 'test -n "${DATABASE_URL:-}" || { echo "DATABASE_URL is not set" >&2; exit 2; }'];
  if (isGcs(location)) {
    lines.push(`pg_dump --format=custom --no-owner --dbname="$DATABASE_URL" | gcloud storage cp - ${q}`);
  } else {
    lines.push(
      `mkdir -p "$(dirname ${q})"`,
      `pg_dump --format=custom --no-owner --dbname="$DATABASE_URL" --file=${q}.partial`,
      // Only a complete dump gets the final name: a crash leaves a .partial file, never a truncated dump.
      `mv ${q}.partial ${q}`,
    );
  }
  lines.push(`echo "logical dump written to ${location.replace(/"/g, "")}"`);
  return lines.join("\n");
}

/**
 * Migration rehearsal: restore the dump into the rehearsal database (a clone), run the migration against it with
 * `DATABASE_URL` pointing at the clone, and report. Production is never touched by this step.
 */
export function rehearsalScript(location: string, migrationCommand: string): string {
  const q = shellQuote(location);
  const restore =
    'pg_restore --clean --if-exists --no-owner --exit-on-error --dbname="$REHEARSAL_DATABASE_URL"';
  return [
    "set -eu",
    'test -n "${REHEARSAL_DATABASE_URL:-}" || { echo "REHEARSAL_DATABASE_URL is not set" >&2; exit 2; }',
    isGcs(location) ? `gcloud storage cat ${q} | ${restore}` : `${restore} ${q}`,
    'DATABASE_URL="$REHEARSAL_DATABASE_URL"; export DATABASE_URL',
    migrationCommand,
    'echo "migration rehearsal passed on the clone"',
  ].join("\n");
}
