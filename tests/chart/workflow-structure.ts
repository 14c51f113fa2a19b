/**
 * The rules of `.github/workflows/rollout.yml` that actionlint cannot know: GCP through Workload Identity Federation
 * only, the pull-request job read-only and secret-free, `up` only through the protected environment after a preflight.
 * `workflowProblems` returns one sentence per broken rule (empty: the workflow keeps them all).
 */
import { parse } from "yaml";

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
}
interface Job {
  readonly if?: string;
  readonly environment?: unknown;
  readonly needs?: string | string[];
  readonly permissions?: Record<string, string> | string;
  readonly steps?: Step[];
}
interface Workflow {
  readonly permissions?: Record<string, string> | string;
  readonly env?: Record<string, unknown>;
  readonly jobs?: Record<string, Job>;
}

/** A YAML scalar as text (objects as JSON, so a nested value is still searched). */
const str = (value: unknown): string =>
  typeof value === "string" ? value : value === undefined ? "" : JSON.stringify(value);

const usesAction = (step: Step, action: string) => (step.uses ?? "").split("@")[0] === action;
const runsUp = (step: Step) =>
  /\brollout\s+--\s+up\b|\bpulumi\s+up\b/.test(step.run ?? "") ||
  (usesAction(step, "pulumi/actions") && ["up", "update"].includes(str(step.with?.command)));
const isPullRequestJob = (job: Job) =>
  /pull_request/.test(job.if ?? "") && !/!=\s*'pull_request'/.test(job.if ?? "");

/** The problems of a workflow's text (YAML). */
export function workflowProblems(text: string): string[] {
  const wf = parse(text) as Workflow;
  const problems: string[] = [];
  if (/PULUMI_CONFIG_PASSPHRASE/.test(text)) {
    problems.push("PULUMI_CONFIG_PASSPHRASE is referenced: stack secrets come from Cloud KMS (gcpkms://)");
  }
  if (/credentials_json/.test(text)) {
    problems.push("a JSON service account key is used: authenticate with Workload Identity Federation");
  }
  const jobs = Object.entries(wf.jobs ?? {});
  let preflight: string | undefined;
  for (const [name, job] of jobs) {
    const steps = job.steps ?? [];
    const permissions = job.permissions ?? wf.permissions;
    const auth = steps.filter((s) => usesAction(s, "google-github-actions/auth"));
    if (auth.length > 0) {
      const idToken = typeof permissions === "object" ? permissions["id-token"] : permissions;
      if (idToken !== "write" && idToken !== "write-all") {
        problems.push(`job ${name} authenticates to GCP without permissions id-token: write`);
      }
      for (const a of auth) {
        if (
          typeof a.with?.workload_identity_provider !== "string" ||
          typeof a.with.service_account !== "string"
        ) {
          problems.push(`job ${name} authenticates without workload_identity_provider and service_account`);
        }
      }
      const gcloud = steps.find((s) => usesAction(s, "google-github-actions/setup-gcloud"));
      if (!/gke-gcloud-auth-plugin/.test(str(gcloud?.with?.install_components))) {
        problems.push(`job ${name} does not install gke-gcloud-auth-plugin with setup-gcloud`);
      }
    }
    const preflightRun = steps.find((s) => /\bpreflight\b/.test(s.run ?? ""));
    if (preflightRun !== undefined) {
      preflight = name;
      // The bundle is signed in Cloud KMS: no private key in a repository secret, none written to the runner.
      if (!/--signing-key\s+"?gcpkms:\/\//.test(preflightRun.run ?? "")) {
        problems.push(
          `job ${name} does not sign the preflight with a Cloud KMS key (--signing-key gcpkms://…)`,
        );
      }
    }

    if (isPullRequestJob(job)) {
      const jobText = JSON.stringify(job);
      if (/\bsecrets\./.test(jobText)) problems.push(`pull-request job ${name} references secrets`);
      if (job.environment !== undefined) problems.push(`pull-request job ${name} runs in an environment`);
      if (auth.length === 0) problems.push(`pull-request job ${name} does not authenticate to GCP`);
      for (const a of auth) {
        if (!/PREVIEW/.test(str(a.with?.service_account))) {
          problems.push(`pull-request job ${name} does not use the read-only preview identity`);
        }
      }
      if (steps.some(runsUp)) problems.push(`pull-request job ${name} runs an update`);
      const comment = steps.find((s) => usesAction(s, "pulumi/actions") && s.with?.command === "preview");
      if (comment === undefined || str(comment.with?.["comment-on-pr"]) !== "true") {
        problems.push(`pull-request job ${name} does not post the preview with pulumi/actions comment-on-pr`);
      }
    }
  }
  if (!jobs.some(([, job]) => isPullRequestJob(job))) problems.push("no pull-request preview job");
  if (preflight === undefined) problems.push("no preflight job");
  for (const [name, job] of jobs) {
    if (!(job.steps ?? []).some(runsUp)) continue;
    if (!/production/.test(str(job.environment))) {
      problems.push(`job ${name} runs an update outside the protected production environment`);
    }
    if (isPullRequestJob(job) || !/push|workflow_dispatch/.test(job.if ?? "")) {
      problems.push(`job ${name} runs an update on an event other than push or workflow_dispatch`);
    }
    const needs = typeof job.needs === "string" ? [job.needs] : (job.needs ?? []);
    if (preflight !== undefined && !needs.includes(preflight)) {
      problems.push(`job ${name} runs an update without needing the preflight job`);
    }
  }
  return problems;
}
