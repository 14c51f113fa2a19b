import { COMMAND_ENV_ALLOWLIST } from "../src/verify/probe-command";
import { shellQuote } from "../src/util/shell";
import { splitConnection } from "../src/util/pg-connection";

export { COMMAND_ENV_ALLOWLIST };

/**
 * Shell scripts of the database safeguards. Credentials never appear in them, nor on any command line while they run:
 * the connection strings in `LIVE_PG_URL` / `REHEARSAL_PG_URL` carry no password (see {@link connectionEnv}); the
 * password reaches `pg_dump`, `pg_restore` and `psql` as `PGPASSWORD` in their environment only (`ps` shows argv, not
 * the environment, which only the same user and root can read). Every script runs under bash
 * ({@link SCRIPT_INTERPRETER}) with `set -euo pipefail`, so a failing command anywhere in a pipeline fails the step.
 */

/** The interpreter of the generated scripts (the command resources' `interpreter` input): bash, for `pipefail`. */
export const SCRIPT_INTERPRETER: readonly string[] = ["/bin/bash", "-c"];

/** The first line of every generated script. */
export const STRICT_MODE = "set -euo pipefail";

/** Exit code of the rehearsal script when the rehearsal database is the live one. */
export const SAME_DATABASE_EXIT_CODE = 3;

/** Exit code of the dump script when an object already holds the dump's name (a dump is never overwritten). */
export const DUMP_EXISTS_EXIT_CODE = 4;

/** Exit status of a restore over the live database whose target turned out not to be the live one (nothing written). */
export const NOT_LIVE_EXIT_CODE = 5;

/**
 * The environment a script needs for one connection, under `<role>_PG_URL` (the connection string without its
 * password) and `<role>_PGPASSWORD` (the password, only when the string names one). Pure.
 *
 * @param role LIVE (the production database) or REHEARSAL (the clone)
 * @param url the connection string (`postgres://…` or libpq `key=value`)
 */
export function connectionEnv(role: "LIVE" | "REHEARSAL", url: string): Record<string, string> {
  const { connection, password } = splitConnection(url);
  return {
    [`${role}_PG_URL`]: connection,
    ...(password !== undefined ? { [`${role}_PGPASSWORD`]: password } : {}),
  };
}

/**
 * The name prefix of a release's dumps: `<destination>/<stack>-<release>-<id>`. The dump script appends the UTC time
 * it starts (`-20261203T150405Z.dump`), so every dump has a name of its own, a re-release of the same images included.
 */
export function dumpPrefix(destination: string, stack: string, release: string, id: string): string {
  return `${destination.replace(/\/+$/, "")}/${stack}-${release}-${id}`;
}

/** The name a dump is written under until it is verified; only a verified dump is moved to its final name. */
export function partialLocation(location: string): string {
  return `${location}.partial`;
}

/** What the dump script prints on stdout, last, before the dump's location. */
export const DUMP_WRITTEN = "logical dump written to ";

/** The location the dump script reported on its stdout; undefined when it reported none (e.g. it never ran). */
export function dumpLocationFrom(stdout: string | undefined): string | undefined {
  const line = (stdout ?? "")
    .split("\n")
    .reverse()
    .find((l) => l.startsWith(DUMP_WRITTEN));
  return line?.slice(DUMP_WRITTEN.length).trim();
}

const isGcs = (location: string) => location.startsWith("gs://");

const requireEnv = (name: string) => `test -n "\${${name}:-}" || { echo "${name} is not set" >&2; exit 2; }`;

/**
 * `pg_as ROLE command…` runs a PostgreSQL client with `PGPASSWORD` set to `$<ROLE>_PGPASSWORD` in its environment
 * (when there is one). A shell function: the password never becomes an argument of any program.
 */
const PG_AS = [
  "pg_as() {",
  '  local pw="${1}_PGPASSWORD"',
  "  shift",
  '  if [ -n "${!pw:-}" ]; then PGPASSWORD="${!pw}" "$@"; else "$@"; fi',
  "}",
].join("\n");

/**
 * Logical dump (pg_dump custom format) of `LIVE_PG_URL` to a local directory or a `gs://` object named
 * `<prefix>-<UTC time>.dump`. The dump is written under a temporary name ({@link partialLocation}), checked with
 * `pg_restore --list` (a readable archive with its table of contents), and only then given its final name, never
 * over an existing object: a local file is linked to its name (`ln` fails when the name exists), a `gs://` object is
 * moved with `--no-clobber` and the move is checked (an object left under the temporary name means it was skipped).
 * Either way the step then fails with {@link DUMP_EXISTS_EXIT_CODE}. On any failure the temporary object is removed,
 * so a failed or truncated dump never sits under a final name. For `gs://`, `pipefail` makes a failing `pg_dump` fail
 * the pipeline into `gcloud storage cp`. The last line on stdout is {@link DUMP_WRITTEN} and the location.
 */
