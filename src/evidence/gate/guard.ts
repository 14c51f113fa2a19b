/**
 * The program guard's view of the gate (`index.ts` runs it before a real update of a production stack): every section,
 * the deployer's signed update request, the `rollbackOf` flag, and advisory notes on records that block nothing.
 */
import { type Finding } from "../model";
import { type StackClass } from "../stack-class";
import { freezeProblem } from "../signed";
import { readUpdateRequests, updateRequestProblem } from "../update-requests";
import { PROJECT_NAME, type SettingsResult } from "../../config/stack-view";
import { countingApproval } from "./approval";
import { evaluateSections, gateView } from "./evaluate";
import { GATE_SECTIONS, rel, rolloutCmd } from "./input";
import { gateInputFor, gateInputOfSettings } from "./stack-input";
import { bindingOf, concernsNow, type GateView, signedBundleOf } from "./view";

/** Renders findings as a checklist: each finding once, with its fix. */
export function formatFindings(header: string, findings: readonly Finding[]): string {
  const lines = findings.map((f, i) => `  ${i + 1}. [${f.checkId}] ${f.message}\n     fix: ${f.remedy}`);
  return [header, ...lines].join("\n");
}

/**
 * Advisory lines: production records that do not count but concern no release now (another release, expired), and
 * freeze windows that do not count while another one does. They never block; `rollout status` shows them.
 */
export function recordNotesOf(view: GateView): string[] {
  const input = view.input;
  if (!input.stackClass.production) return [];
  const roster = view.roster;
  const signed = view.signed;
  if (roster === undefined || "checkId" in roster || signed === undefined) return [];
  const notes = signed.rejected
    .filter((r) => !concernsNow(view, r.path))
    .map(
      (r) => `${r.kind} record ${rel(input, r.path)} does not count (${r.why}); it concerns no release now.`,
    );
  for (const f of signed.records.freezes) {
    const why = freezeProblem(f, roster, input.enforcement.freezeRoles, input.enforcement.freezeMaxDays);
    if (why !== undefined) notes.push(`freeze record ${rel(input, f.path)} does not count: ${why}.`);
  }
  return notes;
}

/**
 * The update request, checked where a real update starts (the program guard, {@link gateForStack}; a preview needs
 * none): a production release rolls out only when the deployer its approval names has presented a signed request for
 * exactly this release, at most `updateRequestMaxAgeMinutes` old. A rollback's own signed record is its request.
 */
export function updateRequestFindingsOf(view: GateView): Finding[] {
  const input = view.input;
  if (!input.stackClass.production || !input.settings.ok || view.rollback !== undefined) return [];
  const roster = view.roster;
  // Without a roster, a counting approval or a release binding, the other sections already block.
  if (roster === undefined || "checkId" in roster) return [];
  const approval = countingApproval(view).approval;
  const binding = bindingOf(view, signedBundleOf(view));
  if (approval === undefined || binding === undefined) return [];
  const max = input.enforcement.updateRequestMaxAgeMinutes;
  const judged = readUpdateRequests(input.evidenceDir, input.stack)
    .requests.filter((r) => r.release === binding.release)
    .map((r) => ({ r, why: updateRequestProblem(r, roster, approval, binding, input.now, max) }));
  if (judged.some((j) => j.why === undefined)) return [];
  const seen =
    judged.length === 0
      ? "none for this release"
      : judged.map((j) => `${rel(input, j.r.path)} by ${j.r.requestedBy}: ${j.why ?? ""}`).join("; ");
  const deployer = approval.deployer ?? "<the approval's deployer>";
  return [
    {
      checkId: "update-request",
      message: `No signed update request by ${deployer}, the deployer the approval by ${approval.approvedBy} names, for stack ${input.stack} release ${binding.release} (found: ${seen}); threshold: signed with ${deployer}'s roster key, at most ${max} min old, bound to both digests and the newest signed bundle.`,
      remedy: rolloutCmd(
        `up --stack ${input.stack} --as ${deployer} --ssh-key <their key> (before a plain pulumi up: ${rolloutCmd(`request-update --stack ${input.stack} --as ${deployer} --ssh-key <their key>`)})`,
      ),
    },
  ];
}

/** The verdict of the program guard for one stack. */
export interface StackGateVerdict {
  readonly stackClass: StackClass;
  /** Every finding, each once, in section order; empty = ready (or not production). */
  readonly findings: readonly Finding[];
  /** Records that do not count but block nothing (another release, expired); see `recordNotes`. */
  readonly advisories: readonly string[];
}

/**
 * The program guard's view of the gate: from the stack config the engine gave the program, decide whether the stack
 * is production and, if so, every reason it is not ready. The committed enforcement missing or broken makes every
 * stack production with that one finding (fail closed). One trusted view serves every part of the verdict.
 */
export function gateForStack(opts: {
  readonly stack: string;
  /** The flat `nova-rollout:<key>` config map of the stack. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly projectDir: string;
  readonly now: Date;
  /** The settings the caller already parsed from `config` (the program's): judged as they are, not parsed again. */
  readonly settings?: SettingsResult;
}): StackGateVerdict {
  const input =
    opts.settings === undefined
      ? gateInputFor(opts)
      : gateInputOfSettings({ ...opts, settings: opts.settings });
  if ("enforcementError" in input) {
    return {
      stackClass: { production: true, protectedTargets: [] },
      findings: [
        {
          checkId: "enforcement",
          message: `${input.enforcementError}; every stack counts as production until it is restored.`,
          remedy: "git checkout -- policy/config/production.json",
        },
      ],
      advisories: [],
    };
  }
  if (!input.stackClass.production) return { stackClass: input.stackClass, findings: [], advisories: [] };
  const view = gateView(input);
  const sections = evaluateSections(view);
  return {
    stackClass: input.stackClass,
    findings: [
      ...GATE_SECTIONS.flatMap((s) => sections[s]),
      ...updateRequestFindingsOf(view),
      ...rollbackOfFindings(view, opts.config),
    ],
    advisories: recordNotesOf(view),
  };
}

/**
 * `nova-rollout:rollbackOf` makes the program skip the database dump and the migration rehearsal. On a production
 * stack it counts only for the rollback it was written for: an admitted rollback record for exactly the release and
 * digests the stack deploys. Set by hand on a new release, it would skip the dump taken before every release.
 */
function rollbackOfFindings(view: GateView, config: Readonly<Record<string, unknown>>): Finding[] {
  const value = config[`${PROJECT_NAME}:rollbackOf`];
  if (typeof value !== "string" || value === "") return [];
  if (view.rollback !== undefined) return [];
  return [
    {
      checkId: "rollback-of",
      message: `nova-rollout:rollbackOf is set (${value}) but no admitted rollback record is on file for this release and digests; only \`rollout rollback\` sets it, for its own update, and a release with it would skip the database dump.`,
      remedy: `pulumi config rm nova-rollout:rollbackOf --stack ${view.input.stack}`,
    },
  ];
}
