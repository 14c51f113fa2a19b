/**
 * Update requests (`<evidenceDir>/<stack>/records/update-requests/`): the identity a production deploy presents. The
 * approval of a release names its deployer; before a real update the deployer signs a request for exactly that
 * release (stack, release, both digests, bundle), with their own SSH key or the CI identity's. The program guard
 * counts only a recent request signed by the approval's deployer, so separation of duties rests on signatures, not on
 * a name typed into the approval.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type ApprovalRecord,
  describeZodError,
  type UpdateRequestRecord,
  updateRequestRecordSchema,
} from "./model";
import { evidenceTimestamp, jsonRecordFiles, recordsDir } from "./paths";
import { type InvalidRecord } from "./reader";
import { type ReleaseBinding } from "./signed";
import { sshKeygenSign } from "./sshsig";
import { recordSignatureProblem, type Roster } from "./trust";

/** `<evidenceDir>/<stack>/records/update-requests` */
export function updateRequestsDir(evidenceDir: string, stack: string): string {
  return path.join(recordsDir(evidenceDir, stack), "update-requests");
}

/** Accepted clock skew for a request dated slightly in the future. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** Every update request of a stack, validated; unreadable ones apart (they count for nothing). */
export function readUpdateRequests(
  evidenceDir: string,
  stack: string,
): { requests: (UpdateRequestRecord & { path: string })[]; invalid: InvalidRecord[] } {
  const dir = updateRequestsDir(evidenceDir, stack);
  const requests: (UpdateRequestRecord & { path: string })[] = [];
  const invalid: InvalidRecord[] = [];
  const names = jsonRecordFiles(dir);
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const r = updateRequestRecordSchema.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
      if (!r.success) throw new Error(describeZodError(r.error));
      if (r.data.stack !== stack) throw new Error(`stack: the request names stack "${r.data.stack}"`);
      requests.push({ ...r.data, path: file });
    } catch (e) {
      invalid.push({ path: file, error: (e as Error).message });
    }
  }
  return { requests, invalid };
}

/**
 * Writes an update request signed with `sshKey` (`ssh-keygen -Y sign`): the record and its signature are made under
 * temporary names and moved into place once signed, so a failed signature leaves nothing behind. Returns the path.
 */
export function writeUpdateRequest(
  evidenceDir: string,
  request: UpdateRequestRecord,
  sshKey: string,
  at: Date,
): string {
  const r = updateRequestRecordSchema.safeParse(request);
  if (!r.success) throw new Error(`invalid update-request record: ${describeZodError(r.error)}`);
  const dir = updateRequestsDir(evidenceDir, r.data.stack);
  fs.mkdirSync(dir, { recursive: true });
  const safe = r.data.release.replace(/[^A-Za-z0-9._-]/g, "_");
  const base = `update-request-${safe}-${evidenceTimestamp(at)}`;
  let file = path.join(dir, `${base}.json`);
  for (let n = 2; fs.existsSync(file); n++) file = path.join(dir, `${base}-${n}.json`);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, `${JSON.stringify(r.data, null, 2)}\n`, { flag: "wx" });
  try {
    sshKeygenSign(tmp, sshKey);
    fs.renameSync(`${tmp}.sig`, `${file}.sig`);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
    fs.rmSync(`${tmp}.sig`, { force: true });
  }
  return file;
}

/**
 * Why an update request does not present the deployer of `approval` for the release in `binding`, or undefined
 * when it does: signed by the person it names, that person the approval's deployer, bound to the same stack, release,
 * digests and bundle, and at most `maxAgeMinutes` old.
 */
export function updateRequestProblem(
  r: UpdateRequestRecord & { readonly path: string },
  roster: Roster,
  approval: ApprovalRecord,
  binding: ReleaseBinding,
  now: Date,
  maxAgeMinutes: number,
): string | undefined {
  if (r.stack !== binding.stack) return `it is for stack ${r.stack}`;
  if (r.release !== binding.release) return `it is for release ${r.release}`;
  const age = now.getTime() - Date.parse(r.createdAt);
  if (age > maxAgeMinutes * 60_000) {
    return `it was made at ${r.createdAt}, ${Math.round(age / 60_000)} min ago; threshold: at most ${maxAgeMinutes} min (policy/config/production.json)`;
  }
  if (age < -CLOCK_SKEW_MS) return `it is dated in the future (${r.createdAt})`;
  if (r.requestedBy !== approval.deployer) {
    return `it is requested by ${r.requestedBy}, but the approval by ${approval.approvedBy} names ${approval.deployer ?? "no one"} as the deployer`;
  }
  if (r.imageDigests.api !== binding.digests.api || r.imageDigests.worker !== binding.digests.worker) {
    return "it is not bound to the digests the stack deploys";
  }
  if (binding.bundle === undefined || r.bundleSha256 !== binding.bundle.contentSha256) {
    return `it is bound to bundle ${r.bundleSha256}, not the newest signed bundle ${binding.bundle?.contentSha256 ?? "(none)"}`;
  }
  return recordSignatureProblem(r.path, r.requestedBy, roster);
}
