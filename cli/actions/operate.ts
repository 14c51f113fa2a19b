/**
 * Operator commands: `drift` (has the cluster moved away from the last release?) and `status` (what runs, what
 * admitted it, what the gate's records say now). Both read only; neither changes the stack or the cluster.
 */
import * as path from "node:path";
import type { EngineStack } from "../direct-stack";
import {
  activeFreezes,
  activeOverrides,
  gateInputFor,
  readRecords,
  readStackConfigFile,
  recordNotes,
  validApprovals,
} from "../../src/evidence";
import { liftedFreezes, readPostLaunchRecords } from "../../src/evidence/post-launch-records";
import { openStack, StackConfig } from "../engine";
import { fullHistory, type ReleaseEntry } from "../history";
import { progress } from "../output";

/** The result of a drift check: the operations a refresh-then-preview would perform to restore the last release. */
export interface DriftReport {
  readonly stack: string;
  readonly drifted: boolean;
  /** Operation counts of the preview after refresh (`update`, `replace`, `same`, …). */
  readonly changes: Readonly<Record<string, number>>;
}

/** Refreshes the stack's view of the cluster in a preview (nothing is written) and reports what would change. */
export async function drift(projectDir: string, stackName: string, quiet = false): Promise<DriftReport> {
  const stack = await openStack({ projectDir, stack: stackName });
  const result = await stack.preview({
    refresh: true,
    ...(quiet ? {} : { onOutput: progress() }),
  });
  const changes = Object.fromEntries(
    Object.entries(result.changeSummary).map(([op, n]) => [op, Number(n)]),
  ) as Record<string, number>;
  const drifted = Object.entries(changes).some(([op, n]) => op !== "same" && n > 0);
  return { stack: stackName, drifted, changes };
}

/** What `status` reports. */
export interface StatusReport {
  readonly stack: string;
  readonly current?: Pick<
    ReleaseEntry,
    "version" | "release" | "apiDigest" | "workerDigest" | "result" | "kind"
  > & {
    readonly endTime: string;
    readonly admittedBy?: string;
  };
  readonly lastVerification: readonly { check: string; ok: boolean; detail: string }[];
  readonly freeze: string;
  readonly approvals: readonly string[];
  readonly overrides: readonly string[];
  readonly invalidRecords: readonly string[];
  /** Production records that do not count and concern no release now (another release, expired): never blocking. */
  readonly notCounted: readonly string[];
}

function outputList(outputs: Record<string, { value: unknown; secret: boolean }>, key: string) {
  const o = outputs[key];
  return o === undefined || o.secret || !Array.isArray(o.value)
    ? []
    : (o.value as { check: string; ok: boolean; detail: string }[]);
}

/** Reads the current release, its last verification and the gate's records of the stack. */
export async function status(
  projectDir: string,
  stackName: string,
  stack: EngineStack,
): Promise<StatusReport> {
  const history = await fullHistory(stack);
  const last: ReleaseEntry | undefined = history.find((h) => h.kind === "update");
  const outputs = await stack.outputs();
  const evidenceDir = (await StackConfig.of(stack)).evidenceDir(projectDir);
  const records = readRecords(evidenceDir, stackName);
  const now = new Date();
  // A window `post-launch` lifted has ended at the lift.
  const freezes = activeFreezes(
    liftedFreezes(records.freezes, readPostLaunchRecords(evidenceDir, stackName).lifts),
    stackName,
    now,
  );
  const release = last?.release ?? "";
  return {
    stack: stackName,
    ...(last !== undefined
      ? {
          current: {
            version: last.version,
            release: last.release,
            apiDigest: last.apiDigest,
            workerDigest: last.workerDigest,
            result: last.result,
            kind: last.kind,
            endTime: last.endTime.toISOString(),
            ...(last.admission !== undefined
              ? { admittedBy: `bundle sha256:${last.admission.bundleSha256}` }
              : {}),
          },
        }
      : {}),
    lastVerification: outputList(outputs, "verificationResults").map((r) => ({
      check: r.check,
      ok: r.ok,
      detail: r.detail,
    })),
    freeze:
      freezes.length > 0
        ? `active until ${
            freezes
              .map((f) => f.end)
              .sort()
              .at(-1) ?? ""
          } (${freezes[0]?.reason ?? ""})`
        : "none active",
    approvals: validApprovals(records.approvals, stackName, release, now).map(
      (a) => `${a.approvedBy} (${a.role}) for ${a.release}, until ${a.expiresAt}`,
    ),
    overrides: activeOverrides(records.overrides, { stack: stackName, release }, now).map(
      (o) => `${o.incidentCommander} waives ${o.waivedChecks.join(", ")} until ${o.expiresAt}`,
    ),
    invalidRecords: records.invalid.map((r) => `${path.relative(projectDir, r.path)}: ${r.error}`),
    notCounted: notCountedRecords(projectDir, stackName, now),
  };
}

/** The gate's advisory lines on the stack's records (see `recordNotes`); none when the stack file cannot be judged. */
function notCountedRecords(projectDir: string, stackName: string, now: Date): string[] {
  const config = readStackConfigFile(projectDir, stackName);
  if (config === undefined) return [];
  const input = gateInputFor({ stack: stackName, config, projectDir, now });
  return "enforcementError" in input ? [] : recordNotes(input);
}

/** `status` of a stack by name: opens it and reads its status ({@link status}). */
export async function stackStatus(projectDir: string, stackName: string): Promise<StatusReport> {
  return status(projectDir, stackName, await openStack({ projectDir, stack: stackName }));
}
