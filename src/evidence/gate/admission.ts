/**
 * What admitted a release (its bundle and approval), recorded in stack history with each update: a later rollback to
 * that update is admitted by the same bundle and approval.
 */
import * as fs from "node:fs";
import { sha256 } from "../model";
import { validApprovals } from "../verifier";
import { countingApproval } from "./approval";
import { evaluateSections, passes } from "./evaluate";
import { type GateView, signedBundleOf } from "./view";

/** What admitted a release: the bundle's content hash and the approval record's sha256 (for stack history). */
export interface Admission {
  readonly release: string;
  readonly bundleSha256: string;
  readonly approvalSha256?: string;
}

/** The admission of the release a stack deploys now, when its gate passes; undefined when it does not. */
export function admissionOfView(view: GateView): Admission | undefined {
  const input = view.input;
  if (!input.settings.ok) return undefined;
  if (!passes(evaluateSections(view))) return undefined;
  const rollback = view.rollback;
  const release = input.settings.settings.release;
  if (rollback !== undefined) {
    return {
      release,
      bundleSha256: rollback.bundleSha256,
      ...(rollback.approvalSha256 !== undefined ? { approvalSha256: rollback.approvalSha256 } : {}),
    };
  }
  if (input.stackClass.production) {
    const signed = signedBundleOf(view);
    if (!("status" in signed) || signed.status !== "ok") return undefined;
    const approval = countingApproval(view).approval;
    return {
      release,
      bundleSha256: signed.bundle.contentSha256,
      ...(approval !== undefined ? { approvalSha256: sha256(fs.readFileSync(approval.path)) } : {}),
    };
  }
  const lookup = view.plainNewest;
  if (lookup.status !== "ok") return undefined;
  const approval = validApprovals(
    view.records.approvals,
    input.stack,
    release,
    input.now,
    input.enforcement.approverRoles,
  )[0];
  return {
    release,
    bundleSha256: lookup.bundle.contentSha256,
    ...(approval !== undefined ? { approvalSha256: sha256(fs.readFileSync(approval.path)) } : {}),
  };
}

const ADMISSION_PREFIX = "nova-rollout admission ";

/** The update message that records an admission in stack history. */
export function admissionMessage(a: Admission, what: string): string {
  return `${what}; ${ADMISSION_PREFIX}${JSON.stringify(a)}`;
}

/** Reads an admission back from an update message; undefined when the message carries none. */
export function parseAdmission(message: string | undefined): Admission | undefined {
  if (message === undefined) return undefined;
  const at = message.indexOf(ADMISSION_PREFIX);
  if (at < 0) return undefined;
  try {
    const v = JSON.parse(message.slice(at + ADMISSION_PREFIX.length)) as Partial<Admission>;
    if (
      typeof v.release !== "string" ||
      typeof v.bundleSha256 !== "string" ||
      !/^[0-9a-f]{64}$/.test(v.bundleSha256)
    ) {
      return undefined;
    }
    return {
      release: v.release,
      bundleSha256: v.bundleSha256,
      ...(typeof v.approvalSha256 === "string" ? { approvalSha256: v.approvalSha256 } : {}),
    };
  } catch {
    return undefined;
  }
}