export function dumpScript(prefix: string): string {
  const lines = [
    STRICT_MODE,
    requireEnv("LIVE_PG_URL"),
    PG_AS,
    `location=${shellQuote(prefix)}-"$(date -u +%Y%m%dT%H%M%SZ)".dump`,
    'partial="${location}.partial"',
    'exists() { echo "refusing to replace the existing dump ${location}: a dump is never overwritten" >&2; exit ' +
      `${DUMP_EXISTS_EXIT_CODE}; }`,
  ];
  if (isGcs(prefix)) {
    lines.push(
      'if gcloud storage ls "$location" >/dev/null 2>&1; then exists; fi',
      `trap 'gcloud storage rm --quiet "$partial" >/dev/null 2>&1 || true' EXIT`,
      'pg_as LIVE pg_dump --format=custom --no-owner --dbname="$LIVE_PG_URL" | gcloud storage cp --no-clobber - "$partial"',
      // pg_restore --list stops after the table of contents; the rest is drained so gcloud never dies of SIGPIPE.
      'gcloud storage cat "$partial" | { pg_restore --list >/dev/null && cat >/dev/null; }',
      'gcloud storage mv --no-clobber "$partial" "$location"',
      // --no-clobber skips an existing destination without failing: the temporary object is then still there.
      'if gcloud storage ls "$partial" >/dev/null 2>&1; then exists; fi',
    );
  } else {
    lines.push(
      'mkdir -p "$(dirname "$location")"',
      `trap 'rm -f "$partial"' EXIT`,
      'if [ -e "$location" ]; then exists; fi',
      'rm -f "$partial"',
      'pg_as LIVE pg_dump --format=custom --no-owner --dbname="$LIVE_PG_URL" --file="$partial"',
      'pg_restore --list "$partial" >/dev/null',
      // A hard link never replaces an existing name (mv would).
      // Without hard links (some network filesystems), mv -n, checked: it leaves the temporary file when it skips.
      'if ln "$partial" "$location" 2>/dev/null; then rm -f "$partial"; else',
      '  if [ -e "$location" ]; then exists; fi',
      '  mv -n "$partial" "$location"',
      '  if [ -e "$partial" ]; then exists; fi',
      "fi",
    );
  }
  lines.push("trap - EXIT", `echo "${DUMP_WRITTEN}\${location}"`);
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
 * 1. Both connections (`LIVE_PG_URL`, `REHEARSAL_PG_URL`, passwords in `LIVE_PGPASSWORD` / `REHEARSAL_PGPASSWORD`)
 *    are asked for `current_database()` and `pg_control_system().system_identifier`; equal answers stop the step
 *    (exit {@link SAME_DATABASE_EXIT_CODE}) before `pg_restore --clean` runs. A physical copy of the live cluster has
 *    the same system identifier, so a clone made that way must hold the rehearsal database under another name.
 *    With `over` = `live` (`restore-db --over-live`, on an incident commander's decision) the check is reversed: the
 *    target must be the live database (exit {@link NOT_LIVE_EXIT_CODE} otherwise).
 * 2. The live connection's variables are unset; the dump is restored with `--clean`.
 * 3. The migration runs under `env -i` with {@link COMMAND_ENV_ALLOWLIST} and `DATABASE_URL` = the clone's full URL
 *    (`MIGRATION_DATABASE_URL`, read from stdin, so no URL is on any command line); it sees nothing else of the
 *    deploying process.
 */
export function rehearsalScript(
  location: string,
  migrationCommand: string,
  words: RestoreWords = REHEARSAL_WORDS,
  over: "other" | "live" = "other",
): string {
  const q = shellQuote(location);
  const restore =
    'pg_as REHEARSAL pg_restore --clean --if-exists --no-owner --exit-on-error --dbname="$REHEARSAL_PG_URL"';
  const identity = (role: "LIVE" | "REHEARSAL") =>
    `"$(pg_as ${role} psql -X -q -A -t -v ON_ERROR_STOP=1 --dbname="$${role}_PG_URL" -c ${shellQuote(IDENTITY_SQL)})"`;
  const migration = [
    STRICT_MODE,
    "IFS= read -r DATABASE_URL",
    "export DATABASE_URL",
    "exec </dev/null",
    migrationCommand,
  ].join("\n");
  return [
    STRICT_MODE,
    requireEnv("REHEARSAL_PG_URL"),
    requireEnv("LIVE_PG_URL"),
    requireEnv("MIGRATION_DATABASE_URL"),
    PG_AS,
    `live_identity=${identity("LIVE")}`,
    `rehearsal_identity=${identity("REHEARSAL")}`,
    ...(over === "other"
      ? [
          'if [ -z "$live_identity" ] || [ "$live_identity" = "$rehearsal_identity" ]; then',
          `  echo "refusing ${words.what}: ${words.target} reaches the live database` +
            " (database and system identifier ${live_identity:-unknown} on both connections); pg_restore --clean would" +
            ` wipe it. ${words.fix}" >&2`,
          `  exit ${SAME_DATABASE_EXIT_CODE}`,
          "fi",
        ]
      : [
          'if [ -z "$live_identity" ] || [ "$live_identity" != "$rehearsal_identity" ]; then',
          `  echo "refusing ${words.what}: ${words.target} is not the live database` +
            ' (${rehearsal_identity:-unknown}, the live one is ${live_identity:-unknown}); nothing was written." >&2',
          `  exit ${NOT_LIVE_EXIT_CODE}`,
          "fi",
        ]),
    "unset LIVE_PG_URL LIVE_PGPASSWORD",
    isGcs(location) ? `gcloud storage cat ${q} | ${restore}` : `${restore} ${q}`,
    `printf '%s\\n' "$MIGRATION_DATABASE_URL" | ${isolatedEnv()} /bin/bash -c ${shellQuote(migration)}`,
    `echo "${words.done}"`,
  ].join("\n");
}

/** How a restore script names what it does, in its refusal and its last line (no double quotes, no `$`). */
export interface RestoreWords {
  /** `the migration rehearsal` */
  readonly what: string;
  /** The setting that names the target, e.g. `nova-rollout:rehearsalDatabaseUrl`. */
  readonly target: string;
  /** What to do instead. */
  readonly fix: string;
  /** The last line on success. */
  readonly done: string;
}

/** The words of the release's migration rehearsal. */
export const REHEARSAL_WORDS: RestoreWords = {
  what: "the migration rehearsal",
  target: "nova-rollout:rehearsalDatabaseUrl",
  fix: "Point nova-rollout:rehearsalDatabaseUrl at a scratch database.",
  done: "migration rehearsal passed on the clone",
};
