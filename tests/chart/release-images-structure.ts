/**
 * The rules of `.github/workflows/release-images.yml` that actionlint cannot know: only a release tag `v*.*.*` runs it,
 * the registry is reached through Workload Identity Federation with no secret at all, both images are built with
 * provenance and an SBOM and pushed by digest, the registry's tag is checked against the pushed digests, and the
 * digests leave the job as outputs, an artifact and the `rollout pin` command. `releaseImagesProblems` returns one
 * sentence per broken rule (empty: the workflow keeps them all).
 */
import { parse } from "yaml";

interface Step {
  readonly id?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly env?: Record<string, unknown>;
  readonly with?: Record<string, unknown>;
}
interface Job {
  readonly environment?: unknown;
  readonly permissions?: Record<string, string> | string;
  readonly outputs?: Record<string, unknown>;
  readonly steps?: Step[];
}
interface Workflow {
  readonly on?: unknown;
  readonly permissions?: Record<string, string> | string;
  readonly jobs?: Record<string, Job>;
}

/** The two images of a release: repository name and the Dockerfile of the app checkout (tests/fixtures/nova-rms). */
export const RELEASE_IMAGES = [
  { key: "api", repository: "nova-rms-api", dockerfile: "services/api/Dockerfile" },
  { key: "worker", repository: "nova-rms-worker", dockerfile: "services/worker/Dockerfile" },
] as const;

/** The only trigger: a push of a release tag. */
const TAG_PATTERN = "v*.*.*";

/** A YAML scalar as text (objects as JSON, so a nested value is still searched). */
const str = (value: unknown): string =>
  typeof value === "string" ? value : value === undefined ? "" : JSON.stringify(value);

const action = (step: Step) => (step.uses ?? "").split("@")[0];

function triggerProblems(on: unknown): string[] {
  if (typeof on !== "object" || on === null || Array.isArray(on)) {
    return [`the workflow must run on push of tags ${TAG_PATTERN} only (on: push: tags)`];
  }
  const problems: string[] = [];
  const events = Object.keys(on);
  const others = events.filter((e) => e !== "push");
  if (others.length > 0) {
    problems.push(
      `the workflow runs on ${others.join(", ")}: only a pushed release tag ${TAG_PATTERN} may build`,
    );
  }
  const push = (on as Record<string, unknown>).push as Record<string, unknown> | null | undefined;
  const filters = Object.keys(push ?? {}).filter((k) => k !== "tags");
  if (filters.length > 0) {
    problems.push(`the push trigger has ${filters.join(", ")}: only tags ${TAG_PATTERN} may trigger it`);
  }
  const tags = push?.tags;
  if (!Array.isArray(tags) || tags.length === 0 || tags.some((t) => t !== TAG_PATTERN)) {
    problems.push(`the push trigger must list exactly the tag pattern ${TAG_PATTERN}, got ${str(tags)}`);
  }
  return problems;
}

function permissionProblems(name: string, job: Job, wf: Workflow): string[] {
  const problems: string[] = [];
  const perms = job.permissions ?? wf.permissions;
  const idToken = typeof perms === "object" ? perms["id-token"] : perms;
  if (idToken !== "write")
    problems.push(`job ${name} authenticates to GCP without permissions id-token: write`);
  for (const [scope, p] of [
    ["workflow", wf.permissions],
    [`job ${name}`, job.permissions],
  ] as const) {
    if (p === undefined) continue;
    if (typeof p === "string") {
      problems.push(`${scope} grants permissions ${p}: list them (contents: read, id-token: write)`);
      continue;
    }
    for (const [key, level] of Object.entries(p)) {
      if (level === "write" && key !== "id-token") {
        problems.push(`${scope} grants ${key}: write; building images needs contents: read only`);
      }
    }
  }
  return problems;
}

