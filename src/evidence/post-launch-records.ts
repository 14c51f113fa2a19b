/**
 * Post-launch records: a freeze lift (who ended which change-freeze window, when), the follow-up drills a release
 * leaves due, and the completion of a drill. They live in `<evidenceDir>/<stack>/records/post-launch/`, apart from the
 * gate's records: `readRecords` (and every policy pack built from it) treats an unknown kind in `records/` as an
 * invalid record and fails closed, so a lift there would block every later release of the stack.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { describeZodError, type FreezeRecord } from "./model";
import { evidenceStem, jsonRecordFiles, recordsDir } from "./paths";
import { type InvalidRecord } from "./reader";

const isoTimestamp = z.iso.datetime({ offset: true });
const stackName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9_.\-/]+$/, "must be a Pulumi stack name");

/** The drills every release leaves due after its launch. */
export const FOLLOW_UP_DRILLS = ["billing", "backups", "failover"] as const;
export type FollowUpDrill = (typeof FOLLOW_UP_DRILLS)[number];

/** Days after a launch the follow-up drills are due, unless `post-launch --follow-up-days` says otherwise. */
export const DEFAULT_FOLLOW_UP_DAYS = 7;

/**
 * A freeze lift: ends the change-freeze window it names (stack, start, end as the freeze record has them) at
 * `liftedAt`. In production it counts only when signed by the roster person it names (`liftedBy`).
 */
export const freezeLiftRecordSchema = z
  .object({
    kind: z.literal("freeze-lift"),
    stack: stackName,
    /** File name (under `records/`) of the freeze record that declared the window; informational. */
    freezeRecord: z.string().min(1),
    /** sha256 of that freeze record's bytes when it was lifted; informational. */
    freezeSha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex characters"),
    /** The window lifted: every freeze record of the stack with this start and end ends at `liftedAt`. */
    windowStart: isoTimestamp,
    windowEnd: isoTimestamp,
    liftedAt: isoTimestamp,
    liftedBy: z.string().min(1),
    reason: z.string().min(1),
  })
  .strict();
export type FreezeLiftRecord = z.infer<typeof freezeLiftRecordSchema>;

export const followUpsRecordSchema = z
  .object({
    kind: z.literal("follow-ups"),
    stack: stackName,
    release: z.string().min(1),
    /** File name of the launch summary the follow-ups belong to. */
    launchReport: z.string().min(1),
    scheduledAt: isoTimestamp,
    scheduledBy: z.string().min(1),
    drills: z.array(z.object({ drill: z.enum(FOLLOW_UP_DRILLS), dueAt: isoTimestamp }).strict()).min(1),
  })
  .strict()
  .refine((r) => r.drills.every((d) => Date.parse(d.dueAt) > Date.parse(r.scheduledAt)), {
    message: "every dueAt must be after scheduledAt",
    path: ["drills"],
  });
export type FollowUpsRecord = z.infer<typeof followUpsRecordSchema>;

/** A drill done: completes every follow-up of that drill scheduled at or before `doneAt`. */
export const followUpDoneRecordSchema = z
  .object({
    kind: z.literal("follow-up-done"),
    stack: stackName,
    drill: z.enum(FOLLOW_UP_DRILLS),
    doneAt: isoTimestamp,
    doneBy: z.string().min(1),
    note: z.string().min(1).optional(),
  })
  .strict();
export type FollowUpDoneRecord = z.infer<typeof followUpDoneRecordSchema>;

export type PostLaunchRecord = FreezeLiftRecord | FollowUpsRecord | FollowUpDoneRecord;
export type PostLaunchKind = PostLaunchRecord["kind"];

const SCHEMAS = {
  "freeze-lift": freezeLiftRecordSchema,
  "follow-ups": followUpsRecordSchema,
  "follow-up-done": followUpDoneRecordSchema,
} as const;

/** `<evidenceDir>/<stack>/records/post-launch` */
export function postLaunchRecordsDir(evidenceDir: string, stack: string): string {
  return path.join(recordsDir(evidenceDir, stack), "post-launch");
}

/** File name of a post-launch record: `<kind>-<label>-<timestamp>.json` (`attempt`: see `evidenceStem`). */
export function postLaunchRecordFileName(kind: PostLaunchKind, label: string, at: Date, attempt = 0): string {
  return `${kind}-${label.replace(/[^A-Za-z0-9._-]/g, "_")}-${evidenceStem(at, attempt)}.json`;
}

/** The label a record's file name carries: the lifted freeze record, the release, or the drill. */
export function postLaunchLabel(r: PostLaunchRecord): string {
  return r.kind === "freeze-lift"
    ? r.freezeRecord.replace(/\.json$/, "")
    : r.kind === "follow-ups"
      ? r.release
      : r.drill;
}

