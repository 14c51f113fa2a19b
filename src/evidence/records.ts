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
import { recordFileName, recordsDir } from "./paths";
import {
  postLaunchLabel,
  postLaunchRecordFileName,
  postLaunchRecordsDir,
  type PostLaunchRecord,
  validatePostLaunchRecord,
} from "./post-launch-records";
import { sshKeygenSign } from "./sshsig";

/** The SSH key records are signed with: the given option, else NOVA_SSH_KEY_FILE; undefined when neither is set. */
export function recordSigningKey(option?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const key = option ?? env["NOVA_SSH_KEY_FILE"];
  return key !== undefined && key.length > 0 ? key : undefined;
}

/**
 * Signs a record file with `ssh-keygen -Y sign -n nova-rollout -f <key>` (a private key file, or a public key file
 * whose private half is in ssh-agent), writing `<file>.sig`; returns its path. Production counts only records signed
 * by the roster person they name.
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

/**
 * Writes `<evidenceDir>/<stack>/records/<kind>-<label>-<timestamp>.json` (post-launch records:
 * `records/post-launch/<kind>-<label>-<timestamp>.json`); returns the path. Never overwrites a file.
 */
export function writeRecord(evidenceDirAbs: string, record: AnyRecord | PostLaunchRecord, at: Date): string {
  if (POST_LAUNCH_KINDS.includes(record.kind)) {
    const post = validatePostLaunchRecord(record);
    const file = path.join(
      postLaunchRecordsDir(evidenceDirAbs, post.stack),
      postLaunchRecordFileName(post.kind, postLaunchLabel(post), at),
    );
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(post, null, 2)}\n`, { flag: "wx" });
    return file;
  }
  const valid = validateRecord(record);
  const label = valid.kind === "freeze" ? valid.stack : valid.release;
  const file = path.join(recordsDir(evidenceDirAbs, valid.stack), recordFileName(valid.kind, label, at));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(valid, null, 2)}\n`, { flag: "wx" });
  return file;
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
