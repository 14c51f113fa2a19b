// The CI workflow is linted with actionlint (built by `npm run setup`); a missing binary fails, never skips.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseDocument } from "yaml";
import { pinCommand } from "../../cli/commands/pin";
import { requireToolchain } from "../../tools/toolchain";
import { RELEASE_IMAGES, releaseImagesProblems } from "./release-images-structure";
import { workflowProblems } from "./workflow-structure";

const REPO = path.resolve(__dirname, "..", "..");
const WORKFLOW = path.join(REPO, ".github", "workflows", "rollout.yml");

function actionlint(file: string): { status: number; out: string } {
  const bin = path.join(requireToolchain(REPO, ["actionlint"]), "actionlint");
  const r = spawnSync(bin, ["-no-color", file], { encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe(".github/workflows/rollout.yml", () => {
  it("passes actionlint", () => {
    const r = actionlint(WORKFLOW);
    expect(r.out).toBe("");
    expect(r.status).toBe(0);
  });

  it("maps the rollout CLI's exit codes (gate blocked, verification failed, rollback failed) to job outcomes", () => {
    const text = fs.readFileSync(WORKFLOW, "utf8");
    for (const code of ["5)", "6)", "8)"]) expect(text).toContain(code);
    expect(text).toMatch(/environment: \$\{\{ inputs\.stack \|\| 'production' \}\}/);
    expect(text).toMatch(/group: rollout-\$\{\{ inputs\.stack \|\| 'production' \}\}/);
  });

  it("rolls out as the CI identity with its key in a 0600 file, and opens the rollback pull request after exit 6", () => {
    const text = fs.readFileSync(WORKFLOW, "utf8");
    expect(text).toContain("secrets.NOVA_CI_ROLLOUT_SSH_KEY");
    expect(text).toMatch(/umask 077/);
    expect(text).toMatch(/chmod 600 "\$key"/);
    expect(text).toMatch(/NOVA_OPERATOR: ci-rollout/);
    expect(text).toMatch(/rollout -- up --stack "\$STACK" --as ci-rollout "\$\{key\[@\]\}"/);
    expect(text).toMatch(/key=\(--ssh-key "\$NOVA_SSH_KEY_FILE"\)/);
    expect(text).toMatch(
      /if: always\(\) && steps\.up\.outputs\.code == '6'\n\s+uses: peter-evans\/create-pull-request@v7/,
    );
    expect(text).toMatch(/Pulumi\.\$\{\{ inputs\.stack \|\| 'production' \}\}\.yaml/);
  });

  it("runs post-launch only when asked and only after a verified launch, and proposes its changes as a pull request", () => {
    const steps = (
      parse(fs.readFileSync(WORKFLOW, "utf8")) as {
        jobs: Record<
          string,
          { steps: { name?: string; if?: string; run?: string; with?: Record<string, string> }[] }
        >;
      }
    ).jobs["rollout"]?.steps;
    const post = steps?.find((s) => s.name === "Post-launch");
    expect(post?.if).toBe("steps.up.outputs.code == '0' && inputs.post_launch");
    expect(post?.run).toMatch(
      /rollout -- post-launch --stack "\$STACK" --by ci-rollout --ssh-key "\$NOVA_SSH_KEY_FILE"/,
    );
    const pr = steps?.find((s) => s.name === "Open the post-launch pull request");
    expect(pr?.if).toBe("steps.post_launch.outcome == 'success'");
    expect(pr?.with?.["add-paths"]).toMatch(/STATUS\.md\nTODO\.md\nREADME\.md\ntests\/drills\/logs\//);
  });

  it("fails on a broken workflow (the lint is real)", () => {
    const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nova-actionlint-")), "broken.yml");
    fs.writeFileSync(
      broken,
      fs.readFileSync(WORKFLOW, "utf8").replace("runs-on: ubuntu-latest", "runs-on: 42"),
    );
    fs.appendFileSync(
      broken,
      "      - run: echo ${{ github.event.nonexistent.field }}\n        uses: actions/checkout@v4\n",
    );
    const r = actionlint(broken);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/broken\.yml:\d+:\d+:/);
  });
});

describe(".github/workflows/rollout.yml structure", () => {
  const text = fs.readFileSync(WORKFLOW, "utf8");
  /** The workflow with one change applied to its parsed document, as text. */
  const mutated = (change: (doc: ReturnType<typeof parseDocument>) => void): string => {
    const doc = parseDocument(text);
    change(doc);
    return doc.toString();
  };

  /** Index of the first step of a job that uses `action` (or whose `with.command` is `command`). */
  const stepOf = (job: string, action: string, command?: string): number => {
    const steps = (
      parse(text) as { jobs: Record<string, { steps: { uses?: string; with?: { command?: string } }[] }> }
    ).jobs[job]?.steps;
    const i = (steps ?? []).findIndex(
      (s) =>
        s.uses?.startsWith(`${action}@`) === true && (command === undefined || s.with?.command === command),
    );
    if (i < 0) throw new Error(`job ${job} has no step using ${action}`);
    return i;
  };

  it("keeps every rule: WIF only, secret-free read-only PR preview with a comment, preflight, protected up", () => {
    expect(workflowProblems(text)).toEqual([]);
  });

  it("authenticates every GCP job through Workload Identity Federation with the auth plugin", () => {
    for (const job of ["preview", "preflight", "rollout"]) {
      expect(parseDocument(text).getIn(["jobs", job, "permissions", "id-token"])).toBe("write");
    }
    expect(text).not.toMatch(/credentials_json|PULUMI_CONFIG_PASSPHRASE/);
    expect(text).toMatch(/PULUMI_BACKEND_URL: \$\{\{ vars\.PULUMI_BACKEND_URL \}\}/);
    expect(text).toMatch(/gs:\/\/\?\*\)/);
    expect(text).toMatch(/\^secretsprovider: gcpkms:\/\//);
  });

  it.each<[string, (doc: ReturnType<typeof parseDocument>) => void, RegExp]>([
    [
      "no id-token on the preview job",
      (d) => d.deleteIn(["jobs", "preview", "permissions", "id-token"]),
      /job preview authenticates to GCP without permissions id-token: write/,
    ],
    [
      "no id-token on the rollout job",
      (d) => d.setIn(["jobs", "rollout", "permissions", "id-token"], "none"),
      /job rollout authenticates to GCP without permissions id-token: write/,
    ],
    [
      "a secret in the pull-request job",
      (d) =>
        d.setIn(["jobs", "preview", "env"], { PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" }),
      /pull-request job preview references secrets/,
    ],
    [
      "the pull-request job in the production environment",
      (d) => d.setIn(["jobs", "preview", "environment"], "production"),
      /pull-request job preview runs in an environment/,
    ],
    [
      "the rollout identity in the pull-request job",
      (d) =>
        d.setIn(
          [
            "jobs",
            "preview",
            "steps",
            stepOf("preview", "google-github-actions/auth"),
            "with",
            "service_account",
          ],
          "${{ vars.GCP_ROLLOUT_SERVICE_ACCOUNT }}",
        ),
      /does not use the read-only preview identity/,
    ],
    [
      "a JSON key",
      (d) =>
        d.setIn(
          [
            "jobs",
            "rollout",
            "steps",
            stepOf("rollout", "google-github-actions/auth"),
            "with",
            "credentials_json",
          ],
          "${{ secrets.GCP_KEY }}",
        ),
      /JSON service account key/,
    ],
    [
      "a passphrase",
      (d) => d.setIn(["env", "PULUMI_CONFIG_PASSPHRASE"], "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"),
      /PULUMI_CONFIG_PASSPHRASE is referenced/,
    ],
    [
      "up without the environment",
      (d) => d.deleteIn(["jobs", "rollout", "environment"]),
      /job rollout runs an update outside the protected production environment/,
    ],
    [
      "up without the preflight",
      (d) => d.deleteIn(["jobs", "rollout", "needs"]),
      /job rollout runs an update without needing the preflight job/,
    ],
    [
      "a preflight signed with a key file from a secret",
      (d) => {
        const steps = d.getIn(["jobs", "preflight", "steps"]) as {
          items: { get(k: string): string | undefined }[];
        };
        const i = steps.items.findIndex((s) => /\bpreflight\b/.test(s.get("run") ?? ""));
        d.setIn(
          ["jobs", "preflight", "steps", i, "run"],
          'npm run --silent preflight -- --stack production --signing-key "$RUNNER_TEMP/preflight.pem"',
        );
      },
      /job preflight does not sign the preflight with a Cloud KMS key/,
    ],
    [
      "no auth plugin",
      (d) =>
        d.deleteIn([
          "jobs",
          "preflight",
          "steps",
          stepOf("preflight", "google-github-actions/setup-gcloud"),
          "with",
        ]),
      /job preflight does not install gke-gcloud-auth-plugin/,
    ],
    [
      "no PR comment",
      (d) =>
        d.setIn(
          [
            "jobs",
            "preview",
            "steps",
            stepOf("preview", "pulumi/actions", "preview"),
            "with",
            "comment-on-pr",
          ],
          false,
        ),
      /does not post the preview with pulumi\/actions comment-on-pr/,
    ],
  ])("fails on a copy with %s", (_name, change, problem) => {
    const copy = mutated(change);
    expect(copy).not.toBe(text);
    expect(workflowProblems(copy).join("\n")).toMatch(problem);
  });

  it("the copy without id-token is still actionlint-clean: only the structure test catches it", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nova-actionlint-")), "no-id-token.yml");
    fs.writeFileSync(
      file,
      mutated((d) => d.deleteIn(["jobs", "preview", "permissions", "id-token"])),
    );
    expect(actionlint(file).status).toBe(0);
    expect(workflowProblems(fs.readFileSync(file, "utf8"))).not.toEqual([]);
  });
});

const RELEASE_IMAGES_WORKFLOW = path.join(REPO, ".github", "workflows", "release-images.yml");
const APP_FIXTURE = path.join(REPO, "tests", "fixtures", "nova-rms");

describe(".github/workflows/release-images.yml", () => {
  const text = fs.readFileSync(RELEASE_IMAGES_WORKFLOW, "utf8");
  type Doc = ReturnType<typeof parseDocument>;
  const mutated = (change: (doc: Doc) => void): string => {
    const doc = parseDocument(text);
    change(doc);
    return doc.toString();
  };
  const steps = (parse(text) as { jobs: { images: { steps: Record<string, unknown>[] } } }).jobs.images.steps;
  /** Index of the first step of the images job that matches. */
  const stepOf = (match: (s: Record<string, unknown>) => boolean): number => {
    const i = steps.findIndex(match);
    if (i < 0) throw new Error("no such step in job images");
    return i;
  };
  const build = (dockerfile: string) =>
    stepOf((s) => JSON.stringify(s.with ?? {}).includes(`"file":"app/${dockerfile}"`));
  const uses = (actionName: string) =>
    stepOf((s) => typeof s.uses === "string" && s.uses.startsWith(`${actionName}@`));
  const runs = (pattern: RegExp) => stepOf((s) => typeof s.run === "string" && pattern.test(s.run));
  const lintFile = (name: string, content: string): string => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nova-actionlint-")), name);
    fs.writeFileSync(file, content);
    return file;
  };

  it("passes actionlint", () => {
    const r = actionlint(RELEASE_IMAGES_WORKFLOW);
    expect(r.out).toBe("");
    expect(r.status).toBe(0);
  });

  it("fails actionlint on a build step with a misspelt input and an unknown job output", () => {
    const broken = mutated((d) => {
      d.setIn(
        ["jobs", "images", "steps", build("services/api/Dockerfile"), "with", "provenanse"],
        "mode=max",
      );
      d.setIn(["jobs", "images", "outputs", "api-digest"], "${{ steps.nosuchstep.outputs.digest }}");
    });
    const r = actionlint(lintFile("broken.yml", broken));
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/provenanse/);
    expect(r.out).toMatch(/nosuchstep/);
  });

  it("keeps every rule: tag-only trigger, keyless registry access, attested images pushed by digest, digests out", () => {
    expect(releaseImagesProblems(text)).toEqual([]);
  });

  it("builds the app checkout's images from their own directories, as the fixture app lays them out", () => {
    const doc = parse(text) as { jobs: { images: { steps: { with?: Record<string, string> }[] } } };
    for (const image of RELEASE_IMAGES) {
      const dockerfile = path.join(APP_FIXTURE, image.dockerfile);
      expect(fs.existsSync(dockerfile)).toBe(true);
      expect(fs.readFileSync(dockerfile, "utf8")).toContain(image.repository);
      // The Dockerfile copies its service's package.json: the build context is the service directory.
      expect(fs.readFileSync(dockerfile, "utf8")).toMatch(/^COPY package\.json /m);
      expect(fs.existsSync(path.join(path.dirname(dockerfile), "package.json"))).toBe(true);
      const step = doc.jobs.images.steps[build(image.dockerfile)];
      expect(step?.with?.context).toBe(`app/${path.posix.dirname(image.dockerfile)}`);
    }
  });

  it("prints pin commands the rollout CLI parses: the staging stack, the pushed tag, a dry run first", () => {
    const printed = [...text.matchAll(/echo "npm run rollout -- (pin [^"]*)"/g)].map((m) => m[1]!);
    expect(printed).toHaveLength(2);
    const parsed = printed.map((line) => {
      const command = pinCommand()
        .exitOverride()
        .action(() => undefined);
      const [name, ...args] = line.replace("$TAG", "v1.4.2").split(/\s+/);
      expect(name).toBe("pin");
      command.parse(args, { from: "user" });
      return command.opts();
    });
    expect(parsed).toEqual([
      { stack: "staging", tag: "v1.4.2", dryRun: true },
      { stack: "staging", tag: "v1.4.2" },
    ]);
  });

  const loginWithKey = {
    uses: "docker/login-action@v3",
    with: {
      registry: "us-docker.pkg.dev",
      username: "_json_key",
      password: "${{ secrets.GCP_REGISTRY_KEY }}",
    },
  };
  it.each<[string, (doc: Doc) => void, RegExp]>([
    [
      "a pull_request trigger",
      (d) => d.setIn(["on", "pull_request"], { branches: ["main"] }),
      /runs on pull_request: only a pushed release tag/,
    ],
    [
      "a branch push trigger",
      (d) => d.setIn(["on", "push", "branches"], ["main"]),
      /push trigger has branches/,
    ],
    ["any tag", (d) => d.setIn(["on", "push", "tags"], ["*"]), /exactly the tag pattern v\*\.\*\.\*/],
    [
      "no id-token",
      (d) => d.deleteIn(["jobs", "images", "permissions", "id-token"]),
      /job images authenticates to GCP without permissions id-token: write/,
    ],
    [
      "contents: write",
      (d) => d.setIn(["jobs", "images", "permissions", "contents"], "write"),
      /grants contents: write/,
    ],
    [
      "a JSON key",
      (d) =>
        d.setIn(
          ["jobs", "images", "steps", uses("google-github-actions/auth"), "with", "credentials_json"],
          "${{ secrets.GCP_KEY }}",
        ),
      /JSON service account key/,
    ],
    [
      "a long-lived registry password",
      (d) => {
        const seq = d.getIn(["jobs", "images", "steps"]) as { items: unknown[] };
        seq.items.splice(uses("docker/setup-buildx-action"), 0, d.createNode(loginWithKey));
      },
      /references secrets/,
    ],
    [
      "a hard-coded registry",
      (d) =>
        d.setIn(["jobs", "images", "env", "NOVA_STAGING_REGISTRY"], "us-docker.pkg.dev/nova-staging/nova"),
      /vars\.NOVA_STAGING_REGISTRY/,
    ],
    [
      "no configure-docker",
      (d) => d.deleteIn(["jobs", "images", "steps", runs(/configure-docker/)]),
      /does not run gcloud auth configure-docker/,
    ],
    [
      "provenance off",
      (d) =>
        d.setIn(["jobs", "images", "steps", build("services/api/Dockerfile"), "with", "provenance"], false),
      /nova-rms-api is built without provenance: mode=max/,
    ],
    [
      "minimal provenance",
      (d) =>
        d.setIn(
          ["jobs", "images", "steps", build("services/worker/Dockerfile"), "with", "provenance"],
          "mode=min",
        ),
      /nova-rms-worker is built without provenance: mode=max/,
    ],
    [
      "no SBOM",
      (d) => d.setIn(["jobs", "images", "steps", build("services/worker/Dockerfile"), "with", "sbom"], false),
      /nova-rms-worker is built without sbom: true/,
    ],
    [
      "a push by tag",
      (d) => {
        const at = build("services/api/Dockerfile");
        d.deleteIn(["jobs", "images", "steps", at, "with", "outputs"]);
        d.setIn(["jobs", "images", "steps", at, "with", "push"], true);
        d.setIn(
          ["jobs", "images", "steps", at, "with", "tags"],
          "${{ steps.release.outputs.registry }}/nova-rms-api:${{ steps.release.outputs.tag }}",
        );
      },
      /nova-rms-api is not pushed by digest/,
    ],
    [
      "the worker built from the api's Dockerfile",
      (d) =>
        d.setIn(
          ["jobs", "images", "steps", build("services/worker/Dockerfile"), "with", "file"],
          "app/services/api/Dockerfile",
        ),
      /does not build nova-rms-worker from services\/worker\/Dockerfile/,
    ],
    [
      "no tag check against the registry",
      (d) => d.deleteIn(["jobs", "images", "steps", runs(/imagetools create/)]),
      /does not check that the registry resolves the tag to both pushed digests/,
    ],
    [
      "no digests artifact",
      (d) => d.deleteIn(["jobs", "images", "steps", uses("actions/upload-artifact")]),
      /does not upload the digests as a JSON artifact/,
    ],
    [
      "a digests file without the worker digest",
      (d) => d.deleteIn(["jobs", "images", "steps", runs(/release-images\.json$/m), "env", "WORKER_DIGEST"]),
      /does not upload the digests as a JSON artifact/,
    ],
    [
      "no worker-digest output",
      (d) => d.deleteIn(["jobs", "images", "outputs", "worker-digest"]),
      /job images has no output worker-digest/,
    ],
    [
      "no pin command in the summary",
      (d) => d.deleteIn(["jobs", "images", "steps", runs(/GITHUB_STEP_SUMMARY/)]),
      /does not print the rollout pin command/,
    ],
    [
      "no release-images environment",
      (d) => d.deleteIn(["jobs", "images", "environment"]),
      /does not run in the release-images environment/,
    ],
    [
      "an action on a branch",
      (d) =>
        d.setIn(
          ["jobs", "images", "steps", uses("docker/build-push-action"), "uses"],
          "docker/build-push-action@master",
        ),
      /uses docker\/build-push-action@master: pin actions/,
    ],
  ])("fails on a copy with %s", (_name, change, problem) => {
    const copy = mutated(change);
    expect(copy).not.toBe(text);
    expect(releaseImagesProblems(copy).join("\n")).toMatch(problem);
  });

  it("copies without id-token, with minimal provenance, no SBOM or a pull_request trigger are actionlint-clean: only the structure test catches them", () => {
    for (const change of [
      (d: Doc) => d.deleteIn(["jobs", "images", "permissions", "id-token"]),
      (d: Doc) =>
        d.setIn(
          ["jobs", "images", "steps", build("services/api/Dockerfile"), "with", "provenance"],
          "mode=min",
        ),
      (d: Doc) =>
        d.setIn(["jobs", "images", "steps", build("services/api/Dockerfile"), "with", "sbom"], false),
      (d: Doc) => d.setIn(["on", "pull_request"], { branches: ["main"] }),
    ]) {
      const copy = mutated(change);
      expect(actionlint(lintFile("release-images.yml", copy)).status).toBe(0);
      expect(releaseImagesProblems(copy)).not.toEqual([]);
    }
  });
});

describe(".github/workflows/release-images.yml scripts, run with bash as the runner runs them", () => {
  const wf = parse(fs.readFileSync(RELEASE_IMAGES_WORKFLOW, "utf8")) as {
    jobs: { images: { steps: { id?: string; name?: string; run?: string }[] } };
  };
  const script = (name: RegExp): string => {
    const step = wf.jobs.images.steps.find((s) => name.test(s.name ?? ""));
    if (step?.run === undefined) throw new Error(`no run step named ${String(name)}`);
    return step.run;
  };
  const REGISTRY = "us-docker.pkg.dev/nova-staging/nova";
  const API = `sha256:${"a".repeat(64)}`;
  const WORKER = `sha256:${"b".repeat(64)}`;

  /** Runs a step's script like `shell: bash` (bash --noprofile --norc -eo pipefail) with the runner's files. */
  function run(body: string, env: Record<string, string>, pathPrefix?: string) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-release-images-"));
    const file = path.join(dir, "step.sh");
    fs.writeFileSync(file, body);
    const files = { GITHUB_OUTPUT: "output", GITHUB_ENV: "env", GITHUB_STEP_SUMMARY: "summary" };
    for (const f of Object.values(files)) fs.writeFileSync(path.join(dir, f), "");
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", file], {
      cwd: dir,
      encoding: "utf8",
      timeout: 30_000,
      env: {
        PATH:
          pathPrefix === undefined ? process.env.PATH : `${pathPrefix}${path.delimiter}${process.env.PATH}`,
        ...Object.fromEntries(Object.entries(files).map(([k, f]) => [k, path.join(dir, f)])),
        ...env,
      },
    });
    if (r.error) throw r.error;
    const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
    return {
      status: r.status,
      out: `${r.stdout}${r.stderr}`,
      dir,
      output: read("output"),
      summary: read("summary"),
    };
  }

  it("accepts a release tag and an Artifact Registry repository, and derives the docker host", () => {
    const r = run(script(/^Release tag and registry$/), { TAG: "v1.4.2", NOVA_STAGING_REGISTRY: REGISTRY });
    expect(r.out).toBe("");
    expect(r.status).toBe(0);
    expect(r.output).toBe(`tag=v1.4.2\nregistry=${REGISTRY}\nhost=us-docker.pkg.dev\n`);
  });

  it.each([
    ["v1.4", REGISTRY, /::error::v1\.4 is not a release tag vX\.Y\.Z/],
    ["v1.4.2; curl evil", REGISTRY, /is not a release tag/],
    ["v1.4.2", "", /vars\.NOVA_STAGING_REGISTRY must be the staging Artifact Registry repository/],
    ["v1.4.2", "ghcr.io/org", /got 'ghcr\.io\/org'/],
  ])("refuses tag %j with registry %j", (tag, registry, message) => {
    const r = run(script(/^Release tag and registry$/), { TAG: tag, NOVA_STAGING_REGISTRY: registry });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(message);
    expect(r.output).toBe("");
  });

  /** A `docker` on PATH that records its calls and answers `imagetools inspect` with the digests it is given. */
  function stubDocker(registryDigests: Record<string, string>): string {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "nova-docker-stub-"));
    const answers = Object.entries(registryDigests)
      .map(([image, digest]) => `    *"/${image}:v1.4.2") echo '{"schemaVersion":2,"digest":"${digest}"}' ;;`)
      .join("\n");
    fs.writeFileSync(
      path.join(bin, "docker"),
      `#!/usr/bin/env bash\necho "$*" >> "${bin}/calls"\nif [ "$2 $3" = "imagetools inspect" ]; then\n  case "$4" in\n${answers}\n    *) exit 1 ;;\n  esac\nfi\n`,
      { mode: 0o755 },
    );
    return bin;
  }
  const tagCheck = () => script(/^Tag the pushed digests/);
  const digestsEnv = {
    TAG: "v1.4.2",
    NOVA_STAGING_REGISTRY: REGISTRY,
    API_DIGEST: API,
    WORKER_DIGEST: WORKER,
  };

  it("tags exactly the pushed digests and passes when the registry resolves the tag to them", () => {
    const bin = stubDocker({ "nova-rms-api": API, "nova-rms-worker": WORKER });
    const r = run(tagCheck(), digestsEnv, bin);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(bin, "calls"), "utf8").split("\n").filter(Boolean)).toEqual([
      `buildx imagetools create --tag ${REGISTRY}/nova-rms-api:v1.4.2 ${REGISTRY}/nova-rms-api@${API}`,
      `buildx imagetools inspect ${REGISTRY}/nova-rms-api:v1.4.2 --format {{json .Manifest}}`,
      `buildx imagetools create --tag ${REGISTRY}/nova-rms-worker:v1.4.2 ${REGISTRY}/nova-rms-worker@${WORKER}`,
      `buildx imagetools inspect ${REGISTRY}/nova-rms-worker:v1.4.2 --format {{json .Manifest}}`,
    ]);
  });

  it("fails when the registry resolves a tag to another digest, naming the image and both digests", () => {
    const other = `sha256:${"c".repeat(64)}`;
    const r = run(tagCheck(), digestsEnv, stubDocker({ "nova-rms-api": API, "nova-rms-worker": other }));
    expect(r.status).toBe(1);
    expect(r.out).toContain(
      `::error::${REGISTRY}/nova-rms-worker:v1.4.2 resolves to ${other}, not the pushed ${WORKER}`,
    );
    expect(r.out).not.toMatch(/nova-rms-api:v1\.4\.2 resolves/);
  });

  it("fails when a build reported no digest, before tagging anything", () => {
    const bin = stubDocker({ "nova-rms-api": API, "nova-rms-worker": WORKER });
    const r = run(tagCheck(), { ...digestsEnv, API_DIGEST: "" }, bin);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/::error::the build of .*\/nova-rms-api reported no digest/);
    expect(fs.existsSync(path.join(bin, "calls"))).toBe(false);
  });

  it("builds a release tag once: refuses a tag the registry already has, names its digest and the pin command", () => {
    const check = script(/^The release is not published yet$/);
    const fresh = run(check, digestsEnv, stubDocker({}));
    expect(fresh.out).toBe("");
    expect(fresh.status).toBe(0);
    const published = run(check, digestsEnv, stubDocker({ "nova-rms-worker": WORKER }));
    expect(published.status).toBe(1);
    expect(published.out).toContain(
      `::error::${REGISTRY}/nova-rms-worker:v1.4.2 is already published (${WORKER}): pin it (npm run rollout -- pin --stack staging --tag v1.4.2) or release a new tag`,
    );
  });

  it("writes the digests file rollout pin is compared against, and the pin commands in the summary", () => {
    const file = run(script(/^The digests as a machine-readable file$/), {
      ...digestsEnv,
      COMMIT: "0123abc",
    });
    expect(file.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(file.dir, "release-images.json"), "utf8"))).toEqual({
      tag: "v1.4.2",
      registry: REGISTRY,
      commit: "0123abc",
      apiImageDigest: API,
      workerImageDigest: WORKER,
    });
    const summary = run(script(/^Pin command as the job summary$/), digestsEnv).summary;
    expect(summary).toContain(`| \`${REGISTRY}/nova-rms-api:v1.4.2\` | \`${API}\` |`);
    expect(summary).toContain(`| \`${REGISTRY}/nova-rms-worker:v1.4.2\` | \`${WORKER}\` |`);
    expect(summary).toContain("npm run rollout -- pin --stack staging --tag v1.4.2 --dry-run\n");
    expect(summary).toContain("npm run rollout -- pin --stack staging --tag v1.4.2\n");
  });
});