/** Validates a post-launch record; throws one error listing every problem. */
export function validatePostLaunchRecord(record: unknown): PostLaunchRecord {
  const kind = (record as { kind?: unknown } | null)?.kind;
  if (kind !== "freeze-lift" && kind !== "follow-ups" && kind !== "follow-up-done") {
    throw new Error(
      `invalid post-launch record: kind must be "freeze-lift", "follow-ups" or "follow-up-done"`,
    );
  }
  const r = SCHEMAS[kind].safeParse(record);
  if (!r.success) throw new Error(`invalid ${kind} record: ${describeZodError(r.error)}`);
  return r.data;
}

/** An unreadable or invalid post-launch record, with the kind it claims (or its file name suggests), if any. */
export interface InvalidPostLaunchRecord extends InvalidRecord {
  readonly kind?: PostLaunchKind;
}

/** Every post-launch record of a stack, validated; invalid files separately. */
export interface PostLaunchRecords {
  readonly lifts: readonly (FreezeLiftRecord & { readonly path: string })[];
  readonly followUps: readonly (FollowUpsRecord & { readonly path: string })[];
  readonly done: readonly (FollowUpDoneRecord & { readonly path: string })[];
  readonly invalid: readonly InvalidPostLaunchRecord[];
}

function kindFromName(name: string): PostLaunchKind | undefined {
  return (["freeze-lift", "follow-ups", "follow-up-done"] as const).find((k) => name.startsWith(`${k}-`));
}

/** Reads `<evidenceDir>/<stack>/records/post-launch/*.json`. */
export function readPostLaunchRecords(evidenceDir: string, stack: string): PostLaunchRecords {
  const dir = postLaunchRecordsDir(evidenceDir, stack);
  const lifts: (FreezeLiftRecord & { path: string })[] = [];
  const followUps: (FollowUpsRecord & { path: string })[] = [];
  const done: (FollowUpDoneRecord & { path: string })[] = [];
  const invalid: InvalidPostLaunchRecord[] = [];
  const names = jsonRecordFiles(dir);
  for (const name of names) {
    const file = path.join(dir, name);
    let claimed = kindFromName(name);
    try {
      const json: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
      const kind = (json as { kind?: unknown } | null)?.kind;
      if (kind === "freeze-lift" || kind === "follow-ups" || kind === "follow-up-done") claimed = kind;
      const record = validatePostLaunchRecord(json);
      if (record.stack !== stack) {
        throw new Error(`stack: the record names stack "${record.stack}" but lives under "${stack}"`);
      }
      if (record.kind === "freeze-lift") lifts.push({ ...record, path: file });
      else if (record.kind === "follow-ups") followUps.push({ ...record, path: file });
      else done.push({ ...record, path: file });
    } catch (e) {
      invalid.push({
        path: file,
        error: (e as Error).message,
        ...(claimed !== undefined ? { kind: claimed } : {}),
      });
    }
  }
  return { lifts, followUps, done, invalid };
}

/** A freeze window after lifts: `end` is the earlier of its declared end and its earliest lift. */
export type LiftedFreeze<T extends FreezeRecord> = T & {
  /** The declared end, when a lift moved `end` earlier. */
  readonly declaredEnd?: string;
  readonly liftedBy?: string;
  readonly liftedAt?: string;
};

/** Whether a lift names a freeze record's window (same stack, start and end instants). */
export function liftNames(lift: FreezeLiftRecord, freeze: FreezeRecord): boolean {
  return (
    lift.stack === freeze.stack &&
    Date.parse(lift.windowStart) === Date.parse(freeze.start) &&
    Date.parse(lift.windowEnd) === Date.parse(freeze.end)
  );
}

/**
 * Applies lifts to freeze windows: a lifted window ends at its earliest lift (a lift before the start means the
 * window never opens). Pure; the result keeps every window, so `activeFreezes` judges them as usual.
 */
export function liftedFreezes<T extends FreezeRecord>(
  freezes: readonly T[],
  lifts: readonly FreezeLiftRecord[],
): LiftedFreeze<T>[] {
  return freezes.map((f) => {
    const lift = lifts
      .filter((l) => liftNames(l, f))
      .sort((a, b) => Date.parse(a.liftedAt) - Date.parse(b.liftedAt))[0];
    if (lift === undefined || Date.parse(lift.liftedAt) >= Date.parse(f.end)) return f;
    return { ...f, end: lift.liftedAt, declaredEnd: f.end, liftedBy: lift.liftedBy, liftedAt: lift.liftedAt };
  });
}
