/** Reads bundles and records from disk. Nothing here decides readiness; see `verifier.ts`. */
import * as fs from "node:fs";
import * as path from "node:path";
import { type z } from "zod";
import {
  type ApprovalRecord,
  approvalRecordSchema,
  bundleSchema,
  describeZodError,
  type EvidenceBundle,
  type FreezeRecord,
  freezeRecordSchema,
  type OverrideRecord,
  overrideRecordSchema,
  type RollbackRecord,
  rollbackRecordSchema,
} from "./model";
import { BUNDLE_SUFFIX, parseEvidenceStem, recordsDir, stackEvidenceDir } from "./paths";

/** The outcome of looking for the newest bundle of a stack. */
export type BundleLookup =
  | { readonly status: "missing"; readonly expectedPath: string }
  | { readonly status: "invalid"; readonly path: string; readonly error: string }
  | { readonly status: "ok"; readonly path: string; readonly bundle: EvidenceBundle; readonly bytes: Buffer };

function listFiles(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/**
 * Newest `<timestamp>-preflight.json` file name in a directory (by the timestamp in its name, then the sequence
 * number of a later bundle of the same second, `<timestamp>.001-preflight.json`), if any.
 */
export function newestBundleFile(dir: string): string | undefined {
  const candidates = listFiles(dir)
    .filter((n) => n.endsWith(BUNDLE_SUFFIX))
    .map((n) => ({ n, s: parseEvidenceStem(n.slice(0, -BUNDLE_SUFFIX.length)) }))
    .filter((c): c is { n: string; s: { date: Date; seq: number } } => c.s !== undefined)
    .sort((a, b) => b.s.date.getTime() - a.s.date.getTime() || b.s.seq - a.s.seq);
  return candidates[0]?.n;
}

/** Parses bundle bytes; throws with every schema problem on invalid input. */
export function parseBundle(bytes: Buffer | string): EvidenceBundle {
  const text = typeof bytes === "string" ? bytes : bytes.toString("utf8");
  return parseWith(bundleSchema, JSON.parse(text));
}

/** Finds and parses the newest bundle under `<evidenceDir>/<stack>/`. Fails closed: unparsable → `invalid`. */
export function readNewestBundle(evidenceDir: string, stack: string): BundleLookup {
  const dir = stackEvidenceDir(evidenceDir, stack);
  const name = newestBundleFile(dir);
  if (name === undefined) {
    return { status: "missing", expectedPath: path.join(dir, `<YYYYMMDDTHHMMSSZ>${BUNDLE_SUFFIX}`) };
  }
  const file = path.join(dir, name);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    return { status: "invalid", path: file, error: (e as Error).message };
  }
  try {
    return { status: "ok", path: file, bundle: parseBundle(bytes), bytes };
  } catch (e) {
    return { status: "invalid", path: file, error: (e as Error).message };
  }
}

/** A record file that could not be read or did not match its schema. */
export interface InvalidRecord {
  readonly path: string;
  readonly error: string;
}

/** Every record of a stack, validated; invalid files are returned separately so callers can fail closed. */
export interface StackRecords {
  readonly freezes: readonly (FreezeRecord & { readonly path: string })[];
  readonly approvals: readonly (ApprovalRecord & { readonly path: string })[];
  readonly overrides: readonly (OverrideRecord & { readonly path: string })[];
  readonly rollbacks: readonly (RollbackRecord & { readonly path: string })[];
  readonly invalid: readonly InvalidRecord[];
}

/** Validates `json` against `schema`; throws with every schema problem. */
function parseWith<T>(schema: z.ZodType<T>, json: unknown): T {
  const r = schema.safeParse(json);
  if (!r.success) {
    throw new Error(describeZodError(r.error));
  }
  return r.data;
}

/** Reads `<evidenceDir>/<stack>/records/*.json`. */
export function readRecords(evidenceDir: string, stack: string): StackRecords {
  const dir = recordsDir(evidenceDir, stack);
  const freezes: (FreezeRecord & { path: string })[] = [];
  const approvals: (ApprovalRecord & { path: string })[] = [];
  const overrides: (OverrideRecord & { path: string })[] = [];
  const rollbacks: (RollbackRecord & { path: string })[] = [];
  const invalid: InvalidRecord[] = [];
  for (const name of listFiles(dir)
    .filter((n) => n.endsWith(".json"))
    .sort()) {
    const file = path.join(dir, name);
    try {
      const json: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
      const kind = (json as { kind?: unknown } | null)?.kind;
      const record =
        kind === "freeze"
          ? parseWith(freezeRecordSchema, json)
          : kind === "approval"
            ? parseWith(approvalRecordSchema, json)
            : kind === "override"
              ? parseWith(overrideRecordSchema, json)
              : kind === "rollback"
                ? parseWith(rollbackRecordSchema, json)
                : undefined;
      if (record === undefined) {
        throw new Error('kind: expected "freeze", "approval", "override" or "rollback"');
      }
      if (record.stack !== stack) {
        throw new Error(`stack: the record names stack "${record.stack}" but lives under "${stack}"`);
      }
      if (record.kind === "freeze") {
        freezes.push({ ...record, path: file });
      } else if (record.kind === "approval") {
        approvals.push({ ...record, path: file });
      } else if (record.kind === "rollback") {
        rollbacks.push({ ...record, path: file });
      } else {
        overrides.push({ ...record, path: file });
      }
    } catch (e) {
      invalid.push({ path: file, error: (e as Error).message });
    }
  }
  return { freezes, approvals, overrides, rollbacks, invalid };
}

/** Every bundle of a stack that parses, newest first by file name (for finding the one a history entry names). */
export function readBundles(
  evidenceDir: string,
  stack: string,
): { readonly path: string; readonly bundle: EvidenceBundle; readonly bytes: Buffer }[] {
  const dir = stackEvidenceDir(evidenceDir, stack);
  const out: { path: string; bundle: EvidenceBundle; bytes: Buffer }[] = [];
  for (const name of listFiles(dir)
    .filter((n) => n.endsWith(BUNDLE_SUFFIX))
    .sort()
    .reverse()) {
    const file = path.join(dir, name);
    try {
      const bytes = fs.readFileSync(file);
      out.push({ path: file, bundle: parseBundle(bytes), bytes });
    } catch {
      // unreadable or invalid bundles admit nothing
    }
  }
  return out;
}
