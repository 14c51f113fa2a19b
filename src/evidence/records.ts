/**
 * Writing records (freeze windows, approvals, overrides, rollbacks), validated by the same schemas the policies read
 * with, and the post-launch records (freeze lifts, follow-ups, completed drills) under `records/post-launch/`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type ApprovalRecord,
  approvalRecordSchema,
  describeZodError,
  type FreezeRecord,
  freezeRecordSchema,
  type OverrideRecord,
  overrideRecordSchema,
  type RollbackRecord,
  rollbackRecordSchema,
} from "./model";
import { recordFileName, recordsDir, stackEvidenceDir } from "./paths";
import { publishUnique, writeFileAtomic } from "../util/atomic-file";
import {
  postLaunchLabel,
  postLaunchRecordFileName,
  postLaunchRecordsDir,
  type PostLaunchRecord,
  validatePostLaunchRecord,
} from "./post-launch-records";
import {
  restoreDecisionFileName,
  restoreDecisionsDir,
  type RestoreDecision,
  validateRestoreDecision,
} from "./restore-decisions";
import { sshKeygenSign } from "./sshsig";

/** The SSH key records are signed with: the given option, else NOVA_SSH_KEY_FILE; undefined when neither is set. */
export function recordSigningKey(option?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const key = option ?? env["NOVA_SSH_KEY_FILE"];
  return key !== undefined && key.length > 0 ? key : undefined;
}

/**
 * Signs a record file with `ssh-keygen -Y sign -n nova-rollout -f <key>` (a private key file, or a public key file
 * whose private half is in ssh-agent), writing `<file>.sig`; returns its path. Production counts only records signed
 * by the roster person they name. Commands sign through {@link writeSignedRecord}, before the record is in place.
 */
export function signRecord(file: string, sshKey: string): string {
  return sshKeygenSign(file, sshKey);
}

export type AnyRecord = FreezeRecord | ApprovalRecord | OverrideRecord | RollbackRecord;

/** Validates a record; throws one error listing every problem. */
export function validateRecord(record: unknown): AnyRecord {
  const kind = (record as { kind?: unknown } | null)?.kind;
  const schema =
    kind === "freeze"
      ? freezeRecordSchema
      : kind === "approval"
        ? approvalRecordSchema
        : kind === "rollback"
          ? rollbackRecordSchema
          : overrideRecordSchema;
  const r = schema.safeParse(record);
  if (!r.success) {
    throw new Error(`invalid ${String(kind)} record: ${describeZodError(r.error)}`);
  }
  return r.data;
}

const POST_LAUNCH_KINDS: readonly string[] = ["freeze-lift", "follow-ups", "follow-up-done"];

/** `ssh-keygen` could not sign a record; nothing was recorded. The message names the key and what ssh-keygen said. */
export class RecordSigningError extends Error {
  override readonly name = "RecordSigningError";
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    const stderr = (cause as { stderr?: unknown } | null)?.stderr;
    const said = (Buffer.isBuffer(stderr) || typeof stderr === "string" ? stderr.toString() : "").trim();
    const first = (said.length > 0 ? said : ((cause as Error | null)?.message ?? String(cause))).split(
      "\n",
    )[0];
    super(`could not sign the record with ${key} (nothing was recorded): ${first}`);
  }
}

/** A record written (and signed) under a temp name outside `records/`, not yet where the gate reads records. */
export interface PendingRecord {
  /** The temp file: what `commit` puts in place (verify its signature here). */
  readonly file: string;
  /** Its signature (`<file>.sig`), when a key signed it. */
  readonly signature?: string;
  /**
   * Moves the record into `records/` (its signature first, so a record is never there unsigned) under the first name
   * no other record uses; removes the temp files. Returns where they are now.
   */
  commit(): { file: string; signature?: string };
  /** Removes the temp files; nothing reaches `records/`. */
  discard(): void;
}

