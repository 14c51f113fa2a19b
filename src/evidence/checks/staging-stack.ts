/** The staging stack's last update succeeded with the same image digests (Automation API stack history). */
import { type CheckResult, type ImageDigests } from "../model";
import { result } from "./types";

/** The part of an Automation API `UpdateSummary` the check reads. */
export interface StagingUpdate {
  readonly result: string;
  readonly endTime?: Date | string;
  readonly version?: number;
  /** The config the update ran with: `{ "nova-rollout:apiImageDigest": { value, secret } }`. */
  readonly config: Readonly<Record<string, { readonly value: string; readonly secret?: boolean }>>;
}

/** Returns the newest update of a stack, or throws when no engine/backend is reachable. */
export type StagingHistoryFn = (stack: string) => Promise<StagingUpdate | undefined>;

export async function checkStagingStack(opts: {
  readonly stagingStack: string;
  readonly expected: ImageDigests;
  readonly history: StagingHistoryFn | undefined;
}): Promise<CheckResult> {
  const title = `Staging stack's last update succeeded with the same digests`;
  const threshold = `last update of "${opts.stagingStack}" succeeded with api ${opts.expected.api}, worker ${opts.expected.worker}`;
  const remedy = `npm run rollout -- up --stack ${opts.stagingStack} (deploy this release to staging first)`;
  if (opts.history === undefined) {
    return result(
      "staging-stack",
      title,
      false,
      "no Pulumi engine available to read the stack history",
      threshold,
      null,
      remedy,
    );
  }
  let last: StagingUpdate | undefined;
  try {
    last = await opts.history(opts.stagingStack);
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0] ?? "unknown error";
    return result(
      "staging-stack",
      title,
      false,
      `cannot read the history of "${opts.stagingStack}": ${msg}`,
      threshold,
      null,
      remedy,
    );
  }
  if (last === undefined) {
    return result(
      "staging-stack",
      title,
      false,
      `"${opts.stagingStack}" has no updates`,
      threshold,
      null,
      remedy,
    );
  }
  const api = last.config["nova-rollout:apiImageDigest"];
  const worker = last.config["nova-rollout:workerImageDigest"];
  const apiV = api && !api.secret ? api.value : "(absent)";
  const workerV = worker && !worker.secret ? worker.value : "(absent)";
  const when = last.endTime === undefined ? "" : ` at ${new Date(last.endTime).toISOString()}`;
  const found = `update${last.version === undefined ? "" : ` #${last.version}`} ${last.result}${when}, api ${apiV}, worker ${workerV}`;
  const pass = last.result === "succeeded" && apiV === opts.expected.api && workerV === opts.expected.worker;
  return result("staging-stack", title, pass, found, threshold, null, remedy);
}

/** The real history reader: `LocalWorkspace.selectStack` + `stack.history(1, 1, false)` (newest entry, secrets hidden). */
export function automationHistory(projectDir: string): StagingHistoryFn {
  return async (stackName: string) => {
    const auto = await import("@pulumi/pulumi/automation");
    const stack = await auto.LocalWorkspace.selectStack({ stackName, workDir: projectDir });
    const entries = await stack.history(1, 1, false);
    const e = entries[0];
    if (e === undefined) {
      return undefined;
    }
    return { result: e.result, endTime: e.endTime, version: e.version, config: e.config };
  };
}
