// The automatic rollback of `rollout up`: whatever stops it (no signing key, no target), the command ends on the
// rollback-failed path (exit 8, where the stack stands, the emergency steps, the `rollback-failed` event), never on a
// usage error that leaves the failed release deployed without a word. The engine and the cluster are stand-ins here.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { UpdateSummary } from "@pulumi/pulumi/automation";
import { release } from "../../../cli/actions/release";
import { EXIT, UserError } from "../../../cli/errors";
import { readRejections } from "../../../src/evidence/rejections";
import { DIGESTS, makeProject, OTHER_DIGESTS, type ProjectFixture } from "../../policy/fixtures";

const sent: { kind: string; detail?: string }[] = [];
const stackStandIn: { current: unknown } = vi.hoisted(() => ({ current: undefined }));
/** The stacks `classifyStackFile` classified (a release resolves its stack once, its rollback included). */
const classified: string[] = vi.hoisted(() => []);

vi.mock("../../../src/evidence/stack-class", async (original) => {
  const real = await original<typeof import("../../../src/evidence/stack-class")>();
  return {
    ...real,
    classifyStackFile: (projectDir: string, stack: string) => {
      classified.push(stack);
      return real.classifyStackFile(projectDir, stack);
    },
  };
});

vi.mock("../../../cli/engine", async (original) => ({
  ...(await original<typeof import("../../../cli/engine")>()),
  openStack: () => Promise.resolve(stackStandIn.current),
}));
vi.mock("../../../cli/announce", () => ({
  notifierFor: () => ({
    send: (kind: string, _stack: string, _release: string, detail?: string) => {
      sent.push({ kind, ...(detail !== undefined ? { detail } : {}) });
      return Promise.resolve();
    },
  }),
}));
vi.mock("../../../cli/cluster-state", async (original) => ({
  ...(await original<typeof import("../../../cli/cluster-state")>()),
  clusterState: () =>
    Promise.resolve({
      namespace: "nova-prod",
      cronJobs: ["nova-billing-drill"],
      kubectl: "kubectl --context nova-prod",
      setup: [],
      lines: ["  CronJob nova-billing-drill: SUSPENDED", "  Deployment nova-api: registry/nova-rms-api@r2"],
      suspended: ["nova-billing-drill"],
    }),
}));

const VERIFY_URN =
  "urn:pulumi:production::nova-rollout::nova:verify:PostDeployVerification$command:local:Command::nova-verify-api-health";

function update(version: number, digests: { api: string; worker: string }, message: string): UpdateSummary {
  return {
    version,
    kind: "update",
    result: "succeeded",
    message,
    startTime: new Date(Date.UTC(2026, 10, version)),
    endTime: new Date(Date.UTC(2026, 10, version, 0, 5)),
    environment: {},
    config: {
      "nova-rollout:imageTag": { value: `r${version}`, secret: false },
      "nova-rollout:apiImageDigest": { value: digests.api, secret: false },
      "nova-rollout:workerImageDigest": { value: digests.worker, secret: false },
    },
  };
}

/** A production stack whose update fails in post-deploy verification; records what the CLI changed in its config. */
function failingStack(history: UpdateSummary[]) {
  const changed: string[] = [];
  return {
    changed,
    stack: {
      getAllConfig: () =>
        Promise.resolve({
          "nova-rollout:imageTag": { value: "r2", secret: false },
          "nova-rollout:apiImageDigest": { value: DIGESTS.api, secret: false },
          "nova-rollout:workerImageDigest": { value: DIGESTS.worker, secret: false },
        }),
      history: () => Promise.resolve(history),
      exportStack: () => Promise.resolve({ version: 3, deployment: { resources: [] } }),
      up: (o: { onEvent: (e: unknown) => void }) => {
        o.onEvent({ resOpFailedEvent: { metadata: { urn: VERIFY_URN } } });
        return Promise.reject(new Error("update failed"));
      },
      setAllConfigJson: () => {
        changed.push("setAllConfigJson");
        return Promise.resolve();
      },
      removeConfig: () => {
        changed.push("removeConfig");
        return Promise.resolve();
      },
    },
  };
}

let project: ProjectFixture;
const saved = { key: process.env.NOVA_SSH_KEY_FILE, operator: process.env.NOVA_OPERATOR };
beforeEach(() => {
  project = makeProject({ release: "r2" });
  sent.length = 0;
  classified.length = 0;
  delete process.env.NOVA_SSH_KEY_FILE;
  process.env.NOVA_OPERATOR = "ci-rollout";
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
});
afterEach(() => {
  project.cleanup();
  vi.restoreAllMocks();
  if (saved.key === undefined) delete process.env.NOVA_SSH_KEY_FILE;
  else process.env.NOVA_SSH_KEY_FILE = saved.key;
  if (saved.operator === undefined) delete process.env.NOVA_OPERATOR;
  else process.env.NOVA_OPERATOR = saved.operator;
});

async function failure(): Promise<UserError> {
  try {
    await release(project.dir, project.stack, { policy: true, autoRollback: true });
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error("the release should have failed");
}

const admitted = `release r1; nova-rollout admission ${JSON.stringify({ release: "r1", bundleSha256: "c".repeat(64) })}`;

describe("an automatic rollback that cannot run", () => {
  it.each([
    [
      "without a key to sign the rollback record",
      [update(1, OTHER_DIGESTS, admitted)],
      /must be signed by the person it names: pass --ssh-key/,
    ],
    ["without an earlier release to restore", [], /No earlier successful release/],
  ])("%s ends on the rollback-failed path (exit 8)", async (_what, history, why) => {
    const { stack, changed } = failingStack(history);
    stackStandIn.current = stack;
    const err = await failure();
    expect(err.exitCode).toBe(EXIT.rollbackFailed);
    expect(err.message).toMatch(/automatic rollback could not run; release r2 is still deployed/);
    expect(err.message).toMatch(why);
    expect(err.message).toMatch(/CronJob nova-billing-drill: SUSPENDED/);
    expect(err.message).toMatch(/Emergency steps/);
    expect(err.message).toMatch(/rollout undo deployment\/nova-api deployment\/nova-worker/);
    expect(err.message).toMatch(
      /patch cronjob nova-billing-drill --field-manager=nova-rollout-suspend -p '\{"spec":\{"suspend":false\}\}'/,
    );
    expect(sent.map((s) => s.kind)).toEqual(["release-started", "verification-failed", "rollback-failed"]);
    // The stack file was classified once for the release and its automatic rollback.
    expect(classified).toEqual([project.stack]);
    // Nothing was changed in the stack config; the failed release is rejected on the stack.
    expect(changed).toEqual([]);
    const rejected = readRejections(project.evidenceDir, project.stack).rejections;
    expect(rejected.map((r) => [r.release, r.imageDigests, r.failedVersion])).toEqual([
      ["r2", DIGESTS, history.length + 1],
    ]);
  });
});
