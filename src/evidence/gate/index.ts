/**
 * The one definition of "ready to roll out". The policy pack reports each section under its own policy; the program
 * guard (`index.ts`) runs all of them before a real update of a production stack. Every function here is pure apart
 * from reading the evidence directory, and returns findings (empty = ready); nothing throws for a user mistake.
 *
 * Each function takes a {@link GateInput}; the trusted view of an input (records with verified signatures, signed
 * bundles, the rollback-or-new decision) is made once and shared by every function asked about the same input.
 */
import { type ApprovalRecord, type Finding, type RollbackRecord } from "../model";
import { type SignedBundleLookup } from "../signed";
import { type FreezeLiftRecord } from "../post-launch-records";
import { type StackRecords } from "../reader";
import { type Admission, admissionOfView } from "./admission";
import { approvalSection, countingApproval as countingApprovalOf } from "./approval";
import { evaluateSections, gateView } from "./evaluate";
import { freezeSection } from "./freeze";
import { recordNotesOf, updateRequestFindingsOf } from "./guard";
import { type GateInput, type GateSection } from "./input";
import { readinessSection } from "./readiness";
import { rollbackFindings as rollbackFindingsOf } from "./rollback";
import { signedBundleOf as signedBundleOfView } from "./view";

export { GATE_SECTIONS, type GateInput, type GateSection } from "./input";
export { gateInputFor, gateInputOfSettings, type GateInputResult } from "./stack-input";
export { baselineFindings } from "./baseline";
export { weakenedThresholdFindings } from "./readiness";
export { formatFindings, gateForStack, type StackGateVerdict } from "./guard";
export { admissionMessage, parseAdmission, type Admission } from "./admission";

/** Every section of the gate for one stack. */
export function evaluateGate(input: GateInput): Record<GateSection, Finding[]> {
  return evaluateSections(gateView(input));
}

/** The readiness section: the newest bundle verified, and (production) judged with the committed thresholds. */
export function readinessFindings(input: GateInput): Finding[] {
  return readinessSection(gateView(input));
}

/**
 * The freeze section: production rolls out only inside an active change-freeze window on record. A window named by a
 * freeze lift (`rollout post-launch`) ends at the lift.
 */
export function freezeFindings(input: GateInput, environments?: readonly string[]): Finding[] {
  return freezeSection(gateView(input), environments);
}

/** The approval section: an unexpired leadership approval for this stack and release. */
export function approvalFindings(input: GateInput, environments?: readonly string[]): Finding[] {
  return approvalSection(gateView(input), environments);
}

/** The production approval that counts (signed, roster leadership, not the deployer or preflight, bound). */
export function countingApproval(input: GateInput): {
  approval?: ApprovalRecord & { path: string };
  findings: Finding[];
} {
  return countingApprovalOf(gateView(input));
}

/** The newest signed bundle of a stack (the committed roster's preflight keys), or the roster finding. */
export function signedBundleOf(input: GateInput): SignedBundleLookup | Finding {
  return signedBundleOfView(gateView(input));
}

/**
 * Freeze lifts that count for a stack (post-launch records): in production only those signed by the roster person
 * they name (`liftedBy`); findings for the others and for unreadable lift files (fail closed, like records).
 */
export function freezeLiftsOf(input: GateInput): { lifts: FreezeLiftRecord[]; findings: Finding[] } {
  return gateView(input).lifts;
}

/**
 * The rollback record the gate judges the stack by, if any: one on file for the release the stack now deploys that
 * admits it; a record that admits nothing is set aside when the release is ready as a new one.
 */
export function activeRollback(input: GateInput): RollbackRecord | undefined {
  return gateView(input).rollback;
}

/**
 * Readiness of a rollback: the bundle that admitted the restored release is intact, bound to the digests being
 * restored and every check in it passed; in production also the requester's role and the approval that admitted it.
 */
export function rollbackFindings(input: GateInput, record: RollbackRecord): Finding[] {
  return rollbackFindingsOf(gateView(input), record);
}

/**
 * Advisory lines: production records that do not count but concern no release now (another release, expired), and
 * freeze windows that do not count while another one does. They never block; `rollout status` shows them.
 */
export function recordNotes(input: GateInput): string[] {
  return recordNotesOf(gateView(input));
}

/**
 * The update request, checked where a real update starts (the program guard, `gateForStack`; a preview needs none): a
 * production release rolls out only when the deployer its approval names has presented a signed request for exactly
 * this release. A rollback's own signed record is its request.
 */
export function updateRequestFindings(input: GateInput): Finding[] {
  return updateRequestFindingsOf(gateView(input));
}

/** The stack's records as the gate read them for `input` (nothing verified; read once per input). */
export function stackRecordsOf(input: GateInput): StackRecords {
  return gateView(input).records;
}

/** The admission of the release a stack deploys now, when its gate passes; undefined when it does not. */
export function admissionOf(input: GateInput): Admission | undefined {
  return admissionOfView(gateView(input));
}
