/**
 * The record actions (`freeze`, `approve`, `override`): each builds one record, checks what production would count,
 * and writes it signed with the caller's SSH key (or unsigned, with a warning that it counts only outside
 * production). A record is signed before it reaches `records/`: a failed signature records nothing.
 */
import {
  type AnyRecord,
  bundleToBind,
  type CHECK_IDS,
  classifyStackFile,
  type FreezeRecord,
  freezeProblem,
  imageDigestSchema,
  loadProductionEnforcement,
  NEVER_WAIVABLE,
  parseTime,
  RecordSigningError,
  recordSigningKey,
  type TrustedKey,
  trustedPreflightKeys,
  writeSignedRecord,
} from "../../src/evidence";
import { freezeNoticeDetail } from "../../src/comms/templates";
import { liftNames, readPostLaunchRecords } from "../../src/evidence/post-launch-records";
import { announce } from "../announce";
import { UserError } from "../errors";
import { stackFileView } from "./stack";

/** What a record command returns for `--json`. */
export interface RecordResult {
  readonly stack: string;
  readonly record: string;
  readonly signature: string | null;
}

export interface FreezeOptions {
  stack: string;
  start?: string;
  end: string;
  reason: string;
  declaredBy: string;
  projectDir: string;
  evidenceDir?: string;
  sshKey?: string;
  announce: boolean;
}

export interface ApproveOptions {
  stack: string;
  release?: string;
  approvedBy: string;
  deployer?: string;
  role?: string;
  bundle?: string;
  apiDigest?: string;
  workerDigest?: string;
  expiresAt?: string;
  expiresInHours: string;
  projectDir: string;
  evidenceDir?: string;
  sshKey?: string;
}

export interface OverrideOptions {
  stack: string;
  release?: string;
  incidentCommander: string;
  deployer?: string;
  reason: string;
  waive: string[];
  expiresInHours: string;
  hotfix?: boolean;
  bundle?: string;
  apiDigest?: string;
  workerDigest?: string;
  projectDir: string;
  evidenceDir?: string;
  sshKey?: string;
}

/** The SSH key a command signs its records with (`--ssh-key`, else NOVA_SSH_KEY_FILE); warns when there is none. */
export function signingKeyOrWarn(sshKey: string | undefined): string | undefined {
  const key = recordSigningKey(sshKey);
  if (key === undefined) {
    console.error(
      "warning: the record is unsigned (no --ssh-key or NOVA_SSH_KEY_FILE); production counts only records signed by the roster person they name",
    );
  }
  return key;
}

/**
 * Writes a record signed with the caller's SSH key (or unsigned, with a warning that it counts only outside
 * production). It is signed before it reaches `records/`: a failed signature records nothing.
 */
export function writeRecordSigned(
  evidenceDir: string,
  record: AnyRecord,
  now: Date,
  sshKey: string | undefined,
): { file: string; signature?: string } {
  const key = signingKeyOrWarn(sshKey);
  let written: { file: string; signature?: string };
  try {
    written = writeSignedRecord(evidenceDir, record, now, key);
  } catch (e) {
    if (e instanceof RecordSigningError) throw new UserError(e.message);
    throw e;
  }
  console.log(`wrote ${written.file}`);
  if (written.signature !== undefined) console.log(`signed ${written.signature}`);
  return written;
}

/** The preflight keys of the project's committed roster (none when it cannot be read). */
export function committedPreflightKeys(projectDir: string): TrustedKey[] {
  try {
    const roster = loadProductionEnforcement(projectDir).roster;
    return "error" in roster ? [] : trustedPreflightKeys(roster);
  } catch {
    return [];
  }
}

/** What an approval or override binds to: digests (options, else stack config) and the bundle hash. */
export function releaseBinding(
  o: { stack: string; bundle?: string; apiDigest?: string; workerDigest?: string },
  projectDir: string,
  evidenceDirAbs: string,
  digests: { api: string; worker: string } | undefined,
): { imageDigests?: { api: string; worker: string }; bundleSha256?: string } {
  const api = o.apiDigest ?? digests?.api;
  const worker = o.workerDigest ?? digests?.worker;
  const imageDigests =
    imageDigestSchema.safeParse(api).success && imageDigestSchema.safeParse(worker).success
      ? { api: api as string, worker: worker as string }
      : undefined;
  if (imageDigests === undefined)
    console.error("warning: no digests to bind to (pass --api-digest/--worker-digest)");
  let bundleSha256 = o.bundle;
  if (bundleSha256 === undefined) {
    const found = bundleToBind(evidenceDirAbs, o.stack, committedPreflightKeys(projectDir));
    if (found.warning !== undefined) console.error(`warning: ${found.warning}`);
    bundleSha256 = found.bundle?.contentSha256;
  }
  return { ...(imageDigests ? { imageDigests } : {}), ...(bundleSha256 ? { bundleSha256 } : {}) };
}

/**
 * A production freeze counts only when declared by a roster person holding a freeze role, for at most the committed
 * number of days (policy/config/production.json `nova-change-freeze`): refuse to record one that would not.
 */
function refuseUncountedFreeze(record: FreezeRecord, projectDir: string): void {
  if (!classifyStackFile(projectDir, record.stack).production) return;
  let problem: string | undefined;
  try {
    const enforcement = loadProductionEnforcement(projectDir);
    problem =
      "error" in enforcement.roster
        ? enforcement.roster.error
        : freezeProblem(record, enforcement.roster, enforcement.freezeRoles, enforcement.freezeMaxDays);
  } catch (e) {
    problem = (e as Error).message;
  }
  if (problem !== undefined) {
    throw new UserError(`freeze: production would not count this window: ${problem}; nothing was recorded.`);
  }
}

