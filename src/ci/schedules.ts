/**
 * The CI schedules that could reach production (playbook §4), paused for the release: each listed GitHub Actions
 * workflow is disabled through the GitHub REST API before the chart changes and enabled again after post-deploy
 * verification passed (`components/ci-schedules.ts` runs this file as its commands):
 *
 *   node dist/src/ci/schedules.js disable --api https://api.github.com [--dry-run] <owner/repo:workflow.yml>…
 *   node dist/src/ci/schedules.js enable --api https://api.github.com [--dry-run] <owner/repo:workflow.yml>…
 *
 * The token is `GITHUB_TOKEN` (else `GH_TOKEN`) of the process, never an argument, never printed: in a workflow the
 * job's token with `permissions: actions: write`; elsewhere a fine-grained token with Actions read and write on the
 * listed repositories. `--dry-run` reads each workflow's state and says what it would do, changing nothing (a token is
 * then optional: public repositories answer without one). Every workflow is tried; the exit code is 1 when any failed,
 * 2 for a usage mistake.
 */
import { parseArgs } from "node:util";
import { WORKFLOW_REF_PATTERN } from "../contract";
import { isMainScript } from "../util/entry";

export interface WorkflowRef {
  readonly owner: string;
  readonly repo: string;
  readonly file: string;
  /** As written: `owner/repo:file`. */
  readonly text: string;
}

export function parseWorkflowRef(text: string): WorkflowRef | undefined {
  const m = WORKFLOW_REF_PATTERN.exec(text);
  return m === null ? undefined : { owner: m[1] ?? "", repo: m[2] ?? "", file: m[3] ?? "", text };
}

/** The subset of `fetch` used; inject a fake in tests. */
export type FetchFn = (
  url: string,
  init: { method: string; headers: Record<string, string>; signal?: AbortSignal },
) => Promise<{ status: number; json(): Promise<unknown> }>;

export interface ScheduleOptions {
  /** The REST API's base URL: `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise Server. */
  readonly api: string;
  readonly token?: string;
  readonly dryRun: boolean;
  readonly fetch: FetchFn;
  /** Bound of each request. Default 20 s. */
  readonly timeoutMs?: number;
}

/** A person's reading of a refusal, by status. */
function refusal(ref: WorkflowRef, status: number, what: string): Error {
  const repo = `${ref.owner}/${ref.repo}`;
  const why =
    status === 401
      ? "GitHub refused the token (401): set GITHUB_TOKEN to a valid token"
      : status === 403
        ? `the token may not write the Actions of ${repo} (403): give it actions: write (fine-grained: Actions read and write)`
        : status === 404
          ? `${repo} has no workflow ${ref.file}, or the token cannot see the repository (404)`
          : `GitHub answered ${status}`;
  return new Error(`${ref.text}: ${what}: ${why}`);
}

/**
 * Disables (`enable` false) or enables one workflow; returns what happened, as one line. A workflow already in the
 * wanted state is left alone. Throws with the reason on any refusal.
 */
export async function setWorkflowState(
  ref: WorkflowRef,
  enable: boolean,
  o: ScheduleOptions,
): Promise<string> {
  const base = `${o.api.replace(/\/+$/, "")}/repos/${ref.owner}/${ref.repo}/actions/workflows/${encodeURIComponent(ref.file)}`;
  const headers: Record<string, string> = {
    Accept: "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
    "User-Agent": "nova-rollout",
    ...(o.token !== undefined ? { Authorization: `Bearer ${o.token}` } : {}),
  };
  const signal = () => AbortSignal.timeout(o.timeoutMs ?? 20_000);
  const read = await o.fetch(base, { method: "GET", headers, signal: signal() });
  if (read.status !== 200) throw refusal(ref, read.status, "reading its state");
  const body = (await read.json()) as { state?: unknown } | null;
  const state = typeof body?.state === "string" ? body.state : "unknown";
  const wanted = enable ? "active" : "disabled_manually";
  const verb = enable ? "enable" : "disable";
  if (state === wanted) return `${ref.text}: already ${state}, left as is`;
  if (o.dryRun) return `${ref.text}: would ${verb} (now ${state}); dry run, nothing changed`;
  const put = await o.fetch(`${base}/${verb}`, { method: "PUT", headers, signal: signal() });
  if (put.status !== 204) throw refusal(ref, put.status, verb);
  return `${ref.text}: ${verb}d (was ${state})`;
}

/** Runs the command line; returns the exit code. Lines go to stdout, failures to stderr. */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  fetchFn: FetchFn,
): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { api: { type: "string" }, "dry-run": { type: "boolean", default: false } },
  });
  const [verb, ...refs] = positionals;
  const usage = (why: string) => {
    process.stderr.write(
      `ci-schedules: ${why}\nusage: schedules.js disable|enable --api <url> [--dry-run] <owner/repo:workflow.yml>…\n`,
    );
    return 2;
  };
  if (verb !== "disable" && verb !== "enable") return usage(`unknown action "${verb ?? ""}"`);
  if (values.api === undefined) return usage("--api is required");
  const parsed = refs.map((r) => ({ text: r, ref: parseWorkflowRef(r) }));
  const bad = parsed.filter((p) => p.ref === undefined).map((p) => p.text);
  if (bad.length > 0) return usage(`not owner/repo:workflow.yml: ${bad.join(", ")}`);
  const token = env["GITHUB_TOKEN"] || env["GH_TOKEN"] || undefined;
  const dryRun = values["dry-run"] === true;
  if (token === undefined && !dryRun) {
    process.stderr.write(
      `ci-schedules: GITHUB_TOKEN is not set: the CI schedules (nova-rollout:ciSchedules) are ${verb}d through the GitHub API with a token that may write Actions (in a workflow: permissions: actions: write)\n`,
    );
    return 1;
  }
  let failed = 0;
  for (const { ref } of parsed) {
    try {
      const line = await setWorkflowState(ref as WorkflowRef, verb === "enable", {
        api: values.api,
        ...(token !== undefined ? { token } : {}),
        dryRun,
        fetch: fetchFn,
      });
      process.stdout.write(`${line}\n`);
    } catch (err) {
      failed += 1;
      const message = (err as Error).message;
      process.stderr.write(`${token !== undefined ? message.split(token).join("[secret]") : message}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

if (isMainScript(module, __filename, "schedules.js")) {
  main(process.argv.slice(2), process.env, (url, init) => fetch(url, init)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`ci-schedules: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
