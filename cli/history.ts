/**
 * Release history: a stack's updates as releases (numbered the way `rollback --to` takes them), which of them qualify
 * as rollback targets, and the history table.
 */
import type { ConfigMap, Stack, UpdateSummary } from "@pulumi/pulumi/automation";
import { parseAdmission, type Admission } from "../src/evidence";
import { parseRejectionNote, type RejectionRecord } from "../src/evidence/rejections";
import { UserError } from "./errors";

/** Entries per page when reading a stack's whole history. */
const HISTORY_PAGE = 500;

/**
 * The stack's whole history, newest first: numbering is stable only when counted over every update. Read page by page:
 * `pulumi stack history` without a page size returns only the newest 10.
 */
export async function fullHistory(stack: Pick<Stack, "history">): Promise<ReleaseEntry[]> {
  const all: UpdateSummary[] = [];
  for (let page = 1; ; page += 1) {
    const batch = await stack.history(HISTORY_PAGE, page, false);
    all.push(...batch);
    if (batch.length < HISTORY_PAGE) break;
  }
  return toReleaseEntries(all);
}

function admissionField(message: string | undefined): { admission?: Admission } {
  const admission = parseAdmission(message);
  return admission === undefined ? {} : { admission };
}

/** The `nova-rollout:` values of an update's config, secrets left out (history never shows them). */
export function releaseConfig(config: ConfigMap): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith("nova-rollout:") && value.secret !== true) out[key] = value.value;
  }
  return out;
}

/** One line of release history. */
export interface ReleaseEntry {
  readonly version: number;
  readonly result: UpdateSummary["result"];
  readonly kind: UpdateSummary["kind"];
  readonly startTime: Date;
  readonly endTime: Date;
  readonly release: string;
  readonly apiDigest: string;
  readonly workerDigest: string;
  readonly config: Record<string, string>;
  /** What admitted this release through the gate (recorded in the update's message by `rollout up`/`rollback`). */
  readonly admission?: Admission;
  /** The release an automatic rollback rejected (its message carries the rejection of the failed update). */
  readonly rejects?: RejectionRecord;
}

/**
 * History entries, newest first, as releases. Backends that do not number updates (the file backend reports 0)
 * get their position counted from the oldest, so versions are always usable with `rollback --to`. Pass the whole
 * history (see {@link fullHistory}): positions counted on a page would shift as updates accumulate.
 */
export function toReleaseEntries(history: readonly UpdateSummary[]): ReleaseEntry[] {
  return history.map((u, i) => toReleaseEntry(u, history.length - i));
}

export function toReleaseEntry(u: UpdateSummary, position?: number): ReleaseEntry {
  const config = releaseConfig(u.config ?? {});
  return {
    version: u.version > 0 ? u.version : (position ?? u.version),
    result: u.result,
    kind: u.kind,
    startTime: u.startTime,
    endTime: u.endTime,
    release: config["nova-rollout:imageTag"] ?? "",
    apiDigest: config["nova-rollout:apiImageDigest"] ?? "",
    workerDigest: config["nova-rollout:workerImageDigest"] ?? "",
    config,
    ...admissionField(u.message),
    ...rejectsField(u.message),
  };
}

function rejectsField(message: string | undefined): { rejects?: RejectionRecord } {
  const rejects = parseRejectionNote(message);
  return rejects === undefined ? {} : { rejects };
}

/** Image digests of a release, as a rollback target is compared with what the stack runs or has rejected. */
export interface ReleaseDigests {
  readonly api: string;
  readonly worker: string;
}

/**
 * Why a history entry cannot be a rollback target, or undefined when it qualifies: only a successful `update` (it
 * passed the gate and the post-deploy verification, since a failed verification fails the update), on a production
 * stack one whose admission history records, and never one whose digests the stack has since rejected.
 */