/** The problems of the release-images workflow's text (YAML). */
export function releaseImagesProblems(text: string): string[] {
  const wf = parse(text) as Workflow;
  const problems = triggerProblems(wf.on);
  if (/credentials_json/.test(text)) {
    problems.push("a JSON service account key is used: authenticate with Workload Identity Federation");
  }
  if (/\bsecrets\s*(\.|\[)/.test(text)) {
    problems.push(
      "the workflow references secrets: registry access is keyless (Workload Identity Federation)",
    );
  }
  // Values only (comments stripped): the registry comes from a variable and is never written into the workflow.
  const values = JSON.stringify(wf);
  if (
    !/\$\{\{\s*vars\.NOVA_STAGING_REGISTRY\s*\}\}/.test(values) ||
    /[a-z0-9]-docker\.pkg\.dev\//.test(values)
  ) {
    problems.push(
      "the staging registry is not taken from the variable vars.NOVA_STAGING_REGISTRY (never hard-coded)",
    );
  }
  for (const [name, job] of Object.entries(wf.jobs ?? {})) {
    for (const step of job.steps ?? []) {
      if (step.uses !== undefined && !/^[\w.-]+\/[\w./-]+@v\d+$/.test(step.uses)) {
        problems.push(
          `job ${name} uses ${step.uses}: pin actions to a major version tag as rollout.yml does (@vN)`,
        );
      }
    }
  }

  const jobs = Object.entries(wf.jobs ?? {}).filter(([, job]) =>
    (job.steps ?? []).some((s) => action(s) === "docker/build-push-action"),
  );
  if (jobs.length !== 1) {
    problems.push(
      `exactly one job must build the images with docker/build-push-action, found ${jobs.length}`,
    );
    return problems;
  }
  const [name, job] = jobs[0]!;
  const steps = job.steps ?? [];
  const index = (p: (s: Step) => boolean) => steps.findIndex(p);

  const auth = steps.filter((s) => action(s) === "google-github-actions/auth");
  if (auth.length === 0) problems.push(`job ${name} does not authenticate with google-github-actions/auth`);
  for (const a of auth) {
    if (
      !/\bvars\./.test(str(a.with?.workload_identity_provider)) ||
      !/\bvars\./.test(str(a.with?.service_account))
    ) {
      problems.push(
        `job ${name} authenticates without workload_identity_provider and service_account from repository variables`,
      );
    }
  }
  problems.push(...permissionProblems(name, job, wf));
  if (!/release-images/.test(str(job.environment))) {
    problems.push(`job ${name} does not run in the release-images environment (the one ci-build trusts)`);
  }
  const configure = index((s) => /\bgcloud\s+auth\s+configure-docker\b/.test(s.run ?? ""));
  const authAt = index((s) => action(s) === "google-github-actions/auth");
  if (configure < 0 || authAt < 0 || configure < authAt) {
    problems.push(`job ${name} does not run gcloud auth configure-docker after authenticating`);
  }
  const buildxAt = index((s) => action(s) === "docker/setup-buildx-action");

  const digestOf: Record<string, string> = {};
  let lastBuild = -1;
  for (const image of RELEASE_IMAGES) {
    const at = index(
      (s) => action(s) === "docker/build-push-action" && str(s.with?.file).endsWith(image.dockerfile),
    );
    const build = steps[at];
    if (build === undefined) {
      problems.push(`job ${name} does not build ${image.repository} from ${image.dockerfile}`);
      continue;
    }
    const w = build.with ?? {};
    if (buildxAt < 0 || buildxAt > at) {
      problems.push(`${image.repository} is built without docker/setup-buildx-action before it`);
    }
    if (str(w.provenance) !== "mode=max") {
      problems.push(`${image.repository} is built without provenance: mode=max`);
    }
    if (str(w.sbom) !== "true") problems.push(`${image.repository} is built without sbom: true`);
    const outputs = str(w.outputs);
    if (
      !/push-by-digest=true/.test(outputs) ||
      !/(^|,)push=true/.test(outputs) ||
      !new RegExp(`name=\\$\\{\\{[^}]+\\}\\}/${image.repository}(,|$)`).test(outputs)
    ) {
      problems.push(
        `${image.repository} is not pushed by digest to the registry variable (outputs: type=image,name=<registry>/${image.repository},push-by-digest=true,push=true)`,
      );
    }
    if (w.tags !== undefined || w.push !== undefined) {
      problems.push(`${image.repository} sets tags/push: it is pushed by digest and tagged after the check`);
    }
    if (build.id === undefined) {
      problems.push(`the ${image.repository} build has no id: its digest cannot be read`);
      continue;
    }
    digestOf[image.key] = `steps.${build.id}.outputs.digest`;
    lastBuild = Math.max(lastBuild, at);
  }
  const digests = Object.values(digestOf);
  const usesBothDigests = (s: Step) =>
    digests.length === RELEASE_IMAGES.length && digests.every((d) => JSON.stringify(s).includes(d));

  for (const image of RELEASE_IMAGES) {
    const d = digestOf[image.key];
    if (d !== undefined && !str(job.outputs?.[`${image.key}-digest`]).includes(d)) {
      problems.push(`job ${name} has no output ${image.key}-digest from ${d}`);
    }
  }
  if (!/steps\.[\w-]+\.outputs\.tag/.test(str(job.outputs?.tag))) {
    problems.push(`job ${name} has no output tag`);
  }
  if (
    !steps.some(
      (s, i) =>
        i > lastBuild &&
        /imagetools\s+inspect/.test(s.run ?? "") &&
        /!=/.test(s.run ?? "") &&
        usesBothDigests(s),
    )
  ) {
    problems.push(
      `job ${name} does not check that the registry resolves the tag to both pushed digests (imagetools inspect)`,
    );
  }

  const upload = steps.find((s) => action(s) === "actions/upload-artifact");
  const artifact = str(upload?.with?.path);
  const writer = steps.find(
    (s) => artifact !== "" && new RegExp(`>\\s*"?${artifact.replace(/\./g, "\\.")}\\b`).test(s.run ?? ""),
  );
  if (
    upload === undefined ||
    !artifact.endsWith(".json") ||
    writer === undefined ||
    !usesBothDigests(writer)
  ) {
    problems.push(`job ${name} does not upload the digests as a JSON artifact (actions/upload-artifact)`);
  } else if (str(upload.with?.["if-no-files-found"]) !== "error") {
    problems.push(`job ${name} uploads the digests without if-no-files-found: error`);
  }
  if (
    !steps.some(
      (s) =>
        /GITHUB_STEP_SUMMARY/.test(s.run ?? "") &&
        /rollout -- pin --stack staging --tag/.test(s.run ?? "") &&
        usesBothDigests(s),
    )
  ) {
    problems.push(`job ${name} does not print the rollout pin command and the digests in the job summary`);
  }
  return problems;
}
