import { COMMAND_ENV_ALLOWLIST } from "../src/verify/probe";
import { shellQuote } from "../src/util/shell";

export { COMMAND_ENV_ALLOWLIST };

/**
 * Shell scripts of the database safeguards. Credentials never appear in them: the commands read `DATABASE_URL`,
 * `LIVE_DATABASE_URL` and `REHEARSAL_DATABASE_URL` from their (secret) environment. Every script runs under bash
 * ({@link SCRIPT_INTERPRETER}) with `set -euo pipefail`, so a failing command anywhere in a pipeline fails the step.
 */

/** The interpreter of the generated scripts (the command resources' `interpreter` input): bash, for `pipefail`. */
export const SCRIPT_INTERPRETER: readonly string[] = ["/bin/bash", "-c"];

/** The first line of every generated script. */
export const STRICT_MODE = "set -euo pipefail";

/** Exit code of the rehearsal script when the rehearsal database is the live one. */
export const SAME_DATABASE_EXIT_CODE = 3;

/** The dump file's location for a release: `<destination>/<stack>-<release>-<id>.dump`. */
export function dumpLocation(destination: string, stack: string, release: string, id: string): string {
  return `${destination.replace(/\/+$/, "")}/${stack}-${release}-${id}.dump`;
}

/** The name a dump is written under until it is verified; only a verified dump is moved to its final name. */
export function partialLocation(location: string): string {
  return `${location}.partial`;
}

const isGcs = (location: string) => location.startsWith("gs://");

const requireEnv = (name: string) => `test -n "\${${name}:-}" || { echo "${name} is not set" >&2; exit 2; }`;

/**
 * Logical dump (pg_dump custom format) to a local directory or a `gs://` object. The dump is written under a temporary
 * name ({@link partialLocation}), checked with `pg_restore --list` (a readable archive with its table of contents),
 * and only then moved to its final name; on any failure the temporary object is removed and the step fails, so a
 * failed or truncated dump never sits under the final name. For `gs://`, `pipefail` makes a failing `pg_dump` fail
 * the pipeline into `gcloud storage cp`.
 */
export function dumpScript(location: string): string {
  const q = shellQuote(location);
  const partial = shellQuote(partialLocation(location));
  const lines = [STRICT_MODE, requireEnv("DATABASE_URL")];
  if (isGcs(location)) {
    lines.push(
      `trap ${shellQuote(`gcloud storage rm --quiet ${partial} >/dev/null 2>&1 || true`)} EXIT`,
      `pg_dump --format=custom --no-owner --dbname="$DATABASE_URL" | gcloud storage cp - ${partial}`,
      // pg_restore --list stops after the table of contents; the rest is drained so gcloud never dies of SIGPIPE.
      `gcloud storage cat ${partial} | { pg_restore --list >/dev/null && cat >/dev/null; }`,
      `gcloud storage mv ${partial} ${q}`,
    );
  } else {
    lines.push(
      `mkdir -p "$(dirname ${q})"`,
      `trap ${shellQuote(`rm -f ${partial}`)} EXIT`,
      `rm -f ${partial}`,
      `pg_dump --format=custom --no-owner --dbname="$DATABASE_URL" --file=${partial}`,
      `pg_restore --list ${partial} >/dev/null`,
      `mv ${partial} ${q}`,
    );
  }
  lines.push("trap - EXIT", `echo "logical dump written to ${location.replace(/["$`\\]/g, "")}"`);
  return lines.join("\n");
}

/**
 * The identity of the database a connection reaches: database name and the cluster's system identifier. Two
 * connections with the same identity reach the same database (or a physical copy of its cluster).
 */
const IDENTITY_SQL = "SELECT current_database(), system_identifier FROM pg_control_system()";

/**
 * The allow-listed environment for a user command: `env -i` with {@link COMMAND_ENV_ALLOWLIST} (defaults for unset
 * ones). Values come from the script's own environment; nothing secret is on the command line.
 */
function isolatedEnv(): string {
  const defaults: Readonly<Record<string, string>> = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: "/",
    LANG: "C.UTF-8",
    TMPDIR: "/tmp",
  };
  return [
    "env -i",
    ...COMMAND_ENV_ALLOWLIST.map((name) => `${name}="\${${name}:-${defaults[name] ?? ""}}"`),
  ].join(" ");
}

/**
 * Migration rehearsal: refuse when the rehearsal database is the live one, restore the dump into the rehearsal
 * database (a clone), run the migration against it, and report.
 *
 * 1. Both `LIVE_DATABASE_URL` and `REHEARSAL_DATABASE_URL` are asked for `current_database()` and
 *    `pg_control_system().system_identifier`; equal answers stop the step (exit {@link SAME_DATABASE_EXIT_CODE})
 *    before `pg_restore --clean` runs. A physical copy of the live cluster has the same system identifier, so a clone
 *    made that way must hold the rehearsal database under another name.
 * 2. `LIVE_DATABASE_URL` is unset; the dump is restored with `--clean`.
 * 3. The migration runs under `env -i` with {@link COMMAND_ENV_ALLOWLIST} and `DATABASE_URL` = the clone (read from
 *    stdin, so no URL is on any command line); it sees nothing else of the deploying process.
 */
export function rehearsalScript(location: string, migrationCommand: string): string {
  const q = shellQuote(location);
  const restore =
    'pg_restore --clean --if-exists --no-owner --exit-on-error --dbname="$REHEARSAL_DATABASE_URL"';
  const identity = (variable: string) =>
    `"$(psql -X -q -A -t -v ON_ERROR_STOP=1 --dbname="$${variable}" -c ${shellQuote(IDENTITY_SQL)})"`;
  const migration = [
    STRICT_MODE,
    "IFS= read -r DATABASE_URL",
    "export DATABASE_URL",
    "exec </dev/null",
    migrationCommand,
  ].join("\n");
  return [
    STRICT_MODE,
    requireEnv("REHEARSAL_DATABASE_URL"),
    requireEnv("LIVE_DATABASE_URL"),
    `live_identity=${identity("LIVE_DATABASE_URL")}`,
    `rehearsal_identity=${identity("REHEARSAL_DATABASE_URL")}`,
    'if [ -z "$live_identity" ] || [ "$live_identity" = "$rehearsal_identity" ]; then',
    '  echo "refusing the migration rehearsal: nova-rollout:rehearsalDatabaseUrl reaches the live database' +
      " (database and system identifier ${live_identity:-unknown} on both connections); pg_restore --clean would" +
      ' wipe it. Point nova-rollout:rehearsalDatabaseUrl at a scratch database." >&2',
    `  exit ${SAME_DATABASE_EXIT_CODE}`,
    "fi",
    "unset LIVE_DATABASE_URL",
    isGcs(location) ? `gcloud storage cat ${q} | ${restore}` : `${restore} ${q}`,
    `printf '%s\\n' "$REHEARSAL_DATABASE_URL" | ${isolatedEnv()} /bin/bash -c ${shellQuote(migration)}`,
    'echo "migration rehearsal passed on the clone"',
  ].join("\n");
}
