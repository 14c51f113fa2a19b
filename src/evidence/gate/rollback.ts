/**
 * Rollback admission: the rollback records on file for the release a stack deploys, and whether one admits it (by
 * what admitted the release it restores, plus the record). Which record the gate judges by is decided once per
 * evaluation (`./evaluate.ts`).
 */
import * as fs from "node:fs";
import {
  bundleContentHash,
  type Finding,
  ROLLBACK_RECORD_MAX_HOURS,
  type RollbackRecord,
  serializeBundle,
  sha256,
} from "../model";
import { recordsDir } from "../paths";
import { approvalProblem, productionOverrideProblem } from "../signed";
import { hasRole, type Roster, rosterPerson } from "../trust";
import { type GateInput, rel } from "./input";
import { type GateView, productionRecords } from "./view";

/**
 * The rollback records on file for the release the stack now deploys: same stack, release and both digests, created
 * (within clock skew) before now, unexpired, and no longer-lived than ROLLBACK_RECORD_MAX_HOURS. In production only
 * records signed by the person they name.
 */
export function rollbackRecordsOf(view: GateView): RollbackRecord[] {
  const input = view.input;
  if (!input.settings.ok) return [];
  const s = input.settings.settings;
  const t = input.now.getTime();
  const rollbacks = input.stackClass.production
    ? productionRecords(view, "rollback").records.rollbacks
    : view.records.rollbacks;
  return rollbacks.filter(
    (r) =>
      r.stack === input.stack &&
      r.release === s.release &&
      r.imageDigests.api === s.digests.api &&
      r.imageDigests.worker === s.digests.worker &&
      Date.parse(r.createdAt) <= t + 5 * 60_000 &&
      t < Date.parse(r.expiresAt) &&
      Date.parse(r.expiresAt) - Date.parse(r.createdAt) <= ROLLBACK_RECORD_MAX_HOURS * 3_600_000,
  );
}

const targetRemedy = (input: GateInput) =>
  `npm run rollout -- rollback --stack ${input.stack} --to <version> (a target whose admission is intact)`;

/**
 * Readiness of a rollback: the bundle that admitted the restored release still exists, is intact (content hash and
 * bytes as preflight wrote them), belongs to this stack and is bound to exactly the digests being restored, and every
 * check in it passed then. In production also: the requester holds a role allowed to roll back; the approval that
 * admitted the release (named by the record) is still on file, signed by a leader and, expiry aside, valid and bound
 * to the same bundle and digests; a `waived` check is accepted only while its override still verifies. Freshness, the
 * freeze and a new approval are not required.
 */
export function rollbackFindings(view: GateView, record: RollbackRecord): Finding[] {
  const input = view.input;
  const remedy = targetRemedy(input);
  const roster = view.roster;
  if (roster !== undefined && "checkId" in roster) return [roster];
  const found =
    roster !== undefined
      ? (view.signedBundles?.ok ?? [])
          .map((b) => ({ ...b, bytes: Buffer.from(serializeBundle(b.bundle), "utf8") }))
          .find((b) => b.bundle.contentSha256 === record.bundleSha256)
      : view.plainBundles.find((b) => b.bundle.contentSha256 === record.bundleSha256);
  const out: Finding[] = roster !== undefined ? rollbackPeopleFindings(view, record, roster) : [];
  if (found === undefined) {
    return [
      ...out,
      {
        checkId: "rollback",
        message: `The bundle sha256:${record.bundleSha256} that admitted release ${record.release} (update ${record.targetVersion}) is not in ${rel(input, input.evidenceDir)}/${input.stack}; a rollback is admitted only by the intact bundle of the release it restores.`,
        remedy,
      },
    ];
  }
  const { contentSha256, ...body } = found.bundle;
  if (
    bundleContentHash(body) !== contentSha256 ||
    !Buffer.from(serializeBundle(found.bundle), "utf8").equals(found.bytes)
  ) {
    out.push({
      checkId: "rollback",
      message: `The bundle ${rel(input, found.path)} that admitted release ${record.release} was modified after preflight wrote it.`,
      remedy,
    });
  }
  const b = found.bundle;
  if (
    b.stack !== input.stack ||
    b.release !== record.release ||
    b.imageDigests.api !== record.imageDigests.api ||
    b.imageDigests.worker !== record.imageDigests.worker
  ) {
    out.push({
      checkId: "rollback",
      message: `The bundle ${rel(input, found.path)} is for stack ${b.stack} release ${b.release} (api ${b.imageDigests.api}, worker ${b.imageDigests.worker}), not the release being restored.`,
      remedy,
    });
  }
  const failed = b.checks.filter((c) => c.verdict === "fail").map((c) => c.id);
  if (failed.length > 0) {
    out.push({
      checkId: "rollback",
      message: `The bundle that admitted release ${record.release} records failed checks (${failed.join(", ")}); it never admitted that release.`,
      remedy,
    });
  }
  if (roster !== undefined) out.push(...waivedCheckFindings(view, record, b, roster));
  return out;
}

