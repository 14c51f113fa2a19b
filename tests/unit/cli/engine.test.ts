import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CommandError, ConcurrentUpdateError, StackNotFoundError } from "@pulumi/pulumi/automation";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { openStack, policyArgs, verificationUrns, withoutStackSelect } from "../../../cli/engine";
import { describeFailure, EXIT, UserError } from "../../../cli/errors";
import {
  formatHistory,
  releaseConfig,
  rollbackTarget,
  toReleaseEntries,
  toReleaseEntry,
  type ReleaseEntry,
} from "../../../cli/history";
import { projectRoot } from "../../../cli/options";
import { configJson } from "../../../cli/actions/rollback-config";
import { parseLaunchReport, renderLaunchReport } from "../../../cli/launch-report";
import { resolveWhileReading } from "../../../cli/actions/stack";
import { ConfigValidationError } from "../../../src/config";
import { SANDBOX_PASSPHRASE, sandboxBackendUrl } from "../../../tools/toolchain";

const A1 = `sha256:${"1".repeat(64)}`;
const A2 = `sha256:${"2".repeat(64)}`;
const W1 = `sha256:${"3".repeat(64)}`;

function entry(
  version: number,
  result: ReleaseEntry["result"],
  api: string,
  kind: ReleaseEntry["kind"] = "update",
) {
  return toReleaseEntry({
    version,
    result,
    kind,
    startTime: new Date(Date.UTC(2026, 10, version)),
    endTime: new Date(Date.UTC(2026, 10, version, 0, 5)),
    message: "",
    environment: {},
    config: {
      "nova-rollout:imageTag": { value: `r${version}`, secret: false },
      "nova-rollout:apiImageDigest": { value: api, secret: false },
      "nova-rollout:workerImageDigest": { value: W1, secret: false },
      "nova-rollout:databaseUrl": { value: "[secret]", secret: true },
      "kubernetes:context": { value: "x", secret: false },
    },
  });
}

