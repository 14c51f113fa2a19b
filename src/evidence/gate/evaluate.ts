/**
 * One evaluation of the gate: the trusted view of a stack (made once per input), the rollback-or-new decision taken
 * on it, and every section judged on the decided view.
 */
import { type Finding, type RollbackRecord } from "../model";
import { baselineFindings } from "./baseline";
import { approvalSection } from "./approval";
import { freezeSection } from "./freeze";
import { GATE_SECTIONS, type GateInput, type GateSection } from "./input";
import { readinessSection } from "./readiness";
import { rollbackFindings, rollbackRecordsOf } from "./rollback";
import { GateView } from "./view";

/** Every section of the gate on a decided view. */
export function evaluateSections(view: GateView): Record<GateSection, Finding[]> {
  const input = view.input;
  return {
    baseline: input.settings.ok
      ? baselineFindings(input.settings.settings, input.enforcement.baseline, input.stackClass)
      : [],
    readiness: readinessSection(view),
    freeze: freezeSection(view),
    approval: approvalSection(view),
  };
}

/** Whether every section passes. */
export function passes(sections: Record<GateSection, Finding[]>): boolean {
  return GATE_SECTIONS.every((section) => sections[section].length === 0);
}

/**
 * The rollback record the gate judges the stack by, if any: a record on file for the release the stack now deploys
 * (see `rollbackRecordsOf`), one that admits it when there is such a record. When none admits it (its bundle or
 * approval gone or altered, a requester without a rollback role) but the release is ready as a new one (fresh bundle,
 * freeze, approval), the records are set aside: the stricter path admits it, so the relaxed one never blocks a release
 * that passes on its own. `asNew` is the view judged as a new release; the decision reuses what it read and verified.
 */
function decideRollback(asNew: GateView): RollbackRecord | undefined {
  if (asNew.input.asNewRelease === true) return undefined;
  const candidates = rollbackRecordsOf(asNew);
  const admitting = candidates.find((r) => rollbackFindings(asNew, r).length === 0);
  if (admitting !== undefined) return admitting;
  const first = candidates[0];
  if (first === undefined) return undefined;
  return passes(evaluateSections(asNew)) ? undefined : first;
}

const views = new WeakMap<GateInput, GateView>();

/**
 * The decided view of an input, made once per input object: the same input asked again (by another section, the
 * program guard, the admission) reuses what was read and verified.
 */
export function gateView(input: GateInput): GateView {
  const known = views.get(input);
  if (known !== undefined) return known;
  const asNew = GateView.of(input);
  const view = asNew.withRollback(decideRollback(asNew));
  views.set(input, view);
  return view;
}
