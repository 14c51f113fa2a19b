/**
 * The staging stack's newest `update` succeeded recently with the same image digests (Automation API stack history).
 *
 * Only an entry of kind `update` deploys the release; a `refresh` or `destroy` records the config too, so the check
 * reads the kind of every entry. Rules, applied to the newest entries (newest first):
 *  - the newest entry of kind `update` is the one judged; it must have `result: succeeded`, so a failed update newer
 *    than a good one fails;
 *  - no `destroy` may be newer than it (the newest entry being a destroy fails); newer `refresh`, `rename`, `import`
 *    or `preview` entries do not matter;
 *  - it ended less than `stagingMaxAgeHours` (default 72) before the preflight;
 *  - it ran with the expected `apiImageDigest` and `workerImageDigest`.
 */
import { DEFAULT_GATE_THRESHOLDS } from "../../contract";
import { type CheckResult, type ImageDigests } from "../model";
import { result } from "./types";

/** The part of an Automation API `UpdateSummary` the check reads. */
export interface StagingUpdate {
  /** `UpdateSummary.kind`: `update`, `refresh`, `destroy`, `preview`, `rename` or `import`. */
  readonly kind: string;
  readonly result: string;
  readonly endTime?: Date | string;
  readonly version?: number;
  /** The config the update ran with: `{ "nova-rollout:apiImageDigest": { value, secret } }`. */
  readonly config: Readonly<Record<string, { readonly value: string; readonly secret?: boolean }>>;
}

/**
 * Returns the newest history entries of a stack, newest first (as `stack.history` does; at least the newest
 * {@link STAGING_HISTORY_DEPTH} are expected), or throws when no engine/backend is reachable.
 */
export type StagingHistoryFn = (stack: string) => Promise<readonly StagingUpdate[]>;

/** Default maximum age in hours of the staging stack's newest successful update. */
export const DEFAULT_STAGING_MAX_AGE_HOURS: number = DEFAULT_GATE_THRESHOLDS.stagingMaxAgeHours;

/** How many of the newest history entries the real reader returns. */
export const STAGING_HISTORY_DEPTH = 20;

const TITLE = "Staging stack's newest update succeeded recently with the same digests";

function describeEntry(e: StagingUpdate, now: Date): string {
  const end = e.endTime === undefined ? undefined : new Date(e.endTime);
  const when =
    end === undefined || Number.isNaN(end.getTime())
      ? " (no end time)"
      : ` at ${end.toISOString()} (${((now.getTime() - end.getTime()) / 3_600_000).toFixed(1)} h ago)`;
  return `${e.kind}${e.version === undefined ? "" : ` #${e.version}`} ${e.result}${when}`;
}

/** Judges the newest entries of the staging stack's history (see the module comment for the rules). */
export async function checkStagingStack(opts: {
  readonly stagingStack: string;
  readonly expected: ImageDigests;
  readonly history: StagingHistoryFn | undefined;
  readonly now: Date;
  /** The newest successful update must have ended less than this many hours before `now`. */
  readonly maxAgeHours: number;
}): Promise<CheckResult> {
  const threshold = `newest update (kind "update") of "${opts.stagingStack}" succeeded less than ${opts.maxAgeHours} h ago, no destroy since, with api ${opts.expected.api}, worker ${opts.expected.worker}`;
  const remedy = `npm run rollout -- up --stack ${opts.stagingStack} (deploy this release to staging first)`;
  const fail = (found: string) => result("staging-stack", TITLE, false, found, threshold, null, remedy);
  if (opts.history === undefined) {
    return fail("no Pulumi engine available to read the stack history");
  }
  let entries: readonly StagingUpdate[];
  try {
    entries = await opts.history(opts.stagingStack);
  } catch (e) {
    // The engine's own `error:` line when there is one (a CommandError's first line is only its exit code).
    const text = (e as Error).message;
    const msg = /^\s*error: (.+)$/m.exec(text)?.[1] ?? text.split("\n")[0] ?? "unknown error";
    return fail(`cannot read the history of "${opts.stagingStack}": ${msg}`);
  }
  // Newest first: by version when every entry has one, else in the order the reader returned them.
  const ordered = entries.every((e) => e.version !== undefined)
    ? [...entries].sort((a, b) => (b.version ?? 0) - (a.version ?? 0))
    : [...entries];
  const newest = ordered[0];
  if (newest === undefined) {
    return fail(`"${opts.stagingStack}" has no updates`);
  }
  const index = ordered.findIndex((e) => e.kind === "update");
  const last = index < 0 ? undefined : ordered[index];
  const newestText = `newest entry ${describeEntry(newest, opts.now)}`;
  if (last === undefined) {
    return fail(
      `no update among the newest ${ordered.length} entries of "${opts.stagingStack}"; ${newestText}`,
    );
  }
  const destroy = ordered.slice(0, index).find((e) => e.kind === "destroy");
  const api = last.config["nova-rollout:apiImageDigest"];
  const worker = last.config["nova-rollout:workerImageDigest"];
  const apiV = api && !api.secret ? api.value : "(absent)";
  const workerV = worker && !worker.secret ? worker.value : "(absent)";
  const end = last.endTime === undefined ? undefined : new Date(last.endTime);
  const ageHours =
    end === undefined || Number.isNaN(end.getTime())
      ? undefined
      : (opts.now.getTime() - end.getTime()) / 3_600_000;
  const found = [
    `${describeEntry(last, opts.now)}, api ${apiV}, worker ${workerV}`,
    ...(index > 0 ? [newestText] : []),
    ...(destroy === undefined ? [] : [`destroyed since (${describeEntry(destroy, opts.now)})`]),
  ].join("; ");
  const pass =
    last.result === "succeeded" &&
    destroy === undefined &&
    ageHours !== undefined &&
    ageHours >= -1 &&
    ageHours < opts.maxAgeHours &&
    apiV === opts.expected.api &&
    workerV === opts.expected.worker;
  return result("staging-stack", TITLE, pass, found, threshold, null, remedy);
}

/**
 * The real history reader: `stack.history(STAGING_HISTORY_DEPTH, 1, false)` (the newest entries with their kind,
 * secrets hidden) of the stack `open` gives (the CLI opens it with its toolchain and backend environment); without
 * `open`, `LocalWorkspace.selectStack` with the process environment.
 */
export function automationHistory(
  projectDir: string,
  open?: (stackName: string) => Promise<Pick<import("@pulumi/pulumi/automation").Stack, "history">>,
): StagingHistoryFn {
  return async (stackName: string) => {
    // The Automation API is loaded only when no opener is given (the CLI's runs the engine directly).
    const stack =
      open !== undefined
        ? await open(stackName)
        : await (
            await import("@pulumi/pulumi/automation")
          ).LocalWorkspace.selectStack({ stackName, workDir: projectDir });
    const entries = await stack.history(STAGING_HISTORY_DEPTH, 1, false);
    return entries.map((e) => ({
      kind: e.kind,
      result: e.result,
      endTime: e.endTime,
      version: e.version,
      config: e.config,
    }));
  };
}