/** Production rollback rules on people: who may request it, and the approval that admitted the target. */
function rollbackPeopleFindings(view: GateView, record: RollbackRecord, roster: Roster): Finding[] {
  const input = view.input;
  const out: Finding[] = [];
  const roles = input.enforcement.rollbackRoles;
  const requester = rosterPerson(roster, record.requestedBy);
  if (requester === undefined || !hasRole(requester, roles)) {
    out.push({
      checkId: "rollback",
      message: `Rollback record by ${record.requestedBy} admits nothing: their roster roles [${requester?.roles.join(", ") ?? "none"}] include no role allowed to roll back [${roles.join(", ")}] (policy/config/production.json nova-readiness-gate.rollbackRoles).`,
      remedy: `ask someone with one of those roles to request it: npm run rollout -- rollback --stack ${input.stack} --to ${record.targetVersion} --by <their roster name> --ssh-key <their key>`,
    });
  }
  const neverAdmitted = `a production rollback restores only a release the gate admitted before (its bundle and leadership approval, recorded in stack history)`;
  const admittedRemedy = `npm run rollout -- history --stack ${input.stack}, then rollback --to <a version whose admission names an approval>; a release never approved is released as a new one (preflight, freeze, approve, up)`;
  if (record.approvalSha256 === undefined) {
    out.push({
      checkId: "rollback",
      message: `The rollback record by ${record.requestedBy} for release ${record.release} names no approval: ${neverAdmitted}.`,
      remedy: admittedRemedy,
    });
    return out;
  }
  const approvals = view.signed?.records.approvals ?? [];
  const approval = approvals.find((a) => fileSha256(a.path) === record.approvalSha256);
  if (approval === undefined) {
    out.push({
      checkId: "rollback",
      message: `The approval sha256:${record.approvalSha256} that the rollback to release ${record.release} relies on is not on file in ${rel(input, recordsDir(input.evidenceDir, input.stack))} (or not signed by the person it names): ${neverAdmitted}.`,
      remedy: admittedRemedy,
    });
    return out;
  }
  const signed = view.signedBundles?.ok.find((b) => b.bundle.contentSha256 === record.bundleSha256);
  const why = approvalProblem(
    approval,
    roster,
    input.enforcement.approverRoles,
    {
      stack: input.stack,
      release: record.release,
      digests: record.imageDigests,
      bundle: {
        contentSha256: record.bundleSha256,
        signer: signed?.signer ?? "(unknown)",
        ...(signed?.bundle.ranBy !== undefined ? { ranBy: signed.bundle.ranBy } : {}),
      },
    },
    input.now,
    { ignoreExpiry: true },
  );
  if (why !== undefined) {
    out.push({
      checkId: "rollback",
      message: `The approval ${rel(input, approval.path)} that admitted release ${record.release} no longer admits it: ${why}.`,
      remedy: admittedRemedy,
    });
  }
  return out;
}

/** A `waived` check of a rollback target counts only while a signed override for it still verifies. */
function waivedCheckFindings(
  view: GateView,
  record: RollbackRecord,
  bundle: { readonly createdAt: string; readonly checks: readonly { id: string; verdict: string }[] },
  roster: Roster,
): Finding[] {
  const input = view.input;
  const waived = bundle.checks.filter((c) => c.verdict === "waived").map((c) => c.id);
  if (waived.length === 0) return [];
  // Judged as of the preflight that applied it (it has expired since, as overrides do), bound to the same release.
  const at = new Date(bundle.createdAt);
  const valid = (view.signed?.records.overrides ?? []).filter(
    (o) =>
      productionOverrideProblem(
        o,
        roster,
        input.enforcement.overrideMaxHours,
        {
          stack: input.stack,
          release: record.release,
          digests: record.imageDigests,
          bundle: { contentSha256: o.bundleSha256 ?? "", signer: "" },
        },
        at,
      ) === undefined,
  );
  const unbacked = waived.filter(
    (id) => !valid.some((o) => (o.waivedChecks as readonly string[]).includes(id)),
  );
  if (unbacked.length === 0) return [];
  return [
    {
      checkId: "rollback",
      message: `The bundle that admitted release ${record.release} records waived checks (${unbacked.join(", ")}) that no signed break-glass override on file still backs (roster incident commander, bound to the release and digests, valid when the preflight ran); it never admitted that release.`,
      remedy: targetRemedy(input),
    },
  ];
}

/** sha256 of a file's bytes, or undefined when it cannot be read. */
export function fileSha256(file: string): string | undefined {
  try {
    return sha256(fs.readFileSync(file));
  } catch {
    return undefined;
  }
}
