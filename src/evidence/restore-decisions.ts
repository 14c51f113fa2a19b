/**
 * The incident commander's decision to restore a dump over a stack's live database (playbook §7, the fatal case):
 * `rollout authorize-restore` writes it, signed with the incident commander's SSH key, into
 * `<evidenceDir>/<stack>/records/restore-db/`; `rollout restore-db --over-live` acts on it once. It lives apart from
 * the gate's records (`records/`): the gate reads every record there and fails closed on a kind it does not know.
 *
 * A decision counts when it is signed by the roster person it names, who holds the incident-commander role; names
 * this stack and the exact dump (its sha256); has not expired (at most {@link RESTORE_DECISION_MAX_HOURS}); and has not
 * been used (`<record>.used`, written before the restore starts, so a decision never restores twice).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { describeZodError } from "./model";
import { evidenceStem, jsonRecordFiles, recordsDir } from "./paths";
import { hasRole, INCIDENT_COMMANDER_ROLE, recordSignatureProblem, type Roster, rosterPerson } from "./trust";

/** The longest a decision to overwrite a live database may stand. */
export const RESTORE_DECISION_MAX_HOURS = 2;

const isoTimestamp = z.iso.datetime({ offset: true });
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex characters");

export const restoreDecisionSchema = z
  .object({
    kind: z.literal("restore-db"),
    stack: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9_.\-/]+$/, "must be a Pulumi stack name"),
    /** Where the dump is (a path or `gs://` object), as `restore-db` will be given it. */
    dump: z.string().min(1),
    /** sha256 of the dump's bytes: the decision restores this dump and no other. */
    dumpSha256: sha256Hex,
    incidentCommander: z.string().min(1),
    reason: z.string().min(1),
    createdAt: isoTimestamp,
    expiresAt: isoTimestamp,
  })
  .strict()
  .refine((r) => Date.parse(r.expiresAt) > Date.parse(r.createdAt), {
    message: "expiresAt must be after createdAt",
    path: ["expiresAt"],
  });
export type RestoreDecision = z.infer<typeof restoreDecisionSchema>;

/** Validates a decision; throws one error listing every problem. */
export function validateRestoreDecision(record: unknown): RestoreDecision {
  const r = restoreDecisionSchema.safeParse(record);
  if (!r.success) throw new Error(`invalid restore-db decision: ${describeZodError(r.error)}`);
  return r.data;
}

/** `<evidenceDir>/<stack>/records/restore-db`. */
export function restoreDecisionsDir(evidenceDir: string, stack: string): string {
  return path.join(recordsDir(evidenceDir, stack), "restore-db");
}

/** `restore-db-<stack>-<timestamp>.json`. */
export function restoreDecisionFileName(stack: string, at: Date, attempt = 0): string {
  return `restore-db-${stack.replace(/[^A-Za-z0-9._-]/g, "_")}-${evidenceStem(at, attempt)}.json`;
}

/** The marker that a decision was acted on: `<record>.used`. */
export function usedMarker(file: string): string {
  return `${file}.used`;
}

/** What a decision is checked against when `restore-db --over-live` runs. */
export interface RestoreIntent {
  readonly stack: string;
  readonly dumpSha256: string;
  readonly now: Date;
}

/** Why the decision in `file` does not allow this restore, or undefined when it does. */
export function restoreDecisionProblem(
  file: string,
  roster: Roster,
  intent: RestoreIntent,
): string | undefined {
  let decision: RestoreDecision;
  try {
    decision = validateRestoreDecision(JSON.parse(fs.readFileSync(file, "utf8")));
  } catch (e) {
    return (e as Error).message;
  }
  const ic = decision.incidentCommander;
  const person = rosterPerson(roster, ic);
  if (person === undefined) return `${ic} is not in the roster`;
  if (!hasRole(person, [INCIDENT_COMMANDER_ROLE])) {
    return `${ic} has no ${INCIDENT_COMMANDER_ROLE} role in the roster (roles: ${person.roles.join(", ")})`;
  }
  const signature = recordSignatureProblem(file, ic, roster);
  if (signature !== undefined) return signature;
  if (decision.stack !== intent.stack) return `it is for stack ${decision.stack}`;
  if (decision.dumpSha256 !== intent.dumpSha256) {
    return `it names another dump (${decision.dump}, sha256 ${decision.dumpSha256.slice(0, 12)}…; this one is ${intent.dumpSha256.slice(0, 12)}…)`;
  }
  const hours = (Date.parse(decision.expiresAt) - Date.parse(decision.createdAt)) / 3_600_000;
  if (hours > RESTORE_DECISION_MAX_HOURS) {
    return `it stands for ${hours.toFixed(1)} h; at most ${RESTORE_DECISION_MAX_HOURS} h`;
  }
  if (Date.parse(decision.expiresAt) <= intent.now.getTime()) return `it expired at ${decision.expiresAt}`;
  if (Date.parse(decision.createdAt) > intent.now.getTime() + 5 * 60_000) {
    return `it is dated in the future (${decision.createdAt})`;
  }
  if (fs.existsSync(usedMarker(file))) return "it was used already (a decision restores once)";
  return undefined;
}

/** The decision files of a stack, newest first. */
export function restoreDecisionFiles(evidenceDir: string, stack: string): string[] {
  const dir = restoreDecisionsDir(evidenceDir, stack);
  return jsonRecordFiles(dir)
    .reverse()
    .map((n) => path.join(dir, n));
}

/**
 * The decision that allows this restore (the newest that does), or every reason none does: one line per decision on
 * file, naming its file.
 */
export function findRestoreDecision(
  evidenceDir: string,
  roster: Roster,
  intent: RestoreIntent,
): { file: string } | { problems: string[] } {
  const problems: string[] = [];
  for (const file of restoreDecisionFiles(evidenceDir, intent.stack)) {
    const problem = restoreDecisionProblem(file, roster, intent);
    if (problem === undefined) return { file };
    problems.push(`${path.basename(file)}: ${problem}`);
  }
  return { problems };
}