/** Where a record goes, its file name for each attempt at a unique one, and its bytes. */
function placement(
  evidenceDirAbs: string,
  record: AnyRecord | PostLaunchRecord | RestoreDecision,
  at: Date,
): { stack: string; dir: string; nameFor: (attempt: number) => string; text: string } {
  if (record.kind === "restore-db") {
    const decision = validateRestoreDecision(record);
    return {
      stack: decision.stack,
      dir: restoreDecisionsDir(evidenceDirAbs, decision.stack),
      nameFor: (n) => restoreDecisionFileName(decision.stack, at, n),
      text: `${JSON.stringify(decision, null, 2)}\n`,
    };
  }
  if (POST_LAUNCH_KINDS.includes(record.kind)) {
    const post = validatePostLaunchRecord(record);
    return {
      stack: post.stack,
      dir: postLaunchRecordsDir(evidenceDirAbs, post.stack),
      nameFor: (n) => postLaunchRecordFileName(post.kind, postLaunchLabel(post), at, n),
      text: `${JSON.stringify(post, null, 2)}\n`,
    };
  }
  const valid = validateRecord(record);
  const label = valid.kind === "freeze" ? valid.stack : valid.release;
  return {
    stack: valid.stack,
    dir: recordsDir(evidenceDirAbs, valid.stack),
    nameFor: (n) => recordFileName(valid.kind, label, at, n),
    text: `${JSON.stringify(valid, null, 2)}\n`,
  };
}

/**
 * Validates a record and writes it to a temp directory beside `records/` (`<evidenceDir>/<stack>/.pending-*`, same
 * filesystem), signed there with `ssh-keygen -Y sign` when `sshKey` is given. A failed signature removes the temp
 * files and throws: nothing reaches `records/`.
 */
export function prepareRecord(
  evidenceDirAbs: string,
  record: AnyRecord | PostLaunchRecord | RestoreDecision,
  at: Date,
  sshKey?: string,
): PendingRecord {
  const { stack, dir, nameFor, text } = placement(evidenceDirAbs, record, at);
  const stackDir = stackEvidenceDir(evidenceDirAbs, stack);
  fs.mkdirSync(stackDir, { recursive: true });
  const tmpDir = fs.mkdtempSync(path.join(stackDir, ".pending-"));
  const discard = () => fs.rmSync(tmpDir, { recursive: true, force: true });
  const file = path.join(tmpDir, nameFor(0));
  let signature: string | undefined;
  try {
    writeFileAtomic(file, text);
  } catch (e) {
    discard();
    throw e;
  }
  if (sshKey !== undefined) {
    try {
      signature = signRecord(file, sshKey);
    } catch (e) {
      discard();
      throw new RecordSigningError(sshKey, e);
    }
  }
  return {
    file,
    ...(signature !== undefined ? { signature } : {}),
    discard,
    commit: () => {
      try {
        const names = (n: number) =>
          signature !== undefined ? [`${nameFor(n)}.sig`, nameFor(n)] : [nameFor(n)];
        const placed = publishUnique(dir, names, signature !== undefined ? [signature, file] : [file]);
        return signature !== undefined
          ? { file: placed[1] ?? "", signature: placed[0] ?? "" }
          : { file: placed[0] ?? "" };
      } finally {
        discard();
      }
    },
  };
}

/**
 * Writes a record into `<evidenceDir>/<stack>/records/` (post-launch records into `records/post-launch/`) as
 * `<kind>-<label>-<timestamp>.json` (`<timestamp>.001`, … when that name is taken: never overwrites), signed with
 * `sshKey` when given: signed under a temp name first and moved into place only once signed, so a failed signature
 * leaves nothing behind. Returns the record's path and its signature's.
 */
export function writeSignedRecord(
  evidenceDirAbs: string,
  record: AnyRecord | PostLaunchRecord | RestoreDecision,
  at: Date,
  sshKey?: string,
): { file: string; signature?: string } {
  return prepareRecord(evidenceDirAbs, record, at, sshKey).commit();
}

/** Writes an unsigned record like {@link writeSignedRecord}; returns its path. */
export function writeRecord(evidenceDirAbs: string, record: AnyRecord | PostLaunchRecord, at: Date): string {
  return writeSignedRecord(evidenceDirAbs, record, at).file;
}

/** Parses an ISO time or a relative `+<n>h`; throws on anything else. */
export function parseTime(text: string, now: Date): Date {
  const rel = /^\+(\d+(?:\.\d+)?)h$/.exec(text);
  if (rel?.[1] !== undefined) {
    return new Date(now.getTime() + Number(rel[1]) * 3_600_000);
  }
  const t = new Date(text);
  if (Number.isNaN(t.getTime())) {
    throw new Error(`not an ISO time or +<hours>h: ${text}`);
  }
  return t;
}
