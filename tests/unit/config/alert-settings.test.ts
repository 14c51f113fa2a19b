import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ConfigValidationError,
  loadStackSettingsFromFile,
  parseStackSettings,
  plaintextSecretProblems,
  readStackFile,
} from "../../../src/config";
import { productionRaw, sandboxRaw } from "../support/config-fixtures";

const opts = { stack: "production", projectDir: "/repo" };

function problems(raw: Record<string, unknown>): { key: string; message: string }[] {
  try {
    parseStackSettings(raw, opts);
  } catch (err) {
    if (err instanceof ConfigValidationError) return [...err.problems];
    throw err;
  }
  return [];
}

describe("alertMatchers: which firing alerts are the stack's", () => {
  it.each([
    ["not set: the stack's namespace", {}, ['namespace="nova-prod"']],
    ["an empty list: the stack's namespace", { alertMatchers: [] }, ['namespace="nova-prod"']],
    [
      "a list as config text",
      { alertMatchers: '["namespace=\\"nova-prod\\"","team=~\\"nova|billing\\""]' },
      ['namespace="nova-prod"', 'team=~"nova|billing"'],
    ],
    ["a typed list", { alertMatchers: ['service!="legacy"'] }, ['service!="legacy"']],
  ])("%s", (_name, extra, want) => {
    expect(parseStackSettings(productionRaw(extra), opts).verification.alertMatchers).toEqual(want);
  });

  it("follows the namespace of a sandbox stack", () => {
    const s = parseStackSettings(sandboxRaw({ namespace: "it-sandbox" }), {
      stack: "local",
      projectDir: "/repo",
    });
    expect(s.verification.alertMatchers).toEqual(['namespace="it-sandbox"']);
  });

  it("names every malformed matcher and every other bad key at once", () => {
    const found = problems(
      productionRaw({
        alertMatchers: ['namespace="nova-prod"', "severity", 'team=~"(nova"', '1x="y"'],
        alertmanagerAuthorization: "token-without-scheme",
        prometheusAuthorization: "Bearer abc",
        apiReplicas: "0",
      }),
    );
    const of = (key: string) => found.filter((p) => p.key === `nova-rollout:${key}`).map((p) => p.message);
    expect(of("alertMatchers")).toEqual([
      expect.stringMatching(/^`severity` is not a matcher: expected label="value"/),
      expect.stringMatching(/^`team=~"\(nova"`: invalid regular expression/),
      expect.stringMatching(/"1x" is not a label name/),
    ]);
    expect(of("alertmanagerAuthorization")).toEqual([
      'expected an Authorization header value, "Bearer <token>" or "Basic <base64>" (a secret)',
    ]);
    // The message never repeats the value.
    expect(JSON.stringify(found)).not.toContain("token-without-scheme");
    expect(of("prometheusUrl")).toEqual(["required when prometheusAuthorization is set"]);
    expect(of("apiReplicas")).toHaveLength(1);
  });

  it("types the authorizations as plain values for the program to wrap as secrets", () => {
    const s = parseStackSettings(
      productionRaw({
        alertmanagerAuthorization: "Bearer am",
        prometheusAuthorization: "Basic dTpw",
        prometheusUrl: "https://prom.example",
      }),
      opts,
    );
    expect(s.verification).toMatchObject({
      alertmanagerAuthorization: "Bearer am",
      prometheusAuthorization: "Basic dTpw",
    });
    expect(parseStackSettings(productionRaw(), opts).verification.alertmanagerAuthorization).toBeUndefined();
  });

  it("refuses an authorization stored in plain text", () => {
    const secretKeys = new Set(
      ["databaseUrl", "jwtSigningKey", "billingApiKey", "rehearsalDatabaseUrl", "secretsChecksumKey"].map(
        (k) => `nova-rollout:${k}`,
      ),
    );
    let error: unknown;
    try {
      parseStackSettings(productionRaw({ alertmanagerAuthorization: "Bearer am" }), {
        ...opts,
        isSecret: (key) => secretKeys.has(key),
      });
    } catch (err) {
      error = err;
    }
    expect((error as ConfigValidationError).problems).toEqual([
      {
        key: "nova-rollout:alertmanagerAuthorization",
        message: "is a secret: store it with `pulumi config set --secret`",
      },
    ]);
  });
});

describe("an authorization in a stack file", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alert-settings-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (stack: string, lines: string[]) => {
    const committed = fs.readFileSync(
      path.join(__dirname, "..", "..", "..", "Pulumi.production.yaml"),
      "utf8",
    );
    // The two secrets production sets per stack, encrypted as `pulumi config set --secret` stores them.
    const perStack = ["rehearsalDatabaseUrl", "secretsChecksumKey"].flatMap((key) => [
      `  nova-rollout:${key}:`,
      "    secure: v1:aGVsbG8=:c2VjcmV0",
    ]);
    fs.writeFileSync(
      path.join(dir, `Pulumi.${stack}.yaml`),
      `${committed.trimEnd()}\n${[...perStack, ...lines].join("\n")}\n`,
    );
  };

  it("in plain text is a problem, named with the file's other problems", () => {
    write("plain", [
      "  nova-rollout:alertmanagerAuthorization: Bearer plain-token",
      "  nova-rollout:prometheusAuthorization: Basic cGxhaW4=",
    ]);
    expect(plaintextSecretProblems(readStackFile(dir, "plain")).map((p) => p.key)).toEqual([
      "nova-rollout:alertmanagerAuthorization",
      "nova-rollout:prometheusAuthorization",
    ]);
    let error: unknown;
    try {
      loadStackSettingsFromFile(dir, "plain");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as ConfigValidationError).message).not.toContain("plain-token");
    expect((error as ConfigValidationError).problems.map((p) => p.key)).toEqual(
      expect.arrayContaining([
        "nova-rollout:alertmanagerAuthorization",
        "nova-rollout:prometheusAuthorization",
      ]),
    );
  });

  it("encrypted passes (its value is a placeholder without the engine)", () => {
    write("encrypted", ["  nova-rollout:alertmanagerAuthorization:", "    secure: v1:aGVsbG8=:c2VjcmV0"]);
    expect(plaintextSecretProblems(readStackFile(dir, "encrypted"))).toEqual([]);
    expect(loadStackSettingsFromFile(dir, "encrypted").verification.alertmanagerAuthorization).toBe(
      "[encrypted]",
    );
  });

  it("the other secret maps encrypted pass too: notification channels, the commands' variables", () => {
    write("maps", [
      "  nova-rollout:notifyChannels:",
      "    secure: v1:aGVsbG8=:Y2hhbm5lbHM=",
      "  nova-rollout:verificationEnvironment:",
      "    secure: v1:aGVsbG8=:dmFyaWFibGVz",
    ]);
    expect(plaintextSecretProblems(readStackFile(dir, "maps"))).toEqual([]);
    expect(loadStackSettingsFromFile(dir, "maps").verification.commandEnvironment).toBeUndefined();
  });
});
