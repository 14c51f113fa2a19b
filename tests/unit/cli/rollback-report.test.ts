import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack, UpdateSummary } from "@pulumi/pulumi/automation";
import { afterEach, describe, expect, it, vi } from "vitest";
import { rollBack } from "../../../cli/actions/rollback";
import { standinKubeconfig } from "../../support/kube-api-standin";

const REPO = path.resolve(__dirname, "../../..");

/**
 * A project like this repository whose sandbox stack `local` reaches the layer's stand-in API server (an unmarked
 * cluster), so the stack classifies as the sandbox whether or not a sandbox cluster runs on this machine.
 */
function sandboxProject(dir: string): string {
  const project = path.join(dir, "project");
  for (const rel of [
    "Pulumi.yaml",
    "policy/config/production.json",
    "policy/config/local.json",
    "policy/trust/roster.json",
  ]) {
    fs.mkdirSync(path.dirname(path.join(project, rel)), { recursive: true });
    fs.copyFileSync(path.join(REPO, rel), path.join(project, rel));
  }
  fs.writeFileSync(path.join(project, "kubeconfig.yaml"), standinKubeconfig());
  const stackFile = fs
    .readFileSync(path.join(REPO, "Pulumi.local.yaml"), "utf8")
    .replace(/nova-rollout:kubeconfigPath: .*/, "nova-rollout:kubeconfigPath: kubeconfig.yaml");
  fs.writeFileSync(path.join(project, "Pulumi.local.yaml"), stackFile);
  return project;
}
const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;

type ConfigMap = Record<string, { value: string; secret?: boolean }>;

function update(
  version: number,
  tag: string,
  digest: string,
  result: UpdateSummary["result"],
): UpdateSummary {
  return {
    version,
    kind: "update",
    result,
    startTime: new Date(Date.now() - version * 60_000),
    endTime: new Date(Date.now() - version * 60_000 + 30_000),
    message: `release ${tag}`,
    environment: {},
    config: {
      "nova-rollout:imageTag": { value: tag, secret: false },
      "nova-rollout:apiImageDigest": { value: digest, secret: false },
      "nova-rollout:workerImageDigest": { value: digest, secret: false },
    },
  };
}

/** The sandbox stack `local` running release r2 (digests B), r1 (digests A) earlier in history; the update succeeds. */
function fakeStack(evidenceDir: string) {
  let config: ConfigMap = {
    "nova-rollout:imageTag": { value: "r2" },
    "nova-rollout:apiImageDigest": { value: B },
    "nova-rollout:workerImageDigest": { value: B },
    "nova-rollout:evidenceDir": { value: evidenceDir },
  };
  const sets: Record<string, string>[] = [];
  return {
    sets,
    config: () => config,
    stack: {
      history: vi.fn(() =>
        Promise.resolve([update(2, "r2", B, "succeeded"), update(1, "r1", A, "succeeded")]),
      ),
      getAllConfig: vi.fn(() => Promise.resolve(config)),
      setAllConfigJson: vi.fn((json: string) => {
        const values = JSON.parse(json) as Record<string, { value: string }>;
        sets.push(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.value])));
        config = { ...config, ...values };
        return Promise.resolve();
      }),
      setAllConfig: vi.fn(() => Promise.resolve()),
      removeConfig: vi.fn((key: string) => {
        config = Object.fromEntries(Object.entries(config).filter(([k]) => k !== key));
        return Promise.resolve();
      }),
      exportStack: vi.fn(() => Promise.resolve({ version: 3, deployment: { resources: [] } })),
      up: vi.fn(() =>
        Promise.resolve({
          stdout: "",
          stderr: "",
          summary: { resourceChanges: { update: 2 } },
          outputs: { releaseTag: { value: "r1", secret: false } },
        }),
      ),
    },
  };
}

const cleanup: string[] = [];
afterEach(() => {
  for (const dir of cleanup.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("a rollback whose report cannot be written", () => {
  it("is still a successful rollback: the restored config stays, no exit 8, a warning names what is missing", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollback-report-"));
    cleanup.push(dir);
    // The evidence directory lies under a regular file: no summary, notice or postmortem can be written there.
    fs.writeFileSync(path.join(dir, "not-a-dir"), "");
    const evidenceDir = path.join(dir, "not-a-dir", "logs");
    const fake = fakeStack(evidenceDir);
    const stderr: string[] = [];
    const write = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
    try {
      const target = await rollBack(sandboxProject(dir), "local", fake.stack as unknown as Stack, {
        reason: "test",
      });
      expect([target.version, target.release]).toEqual([1, "r1"]);
    } finally {
      write.mockRestore();
    }
    expect(fake.stack.up).toHaveBeenCalledOnce();
    // The config still names the restored release (nothing put back r2).
    expect(fake.config()["nova-rollout:imageTag"]?.value).toBe("r1");
    expect(fake.config()["nova-rollout:apiImageDigest"]?.value).toBe(A);
    expect(fake.sets.some((s) => s["nova-rollout:imageTag"] === "r2")).toBe(false);
    const said = stderr.join("");
    expect(said).toMatch(
      /warning: the rollback succeeded, but the rollback summary could not be written: ENOTDIR/,
    );
    expect(said).toMatch(
      /warning: the rollback succeeded, but the stakeholder notices and postmortem skeleton could not be written/,
    );
    expect(said).not.toMatch(/rollback summary: /);
  });
});
