/**
 * `nova-rollout:rollbackOf`: set by the rollout CLI's `rollback` for the rollback's own update only (and removed
 * afterwards), never by hand. It tells the program that the update restores an earlier release, so it does no
 * database work (the database is forward-only). It is bound to the digests it restores: a value left behind by an
 * interrupted rollback cannot make a later release skip its dump (the stack config is refused instead).
 */

/** The key, without the project namespace. */
export const ROLLBACK_OF = "rollbackOf";

/** The full config key. */
export const ROLLBACK_OF_KEY = `nova-rollout:${ROLLBACK_OF}`;

/** What the key says: the update version restored and the digests that update deployed. */
export interface RollbackOf {
  readonly update: number;
  readonly apiDigest: string;
  readonly workerDigest: string;
}

// Digests as history recorded them (a built image's, or a placeholder when none was recorded): any word.
const VALUE_RE = /^update ([1-9]\d*) api (\S+) worker (\S+)$/;

/** The expected form, for error messages. */
export const ROLLBACK_OF_FORM = "update <version> api <digest> worker <digest>";

/** The key's value for a rollback to `target`. */
export function formatRollbackOf(target: RollbackOf): string {
  const word = (digest: string) => (/^\S+$/.test(digest) ? digest : "unknown");
  return `update ${target.update} api ${word(target.apiDigest)} worker ${word(target.workerDigest)}`;
}

/** Reads the key's value; undefined when it is not of the form {@link ROLLBACK_OF_FORM}. */
export function parseRollbackOf(value: string): RollbackOf | undefined {
  const m = VALUE_RE.exec(value.trim());
  if (!m) return undefined;
  return { update: Number(m[1]), apiDigest: m[2] ?? "", workerDigest: m[3] ?? "" };
}
