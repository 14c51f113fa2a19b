import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, isSecret, promiseOf, settle, unwrap, type MockState } from "../support/mocks";

let mocks: MockState;
let mod: typeof import("../../../components/app-secrets");

beforeAll(async () => {
  mocks = installMocks({
    calls: {
      "gcp:secretmanager/getSecretVersion:getSecretVersion": (i) => ({
        secretData: `value-of-${String(i.secret)}`,
      }),
    },
  });
  mod = await import("../../../components/app-secrets");
});

const entries = [
  { key: "databaseUrl", envName: "DATABASE_URL" },
  { key: "jwtSigningKey", envName: "JWT_SIGNING_KEY" },
];

describe("AppSecrets", () => {
  it("publishes config secrets as a Secret whose data stays secret", async () => {
    const s = new mod.AppSecrets("cfg", {
      namespace: "nova-prod",
      entries,
      required: ["databaseUrl", "jwtSigningKey"],
      source: {
        kind: "config",
        values: { databaseUrl: pulumi.secret("postgres://x"), jwtSigningKey: pulumi.secret("k") },
      },
    });
    expect(await promiseOf(s.secretName)).toBe("nova-app-secrets");
    expect(await isSecret(s.secret.stringData)).toBe(true);
    expect(await isSecret(s.checksum)).toBe(false);
    await settle();
    const secret = mocks.named("cfg-secret");
    expect(secret.type).toBe("kubernetes:core/v1:Secret");
    expect(unwrap(secret.inputs.stringData)).toEqual({
      secret: true,
      value: { DATABASE_URL: "postgres://x", JWT_SIGNING_KEY: "k" },
    });
    expect(secret.inputs.metadata).toMatchObject({ namespace: "nova-prod", name: "nova-app-secrets" });
  });

  it("changes the checksum when any value changes, and only then", async () => {
    const make = async (name: string, db: string) =>
      promiseOf(
        new mod.AppSecrets(name, {
          namespace: "ns",
          entries,
          required: [],
          source: {
            kind: "config",
            values: { databaseUrl: pulumi.secret(db), jwtSigningKey: pulumi.secret("k") },
          },
        }).checksum,
      );
    const a = await make("sum-a", "postgres://one");
    const b = await make("sum-b", "postgres://one");
    const c = await make("sum-c", "postgres://two");
    expect(a).toMatch(/^[a-f0-9]{16}$/);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a).not.toContain("postgres");
  });

  it("reads each secret from Secret Manager with the prefix", async () => {
    const s = new mod.AppSecrets("gsm", {
      namespace: "nova-prod",
      entries,
      required: ["databaseUrl"],
      source: { kind: "gcp-secret-manager", project: "nova-prod", prefix: "nova-prod-" },
    });
    await promiseOf(s.checksum);
    const ids = mocks.calls.filter((c) => c.token.includes("getSecretVersion")).map((c) => c.inputs.secret);
    expect(ids).toEqual(expect.arrayContaining(["nova-prod-database-url", "nova-prod-jwt-signing-key"]));
    expect(await isSecret(s.secret.stringData)).toBe(true);
  });

  it("refuses a missing required secret before anything is registered", () => {
    const before = mocks.resources.length;
    expect(
      () =>
        new mod.AppSecrets("missing", {
          namespace: "ns",
          entries,
          required: ["databaseUrl", "jwtSigningKey"],
          source: { kind: "config", values: { databaseUrl: pulumi.secret("x") } },
        }),
    ).toThrow(/required secrets are missing/);
    try {
      new mod.AppSecrets("missing2", {
        namespace: "ns",
        entries,
        required: ["jwtSigningKey", "nope"],
        source: { kind: "config", values: {} },
      });
    } catch (e) {
      const errors = (e as pulumi.InputPropertiesError).errors.map((x) => x.propertyPath);
      expect(errors).toEqual(["required.nope", "source.values.jwtSigningKey"]);
    }
    expect(mocks.resources.slice(before).filter((r) => r.type === "kubernetes:core/v1:Secret")).toEqual([]);
  });
});