export function targetProblem(
  entry: ReleaseEntry,
  requireAdmission: boolean,
  rejected: readonly ReleaseDigests[] = [],
): string | undefined {
  if (entry.kind !== "update") return `it was a ${entry.result} ${entry.kind}, not a release`;
  if (entry.result === "failed") {
    return `it was a failed update: release ${entry.release || "(unknown)"} did not pass the gate and post-deploy verification in it`;
  }
  if (entry.result !== "succeeded") {
    return `it was a ${entry.result} update: it never finished its post-deploy verification`;
  }
  if (requireAdmission && entry.admission === undefined) {
    return "it carries no gate admission (it was not released through `rollout up`), so the gate never admitted it; a production stack rolls back only to a release the gate admitted";
  }
  if (rejected.some((d) => d.api === entry.apiDigest && d.worker === entry.workerDigest)) {
    return `its release ${entry.release} was rejected on this stack afterwards (a later update with the same digests failed post-deploy verification)`;
  }
  return undefined;
}

/** The updates that qualify as rollback targets (see {@link targetProblem}), newest first. */
export function rollbackCandidates(
  history: readonly ReleaseEntry[],
  requireAdmission: boolean,
  rejected: readonly ReleaseDigests[] = [],
): ReleaseEntry[] {
  return history
    .filter((h) => targetProblem(h, requireAdmission, rejected) === undefined)
    .sort((a, b) => b.version - a.version);
}

/** The versions that qualify as rollback targets, newest first, for messages (at most `limit`). */
export function qualifyingList(good: readonly ReleaseEntry[], limit = 10): string {
  if (good.length === 0) return "No update of this stack qualifies as a rollback target.";
  const shown = good.slice(0, limit).map((h) => `${h.version} (release ${h.release})`);
  const more = good.length > limit ? `, and ${good.length - limit} older` : "";
  return `Updates that qualify (admitted and succeeded, newest first): ${shown.join(", ")}${more}; see \`rollout history\`.`;
}

/**
 * The update to roll back to: the newest qualifying update (see {@link targetProblem}) whose digests differ from
 * `current`, or exactly `version` when given, which must itself qualify. A refusal names why and which versions do.
 */
export function rollbackTarget(
  history: readonly ReleaseEntry[],
  current: { apiDigest: string; workerDigest: string },
  version?: number,
  requireAdmission = false,
  rejected: readonly ReleaseDigests[] = [],
): ReleaseEntry {
  const good = rollbackCandidates(history, requireAdmission, rejected);
  if (version !== undefined) {
    const entry = history.find((h) => h.version === version);
    if (entry === undefined) {
      throw new UserError(`Update ${version} is not in this stack's history. ${qualifyingList(good)}`);
    }
    const problem = targetProblem(entry, requireAdmission, rejected);
    if (problem !== undefined) {
      throw new UserError(
        `Update ${version} cannot be a rollback target: ${problem}. Nothing was changed. ${qualifyingList(good)}`,
      );
    }
    return entry;
  }
  const target = good.find(
    (h) => h.apiDigest !== current.apiDigest || h.workerDigest !== current.workerDigest,
  );
  if (target === undefined) {
    throw new UserError(
      `No earlier successful release with other image digests is in the stack's history. ${qualifyingList(good)}`,
    );
  }
  return target;
}

export function shortDigest(d: string): string {
  return d.startsWith("sha256:") ? `${d.slice(0, 19)}…` : d || "-";
}

export function formatHistory(entries: readonly ReleaseEntry[]): string {
  const rows = entries.map((e) =>
    [
      String(e.version).padStart(4),
      e.kind.padEnd(8),
      e.result.padEnd(10),
      e.startTime.toISOString().replace(/\.\d{3}Z$/, "Z"),
      (e.release || "-").padEnd(12),
      shortDigest(e.apiDigest).padEnd(21),
      shortDigest(e.workerDigest),
    ].join("  "),
  );
  const header = [
    "  v#",
    "kind    ",
    "result    ",
    "started             ",
    "release     ",
    "api                  ",
    "worker",
  ].join("  ");
  return [header, ...rows].join("\n");
}
