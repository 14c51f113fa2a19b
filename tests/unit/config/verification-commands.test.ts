import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigValidationError, isSecretConfigKey, parseStackSettings } from "../../../src/config";
import { PLAYBOOK_COMMANDS } from "../../../src/contract";
import { productionRaw, sandboxRaw } from "../support/config-fixtures";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "verification-commands-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function problems(raw: Record<string, unknown>): { key: string; message: string }[] {
  try {
    parseStackSettings(raw, { stack: "production", projectDir: work });
  } catch (err) {
    if (err instanceof ConfigValidationError) return [...err.problems];
    throw err;
  }
  return [];
}

describe("the verification commands: the playbook's, run in the app checkout", () => {
  it("with an appDir, default to the playbook's E2E and the environment's drill, run in the checkout", () => {
    const prod = parseStackSettings(productionRaw({ appDir: "../nova-rms" }), {
      stack: "production",
      projectDir: work,
    }).verification;
    expect(prod).toMatchObject({
      syntheticE2eCommand: "pnpm test:e2e --project=chromium",
      billingDrillDryRunCommand: "pnpm drill:billing --env-file tests/drills/production.drill.env",
      commandDir: path.resolve(work, "../nova-rms"),
    });
    const staging = parseStackSettings(sandboxRaw({ environment: "staging", appDir: "/src/nova-rms" }), {
      stack: "staging",
      projectDir: work,
    }).verification;
    expect(staging.billingDrillDryRunCommand).toBe(PLAYBOOK_COMMANDS.stagingDrill);
    expect(staging.commandDir).toBe("/src/nova-rms");
  });

  it("keeps configured commands; without an app checkout there is no default and no directory", () => {
    const configured = parseStackSettings(
      productionRaw({ appDir: "/src/nova-rms", syntheticE2eCommand: "pnpm test:e2e --project=firefox" }),
      { stack: "production", projectDir: work },
    ).verification;
    expect(configured.syntheticE2eCommand).toBe("pnpm test:e2e --project=firefox");
    const none = parseStackSettings(productionRaw(), { stack: "production", projectDir: work }).verification;
    expect([none.syntheticE2eCommand, none.billingDrillDryRunCommand, none.commandDir]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("finds the checkout this program's infra/ lives in", () => {
    const app = path.join(work, "app");
    fs.mkdirSync(path.join(app, "infra", "rollout"), { recursive: true });
    fs.writeFileSync(path.join(app, "pnpm-workspace.yaml"), "packages: []\n");
    const s = parseStackSettings(productionRaw(), {
      stack: "production",
      projectDir: path.join(app, "infra", "rollout"),
    });
    expect(s.verification.commandDir).toBe(app);
    expect(s.verification.syntheticE2eCommand).toBe(PLAYBOOK_COMMANDS.e2e);
  });
});

describe("verificationEnvironment: the commands' secret variables", () => {
  it("is a secret key, read as text or as a map", () => {
    expect(isSecretConfigKey("verificationEnvironment")).toBe(true);
    for (const value of [
      '{"E2E_READONLY_PASSWORD":"pw-1","E2E_READONLY_EMAIL":"ro@nova.test"}',
      {
        E2E_READONLY_PASSWORD: "pw-1",
        E2E_READONLY_EMAIL: "ro@nova.test",
      },
    ]) {
      const s = parseStackSettings(productionRaw({ verificationEnvironment: value }), {
        stack: "production",
        projectDir: work,
      });
      expect(s.verification.commandEnvironment).toEqual({
        E2E_READONLY_PASSWORD: "pw-1",
        E2E_READONLY_EMAIL: "ro@nova.test",
      });
    }
  });

  it("names every bad variable and every reserved one, with the other bad keys, at once", () => {
    const found = problems(
      productionRaw({
        verificationEnvironment: {
          "1BAD": "x",
          "E2E-TOKEN": "y",
          PATH: "/tmp",
          NOVA_API_BASE_URL: "z",
          OK_1: "v",
        },
        apiReplicas: "0",
      }),
    );
    const env = found.filter((p) => p.key === "nova-rollout:verificationEnvironment").map((p) => p.message);
    expect(env).toEqual([
      "not a variable name: 1BAD, E2E-TOKEN",
      expect.stringMatching(/^PATH, NOVA_API_BASE_URL are set by the verification itself/),
    ]);
    expect(found.map((p) => p.key)).toContain("nova-rollout:apiReplicas");
  });

  it("refuses a value that is not a map of text", () => {
    const found = problems(productionRaw({ verificationEnvironment: '["E2E_TOKEN"]' }));
    expect(found.map((p) => p.key)).toEqual(["nova-rollout:verificationEnvironment"]);
    expect(
      problems(productionRaw({ verificationEnvironment: { E2E_TOKEN: 3 } })).map((p) => p.message),
    ).toEqual(["[E2E_TOKEN] expected text values"]);
  });
});
