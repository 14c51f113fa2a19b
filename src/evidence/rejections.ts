/**
 * Rejected releases. A release whose post-deploy verification failed on a stack is rejected there: the CLI writes a
 * rejection record naming the failed update, and the gate refuses those image digests on that stack again until the
 * stack is given new digests or someone records a decision to retry the failed update (a retry record naming it).
 *
 * The records live in `<evidenceDir>/<stack>/records/rejections/`, apart from the gate's other records (`readRecords`
 * treats an unknown kind in `records/` as invalid and fails closed). A rejection only ever blocks, so it counts
 * unsigned; a retry lifts a block, so in production it counts only when signed by the roster person it names.
 *
 * Evidence written on a CI runner is gone with the runner, so the automatic rollback also carries the rejection in its
 * update message (stack history, see {@link rejectionNote}); `rollout up` writes it back to the evidence directory
 * before the gate runs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { describeZodError, digestsSchema, type Finding, type ImageDigests } from "./model";
import { evidenceTimestamp, jsonRecordFiles, recordsDir } from "./paths";
import { type InvalidRecord } from "./reader";
import { type GateInput, rel } from "./gate/input";
import { type RecordSignatureCheck } from "./signed";
import { recordSignatureProblem, type Roster } from "./trust";

const isoTimestamp = z.iso.datetime({ offset: true });
const stackName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9_.\-/]+$/, "must be a Pulumi stack name");

/** A release rejected on a stack: its update `failedVersion` failed post-deploy verification. */
export const rejectionRecordSchema = z
  .object({
    kind: z.literal("rejection"),
    stack: stackName,
    release: z.string().min(1),
    imageDigests: digestsSchema,
    /** The history version of the update whose verification failed. */
    failedVersion: z.number().int().min(1),
    /** The verification checks that failed (resource names), for the people reading the refusal. */
    failedChecks: z.array(z.string().min(1)),
    createdAt: isoTimestamp,
  })
  .strict();
export type RejectionRecord = z.infer<typeof rejectionRecordSchema>;

/** A decision to deploy a rejected release again: names the failed update it retries. */
export const retryRecordSchema = z
  .object({
    kind: z.literal("retry"),
    stack: stackName,
    release: z.string().min(1),
    imageDigests: digestsSchema,
    /** The failed update being retried (the rejection's `failedVersion`). */
    failedVersion: z.number().int().min(1),
    reason: z.string().min(1),
    /** Who decided (a roster name); in production the record counts only when signed by them. */
    decidedBy: z.string().min(1),
    createdAt: isoTimestamp,
  })
  .strict();
export type RetryRecord = z.infer<typeof retryRecordSchema>;

/** `<evidenceDir>/<stack>/records/rejections` */
export function rejectionsDir(evidenceDir: string, stack: string): string {
  return path.join(recordsDir(evidenceDir, stack), "rejections");
}

/** The rejection and retry records of a stack; unreadable or invalid files apart (they fail closed). */
export interface StackRejections {
  readonly rejections: readonly (RejectionRecord & { readonly path: string })[];
  readonly retries: readonly (RetryRecord & { readonly path: string })[];
  readonly invalid: readonly InvalidRecord[];
}

/** Reads `<evidenceDir>/<stack>/records/rejections/*.json`. */
export function readRejections(evidenceDir: string, stack: string): StackRejections {
  const dir = rejectionsDir(evidenceDir, stack);
  const rejections: (RejectionRecord & { path: string })[] = [];
  const retries: (RetryRecord & { path: string })[] = [];
  const invalid: InvalidRecord[] = [];
  const names = jsonRecordFiles(dir);
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const json: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
      const kind = (json as { kind?: unknown } | null)?.kind;
      const schema =
        kind === "rejection" ? rejectionRecordSchema : kind === "retry" ? retryRecordSchema : undefined;
      if (schema === undefined) throw new Error('kind: expected "rejection" or "retry"');
      const r = schema.safeParse(json);
      if (!r.success) throw new Error(describeZodError(r.error));
      if (r.data.stack !== stack) {
        throw new Error(`stack: the record names stack "${r.data.stack}" but lives under "${stack}"`);
      }
      if (r.data.kind === "rejection") rejections.push({ ...r.data, path: file });
      else retries.push({ ...r.data, path: file });
    } catch (e) {
      invalid.push({ path: file, error: (e as Error).message });
    }
  }
  return { rejections, retries, invalid };
}