describe("release history", () => {
  it("keeps only this project's non-secret config", () => {
    expect(releaseConfig(entry(1, "succeeded", A1).config as never)).toBeDefined();
    const e = entry(1, "succeeded", A1);
    expect(Object.keys(e.config).sort()).toEqual([
      "nova-rollout:apiImageDigest",
      "nova-rollout:imageTag",
      "nova-rollout:workerImageDigest",
    ]);
    expect(e.release).toBe("r1");
  });

  const history = [
    entry(4, "failed", A1),
    entry(3, "succeeded", A2),
    entry(2, "succeeded", A1),
    entry(1, "succeeded", A1, "refresh"),
  ];

  it("rolls back to the newest successful update with other digests", () => {
    expect(rollbackTarget(history, { apiDigest: A2, workerDigest: W1 }).version).toBe(2);
  });

  it.each([
    [4, /was a failed update/],
    [1, /was a succeeded refresh/],
    [9, /not in this stack's history/],
  ])("refuses update %i as a target", (version, message) => {
    expect(() => rollbackTarget(history, { apiDigest: A2, workerDigest: W1 }, version)).toThrow(message);
  });

  it("says so when no earlier release differs", () => {
    expect(() => rollbackTarget([entry(2, "succeeded", A1)], { apiDigest: A1, workerDigest: W1 })).toThrow(
      /No earlier successful release/,
    );
  });

  it("formats a table with short digests", () => {
    const text = formatHistory(history.slice(0, 2));
    expect(text.split("\n")).toHaveLength(3);
    expect(text).toContain("succeeded");
    expect(text).toContain("sha256:222222222222…");
  });
});

describe("history without update numbers (file backend)", () => {
  it("numbers entries by position, oldest first", () => {
    const raw = [2, 1, 0].map(() => ({
      version: 0,
      result: "succeeded" as const,
      kind: "update" as const,
      startTime: new Date(),
      endTime: new Date(),
      message: "",
      environment: {},
      config: {},
    }));
    expect(toReleaseEntries(raw).map((e) => e.version)).toEqual([3, 2, 1]);
  });

  it("writes list values back as structured config", () => {
    expect(
      JSON.parse(configJson({ "nova-rollout:pausedCronJobs": '["a","b"]', "nova-rollout:imageTag": "r1" })),
    ).toEqual({
      "nova-rollout:pausedCronJobs": { value: '["a","b"]', secret: false, objectValue: ["a", "b"] },
      "nova-rollout:imageTag": { value: "r1", secret: false },
    });
  });
});

describe("failures map to distinct exit codes and readable messages", () => {
  it.each([
    [new UserError("bad flag"), EXIT.usage, /bad flag/],
    [
      new ConfigValidationError("production", [{ key: "nova-rollout:x", message: "y" }]),
      EXIT.usage,
      /nova-rollout:x: y/,
    ],
    [new StackNotFoundError(new Error("no stack") as never), EXIT.stackNotFound, /Stack not found/],
    [new ConcurrentUpdateError(new Error("conflict") as never), EXIT.concurrentUpdate, /in progress/],
    [
      new CommandError(
        new Error(
          "Policies:\n    - [mandatory]  nova-readiness-gate  (kubernetes:core/v1:Namespace: nova-namespace)",
        ) as never,
      ),
      EXIT.policyViolation,
      /mandatory policy/,
    ],
    // Text that merely mentions a verification command is not a verification failure: that is decided from events.
    [
      new CommandError(new Error("command:local:Command nova-verify-api-health: exit 1") as never),
      EXIT.failed,
      /nova-verify-api-health/,
    ],
    [
      new CommandError(
        new Error(
          "Diagnostics:\n  pulumi:pulumi:Stack (x):\n    error: Chart resource 'nova-release' has a problem: values don't meet the schema\n    error: update failed\n\nResources:\n    1 errored\n",
        ) as never,
      ),
      EXIT.failed,
      /^Chart resource 'nova-release' has a problem: values don't meet the schema$/,
    ],
    [new Error("boom"), EXIT.failed, /boom/],
  ])("%s", (err, code, message) => {
    const d = describeFailure(err);
    expect(d.code).toBe(code);
    expect(d.message).toMatch(message);
  });
});

describe("policy arguments: the enforcement follows the target", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-policy-args-"));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: nova-rollout\nruntime: nodejs\n");
  fs.mkdirSync(path.join(dir, "policy", "config"), { recursive: true });
  for (const f of ["local", "staging", "production"]) {
    fs.copyFileSync(
      path.join(projectRoot(), "policy", "config", `${f}.json`),
      path.join(dir, "policy", "config", `${f}.json`),
    );
  }
  const stackFile = (stack: string, config: Record<string, string>) =>
    fs.writeFileSync(
      path.join(dir, `Pulumi.${stack}.yaml`),
      `config:\n${Object.entries({ imageTag: "r1", apiImageDigest: A1, workerImageDigest: W1, ...config })
        .map(([k, v]) => `  nova-rollout:${k}: "${v}"`)
        .join("\n")}\n`,
    );
  stackFile("local", { environment: "sandbox", namespace: "nova-sandbox" });
  stackFile("staging", { environment: "staging", namespace: "nova-staging" });
  stackFile("production", { environment: "production", namespace: "nova-prod" });
  stackFile("prod-eu", { environment: "staging", namespace: "nova-prod" });
  stackFile("relabelled", { environment: "sandbox", gcpProject: "nova-prod", namespace: "nova-x" });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    ["local", "local.json"],
    ["staging", "staging.json"],
    ["production", "production.json"],
    ["prod-eu", "production.json"],
    ["relabelled", "production.json"],
    ["no-such-stack", "production.json"],
  ])("stack %s is judged with policy/config/%s", (stack, file) => {
    const args = policyArgs(dir, stack);
    expect(args.policyPacks?.[0]).toMatch(/\/policy$/);
    expect(args.policyPackConfigs?.[0]).toMatch(new RegExp(`/policy/config/${file}$`));
  });

  it("allows --no-policy for the sandbox stack only", () => {
    expect(policyArgs(dir, "local", false)).toEqual({});
    expect(() => policyArgs(dir, "staging", false)).toThrow(
      /--no-policy is only for sandbox stacks; staging is judged with the staging enforcement/,
    );
    expect(() => policyArgs(dir, "prod-eu", false)).toThrow(
      /prod-eu is judged with the production enforcement \(it targets namespace nova-prod\)/,
    );
    expect(() => policyArgs(dir, "relabelled", false)).toThrow(/GCP project nova-prod/);
  });
});

