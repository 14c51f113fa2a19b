/**
 * Rejected releases on the CLI's side: `up` writes the rejection of a release whose post-deploy verification failed,
 * writes back the rejections stack history carries (a CI runner starts without the evidence of the failed run), and
 * records a decision to retry a failed update (`up --retry-failed <version>`). The gate judges them
 * (`src/evidence/rejections.ts`).
 */
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { loadProductionEnforcement } from "../src/evidence/enforcement";
import {
  outstandingRejections,
  readRejections,
  type RejectionRecord,
  restoreRejections,
  retryRemedy,
  writeRejectionRecord,
} from "../src/evidence/rejections";
import { recordSigningKey, signRecord } from "../src/evidence/records";
import type { StackConfig } from "./engine";
import { UserError } from "./errors";
import { fullHistory, type ReleaseDigests, type ReleaseEntry } from "./history";

/**
 * The digests a stack has rejected that no retry decision counts for (production: retries signed by the roster
 * person they name): never a rollback target.
 */
export function rejectedDigests(
  projectDir: string,
  evidenceDir: string,
  stackName: string,
  production: boolean,
): ReleaseDigests[] {
  let roster: Parameters<typeof outstandingRejections>[1];
  if (production) {
    try {
      roster = loadProductionEnforcement(projectDir).roster;
    } catch (e) {
      roster = { error: (e as Error).message };
    }
  }
  return outstandingRejections(readRejections(evidenceDir, stackName), roster).outstanding.map(
    (r) => r.imageDigests,
  );
}

/** Writes back the rejections carried in stack history that the evidence directory lacks; says which. */
export function restoreRejectionsFrom(
  history: readonly ReleaseEntry[],
  projectDir: string,
  evidenceDir: string,
  stackName: string,
): string[] {
  const carried = history.flatMap((e) => (e.rejects !== undefined ? [e.rejects] : []));
  const written = restoreRejections(evidenceDir, stackName, carried);
  for (const file of written) {
    process.stderr.write(
      `rejection restored from stack history: ${path.relative(projectDir, file)} (add it to the repository with the rolled-back config)\n`,
    );
  }
  return written;
}

/**
 * Records the rejection of the release a stack deploys now, whose update just failed post-deploy verification: the
 * failed update is the newest in history (`fallbackVersion` when history cannot be read).
 */
export async function recordRejection(
  stack: Pick<Stack, "history">,
  projectDir: string,
  stackName: string,
  config: StackConfig,
  failedChecks: readonly string[],
  fallbackVersion: number,
): Promise<RejectionRecord> {
  let failedVersion = fallbackVersion;
  try {
    const [newest] = await fullHistory(stack);
    if (newest !== undefined && newest.result === "failed") failedVersion = newest.version;
  } catch {
    // the version counted before the update stands
  }
  const record: RejectionRecord = {
    kind: "rejection",
    stack: stackName,
    release: config.value("imageTag"),
    imageDigests: { api: config.value("apiImageDigest"), worker: config.value("workerImageDigest") },
    failedVersion,
    failedChecks: [...failedChecks],
    createdAt: new Date().toISOString(),
  };
  try {
    const file = writeRejectionRecord(config.evidenceDir(projectDir), record);
    process.stderr.write(
      `Release ${record.release} is rejected on ${stackName} (update ${failedVersion} failed post-deploy verification): ${path.relative(projectDir, file)}\n` +
        `  The gate refuses its digests on ${stackName} until new ones are set, or a retry is decided: ${retryRemedy(stackName, failedVersion)}\n`,
    );
  } catch (e) {
    process.stderr.write(
      `warning: the rejection of ${record.release} was not written: ${(e as Error).message}\n`,
    );
  }
  return record;
}

/**
 * Records a decision to retry the failed update `failedVersion` (`up --retry-failed`): a retry record naming it,
 * signed with the person's SSH key (required on a production stack, where only signed retries count).
 */
export function recordRetry(
  projectDir: string,
  stackName: string,
  evidenceDir: string,
  o: {
    readonly failedVersion: number;
    readonly reason: string | undefined;
    readonly decidedBy: string;
    readonly sshKey: string | undefined;
    readonly production: boolean;
  },
): string {
  const problems: string[] = [];
  const rejection = readRejections(evidenceDir, stackName).rejections.find(
    (r) => r.failedVersion === o.failedVersion,
  );
  const key = recordSigningKey(o.sshKey);
  if (rejection === undefined) {
    problems.push(
      `update ${o.failedVersion} is not a rejected update of ${stackName} (no rejection record names it in ${path.relative(projectDir, evidenceDir)}/${stackName}/records/rejections)`,
    );
  }
  if (o.reason === undefined || o.reason.trim() === "") {
    problems.push("--reason is required with --retry-failed: why the release is safe to deploy again");
  }
  if (o.production && key === undefined) {
    problems.push(
      "a production retry decision must be signed by the person it names: pass --ssh-key <file> (or NOVA_SSH_KEY_FILE) and --by <your roster name>",
    );
  }
  if (problems.length > 0 || rejection === undefined) {
    throw new UserError(`Cannot record the retry: ${problems.join("; ")}.`);
  }
  const file = writeRejectionRecord(evidenceDir, {
    kind: "retry",
    stack: stackName,
    release: rejection.release,
    imageDigests: rejection.imageDigests,
    failedVersion: o.failedVersion,
    reason: o.reason ?? "",
    decidedBy: o.decidedBy,
    createdAt: new Date().toISOString(),
  });
  if (key !== undefined) signRecord(file, key);
  process.stderr.write(
    `retry of update ${o.failedVersion} (release ${rejection.release}) recorded: ${path.relative(projectDir, file)}${key !== undefined ? " (signed)" : ""}\n`,
  );
  return file;
}