/** Writes a rejection or retry record (`<kind>-<release>-u<failedVersion>-<timestamp>.json`, never overwriting). */
export function writeRejectionRecord(evidenceDir: string, record: RejectionRecord | RetryRecord): string {
  const valid =
    record.kind === "rejection" ? rejectionRecordSchema.parse(record) : retryRecordSchema.parse(record);
  const safe = valid.release.replace(/[^A-Za-z0-9._-]/g, "_");
  const stamp = evidenceTimestamp(new Date(valid.createdAt));
  const file = path.join(
    rejectionsDir(evidenceDir, valid.stack),
    `${valid.kind}-${safe}-u${valid.failedVersion}-${stamp}.json`,
  );
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(valid, null, 2)}\n`, { flag: "wx" });
  return file;
}

function sameDigests(a: ImageDigests, b: ImageDigests): boolean {
  return a.api === b.api && a.worker === b.worker;
}

/** A rejection that still holds (no retry counts for it), and the retries that were set aside, with why. */
export interface OutstandingRejections {
  readonly outstanding: readonly (RejectionRecord & { readonly path: string })[];
  readonly ignoredRetries: readonly { readonly path: string; readonly why: string }[];
  readonly invalid: readonly InvalidRecord[];
}

/**
 * The rejections of a stack that still hold: those no retry record names (same stack, failed update and digests).
 * With a roster (production) a retry counts only when signed by the roster person it names; without one (other
 * stacks) any well-formed retry counts. A roster that cannot be read lets no retry count.
 */
export function outstandingRejections(
  found: StackRejections,
  roster: Roster | { readonly error: string } | undefined,
  check: RecordSignatureCheck = recordSignatureProblem,
): OutstandingRejections {
  const ignoredRetries: { path: string; why: string }[] = [];
  const counting = found.retries.filter((t) => {
    if (roster === undefined) return true;
    const why =
      "error" in roster
        ? `the trust roster cannot be read (${roster.error})`
        : check(t.path, t.decidedBy, roster);
    if (why !== undefined) ignoredRetries.push({ path: t.path, why });
    return why === undefined;
  });
  const outstanding = found.rejections.filter(
    (r) =>
      !counting.some(
        (t) =>
          t.stack === r.stack &&
          t.failedVersion === r.failedVersion &&
          sameDigests(t.imageDigests, r.imageDigests),
      ),
  );
  return { outstanding, ignoredRetries, invalid: found.invalid };
}

/** The command that records a decision to retry a failed update. */
export function retryRemedy(stack: string, failedVersion: number | string): string {
  return `npm run rollout -- up --stack ${stack} --retry-failed ${failedVersion} --reason "<why it is safe now>" --by <your roster name> --ssh-key <your key>`;
}

const shortDigest = (d: string) => `${d.slice(0, 19)}…`;

/**
 * The gate's judgement: findings when the digests the stack deploys were rejected on it and no retry counts for the
 * failed update (empty otherwise). Each finding names the failed update, the checks that failed and both ways out.
 * `check`: the signature check of a retry record (the gate passes the one of its evaluation).
 */
export function rejectionFindings(
  input: GateInput,
  check: RecordSignatureCheck = recordSignatureProblem,
): Finding[] {
  if (!input.settings.ok) return [];
  const digests = input.settings.settings.digests;
  const found = readRejections(input.evidenceDir, input.stack);
  const judged = outstandingRejections(
    found,
    input.stackClass.production ? input.enforcement.roster : undefined,
    check,
  );
  const out: Finding[] = judged.invalid.map((bad) => ({
    checkId: "rejected",
    message: `Rejection record ${rel(input, bad.path)} is unreadable or invalid (${bad.error}); records fail closed.`,
    remedy: `restore it from the repository (git checkout -- ${rel(input, bad.path)}) or fix it`,
  }));
  const holding = judged.outstanding.filter((r) => sameDigests(r.imageDigests, digests));
  const seen = new Set<number>();
  for (const r of holding) {
    if (seen.has(r.failedVersion)) continue;
    seen.add(r.failedVersion);
    const ignored = judged.ignoredRetries
      .filter((t) => found.retries.some((x) => x.path === t.path && x.failedVersion === r.failedVersion))
      .map((t) => `; retry ${rel(input, t.path)} does not count: ${t.why}`)
      .join("");
    out.push({
      checkId: "rejected",
      message: `Release ${r.release} (api ${shortDigest(r.imageDigests.api)}, worker ${shortDigest(r.imageDigests.worker)}) was rejected on stack ${input.stack}: update ${r.failedVersion} failed post-deploy verification${r.failedChecks.length > 0 ? ` (${r.failedChecks.join(", ")})` : ""} at ${r.createdAt} (${rel(input, r.path)})${ignored}. The gate refuses these digests until the stack names new ones or a decision to retry update ${r.failedVersion} is recorded.`,
      remedy: `set the digests of a fixed release in Pulumi.${input.stack}.yaml, or record the decision to retry: ${retryRemedy(input.stack, r.failedVersion)}`,
    });
  }
  return out;
}

const NOTE_PREFIX = "nova-rollout rejects ";
/** What follows a rejection note in an update message (see `admissionMessage`). */
const NOTE_END = "; nova-rollout admission ";

/**
 * The part of an update message that carries a rejection into stack history (the automatic rollback's message), so a
 * runner without the evidence of the failed run can write the rejection record again. Place it before the admission.
 */
export function rejectionNote(r: RejectionRecord): string {
  return `${NOTE_PREFIX}${JSON.stringify(r)}`;
}

/** The rejection an update message carries, or undefined. */
export function parseRejectionNote(message: string | undefined): RejectionRecord | undefined {
  if (message === undefined) return undefined;
  const at = message.indexOf(NOTE_PREFIX);
  if (at < 0) return undefined;
  const rest = message.slice(at + NOTE_PREFIX.length);
  const end = rest.indexOf(NOTE_END);
  try {
    const r = rejectionRecordSchema.safeParse(JSON.parse(end < 0 ? rest : rest.slice(0, end)));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes the rejections carried in stack history that the evidence directory does not hold (same stack, failed update
 * and digests); returns the files written.
 */
export function restoreRejections(
  evidenceDir: string,
  stack: string,
  fromHistory: readonly RejectionRecord[],
): string[] {
  const onFile = readRejections(evidenceDir, stack).rejections;
  const written: string[] = [];
  for (const r of fromHistory) {
    if (r.stack !== stack) continue;
    const known = onFile.some(
      (f) => f.failedVersion === r.failedVersion && sameDigests(f.imageDigests, r.imageDigests),
    );
    if (known || written.some((w) => w.includes(`-u${r.failedVersion}-`))) continue;
    try {
      written.push(writeRejectionRecord(evidenceDir, r));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  return written;
}
