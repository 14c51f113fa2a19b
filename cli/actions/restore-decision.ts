/**
 * The incident commander's decision behind `restore-db --over-live`: `rollout authorize-restore` records it (signed,
 * bound to the stack and the dump's sha256, short-lived), and `restore-db --over-live` finds it, checks it against the
 * stack's roster and marks it used before restoring. The dump is read once into a private local copy: the bytes
 * hashed are the bytes restored.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  DEFAULT_ROSTER_PATH,
  hasRole,
  INCIDENT_COMMANDER_ROLE,
  loadProductionEnforcement,
  readRosterSource,
  RecordSigningError,
  recordSigningKey,
  type Roster,
  rosterPerson,
  sandboxRosterSource,
  writeSignedRecord,
} from "../../src/evidence";
import {
  RESTORE_DECISION_MAX_HOURS,
  restoreDecisionProblem,
  usedMarker,
} from "../../src/evidence/restore-decisions";
import { loadStackSettingsFromFile } from "../../src/config/stack-file";
import { stackEnforcement } from "../engine";
import { EXIT, UserError } from "../errors";
import { dumpSha256, newestDump } from "./dumps";
import { stackFileView } from "./stack";

/**
 * The roster a stack's restore decisions are judged by: production's committed enforcement roster for a production
 * stack, the sandbox roster for a sandbox stack, the committed roster otherwise. Throws when it cannot be read.
 */
export function decisionRoster(projectDir: string, stack: string): Roster {
  const { level } = stackEnforcement(projectDir, stack);
  const source =
    level === "production"
      ? { roster: loadProductionEnforcement(projectDir).roster }
      : level === "local"
        ? sandboxRosterSource(projectDir)
        : readRosterSource(path.join(projectDir, DEFAULT_ROSTER_PATH));
  if (source === undefined) {
    throw new UserError(`stack ${stack}: the sandbox enforcement names no roster inside .sandbox/`);
  }
  if ("error" in source.roster) throw new UserError(source.roster.error);
  return source.roster;
}

export interface AuthorizeRestoreOptions {
  readonly stack: string;
  readonly projectDir: string;
  readonly evidenceDir?: string;
  readonly incidentCommander: string;
  readonly reason: string;
  /** Default: the stack's newest dump. */
  readonly dump?: string;
  readonly expiresInMinutes: string;
  readonly sshKey?: string;
}

/** `authorize-restore`: records the incident commander's signed decision to restore one dump over the live database. */
export async function authorizeRestore(
  o: AuthorizeRestoreOptions,
): Promise<{ stack: string; record: string; signature: string; dump: string; dumpSha256: string }> {
  const minutes = Number(o.expiresInMinutes);
  if (!(minutes > 0) || minutes > RESTORE_DECISION_MAX_HOURS * 60) {
    throw new UserError(`--expires-in-minutes must be > 0 and at most ${RESTORE_DECISION_MAX_HOURS * 60}`);
  }
  const key = recordSigningKey(o.sshKey);
  if (key === undefined) {
    throw new UserError(
      "authorize-restore: the decision must be signed by the incident commander (--ssh-key or NOVA_SSH_KEY_FILE); nothing was recorded",
    );
  }
  const roster = decisionRoster(o.projectDir, o.stack);
  const person = rosterPerson(roster, o.incidentCommander);
  if (person === undefined || !hasRole(person, [INCIDENT_COMMANDER_ROLE])) {
    throw new UserError(
      `authorize-restore: ${o.incidentCommander} is not a roster person with the ${INCIDENT_COMMANDER_ROLE} role; nothing was recorded`,
    );
  }
  const view = stackFileView(o.projectDir, o.stack, o.evidenceDir);
  const dump =
    o.dump ??
    newestDump(loadStackSettingsFromFile(o.projectDir, o.stack).database.backupDestination, o.stack);
  const sha256 = await dumpSha256(dump);
  const now = new Date();
  let written: { file: string; signature?: string };
  try {
    written = writeSignedRecord(
      view.evidenceDir,
      {
        kind: "restore-db",
        stack: o.stack,
        dump,
        dumpSha256: sha256,
        incidentCommander: o.incidentCommander,
        reason: o.reason,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + minutes * 60_000).toISOString(),
      },
      now,
      key,
    );
  } catch (e) {
    if (e instanceof RecordSigningError) throw new UserError(e.message);
    throw e;
  }
  // Signed with another key than the incident commander's, it would never count: say so now and keep nothing.
  const problem = restoreDecisionProblem(written.file, roster, {
    stack: o.stack,
    dumpSha256: sha256,
    now,
  });
  if (problem !== undefined) {
    fs.rmSync(written.file, { force: true });
    if (written.signature !== undefined) fs.rmSync(written.signature, { force: true });
    throw new UserError(`authorize-restore: the decision would not count: ${problem}; nothing was recorded`);
  }
  console.log(`wrote ${written.file}`);
  return {
    stack: o.stack,
    record: written.file,
    signature: written.signature ?? "",
    dump,
    dumpSha256: sha256,
  };
}

/**
 * Marks a decision used (`<record>.used`, created exclusively: two restores cannot both take it). Returns a function
 * that gives it back, for a restore that stopped before writing anything.
 */
export function takeDecision(file: string, detail: Record<string, string>): () => void {
  const marker = usedMarker(file);
  try {
    fs.writeFileSync(
      marker,
      `${JSON.stringify({ usedAt: new Date().toISOString(), ...detail }, null, 2)}\n`,
      {
        flag: "wx",
      },
    );
  } catch {
    throw new UserError(
      `the decision ${path.basename(file)} was used already (a decision restores once)`,
      EXIT.usage,
    );
  }
  return () => fs.rmSync(marker, { force: true });
}