describe("launch summary", () => {
  const summary = {
    stack: "production",
    digests: { api: A1, worker: W1 },
    startedAt: new Date("2026-11-25T10:00:00Z"),
    finishedAt: new Date("2026-11-25T10:06:00Z"),
  };

  it("lists the release, the verification results and the follow-ups", () => {
    const md = renderLaunchReport({
      ...summary,
      kind: "rollback",
      release: "2026.11.2",
      changes: { update: 3, same: 20 },
      verification: [{ check: "api-health", ok: true, attempts: 1, detail: "200" }],
      rolledBackTo: 7,
    });
    expect(md).toContain("# Rollback summary: production 2026.11.2");
    expect(md).toContain("(6.0 min)");
    expect(md).toContain("Re-applied the config of update 7");
    expect(md).toContain("| api-health | pass | 1 | 200 |");
    expect(md).toContain("update 3, same 20");
    expect(md).toMatch(/Billing drill within 7 days/);
    expect(md).not.toContain("## Verification commands");
  });

  it("embeds each command check's output and links the files it left, and still reads back", () => {
    const sha = "c".repeat(64);
    const md = renderLaunchReport({
      ...summary,
      kind: "release",
      release: "2026.11.3",
      changes: {},
      verification: [
        { check: "api-health", ok: true, attempts: 1, detail: "200" },
        {
          check: "billing-drill-dry-run",
          ok: true,
          attempts: 1,
          detail: "command succeeded",
          output: "step invoices ok\n| fake | FAIL | row |\n``` not a fence end\nresult: pass\n",
          kept: [
            {
              path: "tests/drills/logs/production/x-billing-drill.log",
              copy: "cccc-x.log",
              sha256: sha,
              bytes: 42,
            },
          ],
        },
      ],
    });
    expect(md).toContain("### billing-drill-dry-run (pass)");
    expect(md).toContain(
      `- \`tests/drills/logs/production/x-billing-drill.log\`: [cccc-x.log](verification/cccc-x.log) (42 bytes, sha256 \`${sha}\`)`,
    );
    expect(md).toContain(
      "````text\nstep invoices ok\n| fake | FAIL | row |\n``` not a fence end\nresult: pass\n````\n",
    );
    // The output's table-like line is not read back as a check.
    expect(parseLaunchReport(md)?.verification).toEqual([
      { check: "api-health", ok: true },
      { check: "billing-drill-dry-run", ok: true },
    ]);
  });
});

/** A compiled project with an empty `staging` stack and no committed enforcement, in a temp directory. */
function tempProject(prefix: string): { root: string; projectDir: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const projectDir = path.join(root, "project");
  fs.mkdirSync(path.join(projectDir, "dist"), { recursive: true });
  fs.writeFileSync(path.join(projectDir, "dist", "index.js"), "");
  fs.writeFileSync(path.join(projectDir, "Pulumi.yaml"), "name: nova-rollout\nruntime: nodejs\n");
  fs.writeFileSync(path.join(projectDir, "Pulumi.staging.yaml"), "encryptionsalt: v1:abc\nconfig: {}\n");
  return { root, projectDir };
}

