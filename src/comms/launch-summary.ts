/**
 * The launch summary model: what a release or rollback rolled out, built from the finished update's outputs (secret
 * outputs are never read). The CLI renders it as `<timestamp>-launch.md` (cli/launch-report.ts); the stakeholder
 * notices and the postmortem skeleton (templates.ts) are rendered from it too.
 */
import type { OutputMap } from "@pulumi/pulumi/automation";
import type { StepBudget } from "./step-budget";

/** One post-deploy verification result as the stack outputs report it. */
export interface VerificationResult {
  readonly check: string;
  readonly ok: boolean;
  readonly attempts: number;
  readonly detail: string;
  /** An exec check's output, redacted by the probe (its tail when long). */
  readonly output?: string;
  /** Files an exec check's command left, as copied (redacted) into the stack's verification evidence directory. */
  readonly kept?: readonly {
    readonly path: string;
    readonly copy: string;
    readonly sha256: string;
    readonly bytes: number;
  }[];
}

export interface LaunchSummary {
  readonly stack: string;
  readonly kind: "release" | "rollback";
  readonly release: string;
  readonly digests: { readonly api: string; readonly worker: string };
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Resource operation counts (`create`, `update`, `same`, …). */
  readonly changes: Readonly<Record<string, number>>;
  /** Structured verification results from the stack outputs. */
  readonly verification: readonly VerificationResult[];
  /** For a rollback: the update version whose config was re-applied. */
  readonly rolledBackTo?: number;
  readonly databaseDump?: string;
  /**
   * For a rollback: the release it replaced — its tag and digests, when it started, when its post-deploy verification
   * failed and what that verification found (the postmortem's timeline and results).
   */
  readonly rolledBackFrom?: {
    readonly release: string;
    readonly digests: { readonly api: string; readonly worker: string };
    readonly startedAt?: Date;
    readonly verificationFailedAt?: Date;
    readonly verification?: readonly VerificationResult[];
  };
  /** For a rollback: why (the rollback record's reason). */
  readonly reason?: string;
  /** Where the update's wall time went, per playbook step (from the engine's events as they arrived). */
  readonly stepBudget?: StepBudget;
}

function outputValue<T>(outputs: OutputMap, key: string, fallback: T): T {
  const o = outputs[key];
  return o === undefined || o.secret ? fallback : (o.value as T);
}

/** The launch summary of a finished update, from its outputs (secret outputs are never read). */
export function summariseUpdate(
  stackName: string,
  kind: LaunchSummary["kind"],
  startedAt: Date,
  result: {
    readonly outputs: OutputMap;
    readonly summary: { readonly resourceChanges?: Readonly<Record<string, number>> };
  },
  rolledBackTo?: number,
): LaunchSummary {
  const o = result.outputs;
  const digests = outputValue(o, "imageDigests", { api: "", worker: "" });
  const dump = outputValue<string | undefined>(o, "databaseDump", undefined);
  return {
    stack: stackName,
    kind,
    release: outputValue(o, "releaseTag", ""),
    digests,
    startedAt,
    finishedAt: new Date(),
    changes: Object.fromEntries(
      Object.entries(result.summary.resourceChanges ?? {}).map(([op, n]) => [op, Number(n)]),
    ),
    verification: outputValue(o, "verificationResults", []),
    ...(rolledBackTo !== undefined ? { rolledBackTo } : {}),
    ...(dump !== undefined ? { databaseDump: dump } : {}),
  };
}

/** What a launch summary on disk says (read back by `rollout post-launch`). */
export interface LaunchReportFacts {
  readonly kind: LaunchSummary["kind"];
  readonly stack: string;
  readonly release: string;
  readonly digests: { readonly api: string; readonly worker: string };
  readonly finishedAt?: string;
  readonly rolledBackTo?: number;
  readonly verification: readonly { readonly check: string; readonly ok: boolean }[];
}
