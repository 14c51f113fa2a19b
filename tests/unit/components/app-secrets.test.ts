import { createHash, createHmac } from "node:crypto";
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

  it("uses checksumKey when given: same values, another key, another checksum", async () => {
    const make = async (name: string, key?: string) =>
      promiseOf(
        new mod.AppSecrets(name, {
          namespace: "ns",
          entries,
          required: [],
          source: {
            kind: "config",
            values: { databaseUrl: pulumi.secret("postgres://one"), jwtSigningKey: pulumi.secret("k") },
          },
          ...(key !== undefined ? { checksumKey: pulumi.secret(key) } : {}),
        }).checksum,
      );
    const derived = await make("key-none");
    const k1 = await make("key-1", "checksum-key-1");
    expect(k1).toBe(await make("key-1b", "checksum-key-1"));
    expect(new Set([derived, k1, await make("key-2", "checksum-key-2")]).size).toBe(3);
    expect(k1).toBe(
      mod.secretsChecksum({ DATABASE_URL: "postgres://one", JWT_SIGNING_KEY: "k" }, "checksum-key-1"),
    );
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

describe("secretsChecksum: a keyed HMAC, deterministic, revealing nothing without the key", () => {
  const values = { DATABASE_URL: "postgres://u:pw@db/nova", JWT_SIGNING_KEY: "k".repeat(32) };
  const checksum = (v: Record<string, string>, key?: string) => mod.secretsChecksum(v, key);
  const sha = (text: string) => createHash("sha256").update(text).digest("hex");

  it.each([
    ["the same values", values, undefined, true],
    [
      "the same values in another order",
      { JWT_SIGNING_KEY: values.JWT_SIGNING_KEY, DATABASE_URL: values.DATABASE_URL },
      undefined,
      true,
    ],
    ["one value changed", { ...values, DATABASE_URL: "postgres://u:pw2@db/nova" }, undefined, false],
    [
      "a value moved to another name",
      { DATABASE_URL: values.JWT_SIGNING_KEY, JWT_SIGNING_KEY: values.DATABASE_URL },
      undefined,
      false,
    ],
    ["a value added", { ...values, BILLING_API_KEY: "b" }, undefined, false],
    [
      "name/value boundaries shifted",
      { DATABASE_UR: `L${values.DATABASE_URL}`, JWT_SIGNING_KEY: values.JWT_SIGNING_KEY },
      undefined,
      false,
    ],
    ["a dedicated key", values, "dedicated-key", false],
  ])("%s: equal to the original = %s", (_name, v, key, same) => {
    const sum = checksum(v, key);
    expect(sum).toMatch(/^[a-f0-9]{16}$/);
    expect(sum === checksum(values)).toBe(same);
  });

  it("is the HMAC-SHA256 of the length-prefixed pairs, keyed with the derived or given key", () => {
    const pairs = Buffer.concat(
      ["DATABASE_URL", values.DATABASE_URL, "JWT_SIGNING_KEY", values.JWT_SIGNING_KEY].map((p) => {
        const b = Buffer.from(p);
        const len = Buffer.alloc(4);
        len.writeUInt32BE(b.length);
        return Buffer.concat([len, b]);
      }),
    );
    expect(checksum(values, "K")).toBe(createHmac("sha256", "K").update(pairs).digest("hex").slice(0, 16));
    const derivedKey = createHash("sha256")
      .update("nova-rollout/app-secrets/checksum-key/v1")
      .update(pairs)
      .digest();
    expect(checksum(values)).toBe(createHmac("sha256", derivedKey).update(pairs).digest("hex").slice(0, 16));
  });

  it("is not an unsalted hash of the values (no offline check of a guessed value)", () => {
    const unsalted = [
      sha(Object.values(values).join("")),
      sha(Object.entries(values).flat().join("\u0000")),
      sha(`${Object.entries(values).flat().join("\u0000")}\u0000`),
    ].map((h) => h.slice(0, 16));
    expect(unsalted).not.toContain(checksum(values));
  });
});