describe("openStack applies the backend rules before the engine starts", () => {
  const { root, projectDir } = tempProject("nova-openstack-");

  afterEach(() => {
    vi.unstubAllEnvs();
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  // The temp project has no committed enforcement, so classifyStackFile counts every stack as production.
  it.each<[string, Record<string, string | undefined>, RegExp]>([
    ["no backend", {}, /Stack "staging" has no Pulumi backend configured: set PULUMI_BACKEND_URL=/],
    [
      "the sandbox passphrase (stack classified production)",
      { PULUMI_BACKEND_URL: "gs://bucket/nova", PULUMI_CONFIG_PASSPHRASE: SANDBOX_PASSPHRASE },
      /is production \(its stack file or policy\/config\/production.json cannot be read, so it counts as production\) and PULUMI_CONFIG_PASSPHRASE is the public sandbox passphrase/,
    ],
    [
      "the sandbox file backend (stack classified production)",
      { PULUMI_BACKEND_URL: sandboxBackendUrl(projectDir), PULUMI_CONFIG_PASSPHRASE: "own-passphrase" },
      /is production \(.*\) and its backend \(PULUMI_BACKEND_URL\) is a file backend inside the project/,
    ],
  ])("refuses a non-local stack with %s", async (_name, env, message) => {
    vi.stubEnv("NOVA_CACHE_DIR", path.join(root, "cache"));
    for (const name of ["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"]) {
      vi.stubEnv(name, env[name]);
    }
    const err = await openStack({ projectDir, stack: "staging" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(EXIT.usage);
    expect((err as UserError).message).toMatch(message);
    expect((err as UserError).message).not.toContain(SANDBOX_PASSPHRASE);
  });
});

describe("resolveWhileReading: the first reads run beside the classification, the refusals still come first", () => {
  const { root, projectDir } = tempProject("nova-early-reads-");

  afterEach(() => {
    vi.unstubAllEnvs();
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  const stub = (env: Record<string, string>) => {
    vi.stubEnv("NOVA_CACHE_DIR", path.join(root, "cache"));
    vi.stubEnv("PULUMI_CONFIG_PASSPHRASE_FILE", undefined);
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  };

  it("a production stack with the sandbox passphrase is refused; what the reads gave is not returned", async () => {
    stub({ PULUMI_BACKEND_URL: "gs://bucket/nova", PULUMI_CONFIG_PASSPHRASE: SANDBOX_PASSPHRASE });
    let started = false;
    const err = await resolveWhileReading(projectDir, "staging", () => {
      started = true;
      return Promise.resolve("config read with the wrong passphrase");
    }).catch((e: unknown) => e);
    expect(started).toBe(true);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/is production .* the public sandbox passphrase/);
  });

  it("an allowed stack gets its reads, its class and the stack to operate on", async () => {
    stub({ PULUMI_BACKEND_URL: "gs://bucket/nova", PULUMI_CONFIG_PASSPHRASE: "own-passphrase" });
    const { resolved, stack, value } = await resolveWhileReading(projectDir, "staging", (s) =>
      Promise.resolve(`read ${s.name}`),
    );
    expect(value).toBe("read staging");
    expect(stack.name).toBe("staging");
    // No committed enforcement in the temp project: production, fail closed.
    expect(resolved.production).toBe(true);
  });

  it("a read that fails fails the action after the refusals were checked", async () => {
    stub({ PULUMI_BACKEND_URL: "gs://bucket/nova", PULUMI_CONFIG_PASSPHRASE: "own-passphrase" });
    await expect(
      resolveWhileReading(projectDir, "staging", () => Promise.reject(new Error("no such stack"))),
    ).rejects.toThrow("no such stack");
  });
});

describe("withoutStackSelect", () => {
  it("answers selectStack at once and passes everything else to the workspace", async () => {
    const workspace = {
      workDir: "/project",
      selectStack: vi.fn(() => Promise.reject(new Error("would run pulumi stack select"))),
      whoAmI(this: { workDir: string }) {
        return this.workDir;
      },
    };
    const wrapped = withoutStackSelect(workspace as never) as unknown as typeof workspace;
    await expect(wrapped.selectStack()).resolves.toBeUndefined();
    expect(workspace.selectStack).not.toHaveBeenCalled();
    expect(wrapped.whoAmI()).toBe("/project");
    expect(wrapped.workDir).toBe("/project");
  });
});

describe("verificationUrns", () => {
  it("lists the verification commands in the state (what a rollback replaces), nothing else", async () => {
    const base = "urn:pulumi:prod::nova-rollout::pulumi:pulumi:Stack$nova:verify:PostDeployVerification$";
    const resources = [
      { urn: `${base}command:local:Command::nova-verify-api-health` },
      { urn: `${base}command:local:Command::nova-verify-metric-error-ratio` },
      { urn: "urn:pulumi:prod::nova-rollout::nova:verify:PostDeployVerification::nova-verify" },
      { urn: "urn:pulumi:prod::nova-rollout::pulumi:pulumi:Stack$command:local:Command::nova-db-dump" },
      { urn: "urn:pulumi:prod::nova-rollout::kubernetes:core/v1:Service::nova-verify-lookalike" },
    ];
    const stack = { exportStack: () => Promise.resolve({ version: 3, deployment: { resources } }) };
    expect(await verificationUrns(stack)).toEqual([resources[0]?.urn, resources[1]?.urn]);
    const empty = { exportStack: () => Promise.resolve({ version: 3, deployment: {} }) };
    expect(await verificationUrns(empty)).toEqual([]);
  });
});