/** `freeze`: records a change-freeze window (and announces it unless `--no-announce`). */
export async function recordFreeze(o: FreezeOptions): Promise<RecordResult> {
  const now = new Date();
  const time = (flag: string, text: string) => {
    try {
      return parseTime(text, now).toISOString();
    } catch (e) {
      throw new UserError(`--${flag}: ${(e as Error).message}`);
    }
  };
  const record: FreezeRecord = {
    kind: "freeze",
    stack: o.stack,
    start: o.start === undefined ? now.toISOString() : time("start", o.start),
    end: time("end", o.end),
    reason: o.reason,
    declaredBy: o.declaredBy,
  };
  if (Date.parse(record.end) <= Date.parse(record.start)) {
    throw new UserError(`--end ${record.end} must be after the start ${record.start}`);
  }
  refuseUncountedFreeze(record, o.projectDir);
  const { evidenceDir } = stackFileView(o.projectDir, o.stack, o.evidenceDir);
  // A lift ends every record of the window it names: the same window declared again would already be over.
  const lifted = readPostLaunchRecords(evidenceDir, o.stack).lifts.find((l) => liftNames(l, record));
  if (lifted !== undefined) {
    throw new UserError(
      `the window ${record.start} – ${record.end} was lifted at ${lifted.liftedAt} by ${lifted.liftedBy}; declare one with another start or end`,
    );
  }
  const { file, signature } = writeRecordSigned(evidenceDir, record, now, o.sshKey);
  if (o.announce) {
    await announce(
      o.projectDir,
      o.stack,
      "freeze-declared",
      "",
      freezeNoticeDetail({
        event: "declared",
        stack: o.stack,
        start: record.start,
        end: record.end,
        by: record.declaredBy,
        reason: record.reason,
      }),
    );
  }
  return { stack: o.stack, record: file, signature: signature ?? null };
}

/** `approve`: records a leadership approval for one release, bound to its digests and the newest signed bundle. */
export function recordApproval(o: ApproveOptions): RecordResult {
  const now = new Date();
  const projectDir = o.projectDir;
  const { settings: s, evidenceDir } = stackFileView(projectDir, o.stack, o.evidenceDir);
  const release = o.release ?? (s.ok ? s.settings.release : undefined);
  if (release === undefined) {
    throw new UserError("approve: pass --release (the stack file has no nova-rollout:imageTag)");
  }
  if (o.role !== undefined) {
    console.error(
      `warning: --role ${o.role} is ignored; the approver's role comes from the committed roster (policy/trust/roster.json)`,
    );
  }
  if (o.deployer === undefined) {
    console.error("warning: no --deployer; production counts only approvals that name who runs the release");
  }
  const binding = releaseBinding(o, projectDir, evidenceDir, s.ok ? s.settings.digests : undefined);
  const expiresAt =
    o.expiresAt !== undefined ? parseTime(o.expiresAt, now) : parseTime(`+${o.expiresInHours}h`, now);
  const { file, signature } = writeRecordSigned(
    evidenceDir,
    {
      kind: "approval",
      stack: o.stack,
      release,
      approvedBy: o.approvedBy,
      ...(o.deployer !== undefined ? { deployer: o.deployer } : {}),
      ...binding,
      approvedAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
    },
    now,
    o.sshKey,
  );
  return { stack: o.stack, record: file, signature: signature ?? null };
}

/** `override`: records a break-glass override for a hotfix, waiving only the named checks. */
export function recordOverride(o: OverrideOptions): RecordResult {
  if (o.hotfix !== true) {
    throw new UserError("override: break-glass is for hotfixes only; pass --hotfix to confirm");
  }
  const forbidden = o.waive.filter((c) => (NEVER_WAIVABLE as readonly string[]).includes(c));
  if (forbidden.length > 0) {
    throw new UserError(
      `override: ${forbidden.join(", ")} can never be waived (${NEVER_WAIVABLE.join(", ")})`,
    );
  }
  const now = new Date();
  const projectDir = o.projectDir;
  let maxHours = 24;
  try {
    maxHours = loadProductionEnforcement(projectDir).overrideMaxHours;
  } catch {
    // the committed default
  }
  if (!(Number(o.expiresInHours) > 0) || Number(o.expiresInHours) > maxHours) {
    throw new UserError(
      `override: --expires-in-hours must be > 0 and at most ${maxHours} (policy/config/production.json)`,
    );
  }
  const { settings: s, evidenceDir } = stackFileView(projectDir, o.stack, o.evidenceDir);
  const release = o.release ?? (s.ok ? s.settings.release : undefined);
  if (release === undefined) {
    throw new UserError("override: pass --release (the stack file has no nova-rollout:imageTag)");
  }
  const { file, signature } = writeRecordSigned(
    evidenceDir,
    {
      kind: "override",
      stack: o.stack,
      release,
      hotfix: true,
      incidentCommander: o.incidentCommander,
      reason: o.reason,
      waivedChecks: o.waive as (typeof CHECK_IDS)[number][],
      ...(o.deployer !== undefined ? { deployer: o.deployer } : {}),
      ...releaseBinding(o, projectDir, evidenceDir, s.ok ? s.settings.digests : undefined),
      createdAt: now.toISOString(),
      expiresAt: parseTime(`+${o.expiresInHours}h`, now).toISOString(),
    },
    now,
    o.sshKey,
  );
  return { stack: o.stack, record: file, signature: signature ?? null };
}
