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
/** The dedicated checksum key of these tests (what `nova-rollout:secretsChecksumKey` holds). */
const KEY = "f3c1a9e07b5d4e2c8a6f1b3d5e7c9a0b2d4f6e8a1c3b5d7f9e0a2c4b6d8f0e1a";
const checksumKey = pulumi.secret(KEY);

/** The checksum as it was before the dedicated key: an HMAC keyed with SHA-256 over a fixed context and the values. */
function valueDerivedChecksum(values: Record<string, string>): string {
  const pairs = Buffer.concat(
    Object.keys(values)
      .sort()
      .flatMap((k) => [k, values[k] ?? ""])
      .map((p) => {
        const b = Buffer.from(p);
        const len = Buffer.alloc(4);
        len.writeUInt32BE(b.length);
        return Buffer.concat([len, b]);
      }),
  );
  const derived = createHash("sha256")
    .update("nova-rollout/app-secrets/checksum-key/v1")
    .update(pairs)
    .digest();
  return createHmac("sha256", derived).update(pairs).digest("hex").slice(0, 16);
}

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
      checksumKey,
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
    expect(secret.inputs.metadata).toMatchObject({
      annotations: {
        "rollout.nova.dev/checksum": mod.secretsChecksum(
          { DATABASE_URL: "postgres://x", JWT_SIGNING_KEY: "k" },
          KEY,
        ),
      },
    });
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
          checksumKey,
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

  it("keys the annotation with the dedicated key: another key, another annotation; never the value-derived one", async () => {
    const values = { databaseUrl: "postgres://one", jwtSigningKey: "k" };
    const annotation = async (name: string, key: pulumi.Input<string>) => {
      new mod.AppSecrets(name, {
        namespace: "ns",
        entries,
        required: [],
        source: {
          kind: "config",
          values: {
            databaseUrl: pulumi.secret(values.databaseUrl),
            jwtSigningKey: pulumi.secret(values.jwtSigningKey),
          },
        },
        checksumKey: key,
      });
      await settle();
      const meta = mocks.named(`${name}-secret`).inputs.metadata as { annotations: Record<string, string> };
      return meta.annotations["rollout.nova.dev/checksum"];
    };
    const k1 = await annotation("key-1", pulumi.secret(`${KEY}-1`));
    const k1again = await annotation("key-1b", pulumi.secret(`${KEY}-1`));
    const k2 = await annotation("key-2", pulumi.secret(`${KEY}-2`));
    expect(k1).toMatch(/^[a-f0-9]{16}$/);
    expect(k1).toBe(k1again);
    expect(k2).not.toBe(k1);
    const plain = { DATABASE_URL: values.databaseUrl, JWT_SIGNING_KEY: values.jwtSigningKey };
    expect(k1).toBe(mod.secretsChecksum(plain, `${KEY}-1`));
    // Nothing derived from the values alone: the checksum the values would have had without a key is not it.
    expect([k1, k2]).not.toContain(valueDerivedChecksum(plain));
  });

  it("never puts the key in a resource input or an output, and keeps it secret when given as a plain string", async () => {
    const key = `plain-${KEY}`;
    const before = mocks.resources.length;
    const s = new mod.AppSecrets("key-plain", {
      namespace: "ns",
      entries,
      required: [],
      source: { kind: "config", values: { databaseUrl: pulumi.secret("postgres://one") } },
      checksumKey: key,
    });
    const sum = await promiseOf(s.checksum);
    await settle();
    const registered = mocks.resources.slice(before);
    expect(registered.map((r) => r.name)).toEqual(expect.arrayContaining(["key-plain", "key-plain-secret"]));
    for (const r of registered) expect(JSON.stringify(r.inputs), r.name).not.toContain(key);
    expect(JSON.stringify(mocks.calls)).not.toContain(key);
    expect(sum).not.toContain(key.slice(0, 8));
    expect(await isSecret(s.checksum)).toBe(false);
  });

  it("refuses a missing or empty key before anything is registered", () => {
    const before = mocks.resources.length;
    for (const [name, key] of [
      ["no-key", undefined],
      ["empty-key", ""],
    ] as const) {
      let error: unknown;
      try {
        new mod.AppSecrets(name, {
          namespace: "ns",
          entries,
          required: [],
          source: { kind: "config", values: { databaseUrl: pulumi.secret("x") } },
          checksumKey: key as unknown as string,
        });
      } catch (e) {
        error = e;
      }
      expect(error, name).toBeInstanceOf(pulumi.InputPropertiesError);
      const errors = (error as pulumi.InputPropertiesError).errors;
      expect(errors.map((x) => x.propertyPath)).toEqual(["checksumKey"]);
      expect(errors[0]?.reason).toMatch(/nova-rollout:secretsChecksumKey/);
    }
    expect(mocks.resources.slice(before).filter((r) => r.type === "kubernetes:core/v1:Secret")).toEqual([]);
  });

  it("reads each secret from Secret Manager with the prefix", async () => {
    const s = new mod.AppSecrets("gsm", {
      namespace: "nova-prod",
      entries,
      required: ["databaseUrl"],
      source: { kind: "gcp-secret-manager", project: "nova-prod", prefix: "nova-prod-" },
      checksumKey,
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
          checksumKey,
        }),
    ).toThrow(/required secrets are missing/);
    try {
      new mod.AppSecrets("missing2", {
        namespace: "ns",
        entries,
        required: ["jwtSigningKey", "nope"],
        source: { kind: "config", values: {} },
        checksumKey,
      });
    } catch (e) {
      const errors = (e as pulumi.InputPropertiesError).errors.map((x) => x.propertyPath);
      expect(errors).toEqual(["required.nope", "source.values.jwtSigningKey"]);
    }
    expect(mocks.resources.slice(before).filter((r) => r.type === "kubernetes:core/v1:Secret")).toEqual([]);
  });
});

describe("secretsChecksum: an HMAC keyed with the dedicated key, deterministic, revealing nothing without it", () => {
  const values = { DATABASE_URL: "postgres://u:pw@db/nova", JWT_SIGNING_KEY: "k".repeat(32) };
  const checksum = (v: Record<string, string>, key = KEY) => mod.secretsChecksum(v, key);
  const sha = (text: string) => createHash("sha256").update(text).digest("hex");

  it.each([
    ["the same values", values, KEY, true],
    [
      "the same values in another order",
      { JWT_SIGNING_KEY: values.JWT_SIGNING_KEY, DATABASE_URL: values.DATABASE_URL },
      KEY,
      true,
    ],
    ["one value changed", { ...values, DATABASE_URL: "postgres://u:pw2@db/nova" }, KEY, false],
    [
      "a value moved to another name",
      { DATABASE_URL: values.JWT_SIGNING_KEY, JWT_SIGNING_KEY: values.DATABASE_URL },
      KEY,
      false,
    ],
    ["a value added", { ...values, BILLING_API_KEY: "b" }, KEY, false],
    [
      "name/value boundaries shifted",
      { DATABASE_UR: `L${values.DATABASE_URL}`, JWT_SIGNING_KEY: values.JWT_SIGNING_KEY },
      KEY,
      false,
    ],
    ["another key", values, `${KEY}0`, false],
  ])("%s: equal to the original = %s", (_name, v, key, same) => {
    const sum = checksum(v, key);
    expect(sum).toMatch(/^[a-f0-9]{16}$/);
    expect(sum === checksum(values)).toBe(same);
  });

  it("is the HMAC-SHA256 of the length-prefixed pairs keyed with the given key, never the value-derived one", () => {
    const pairs = Buffer.concat(
      ["DATABASE_URL", values.DATABASE_URL, "JWT_SIGNING_KEY", values.JWT_SIGNING_KEY].map((p) => {
        const b = Buffer.from(p);
        const len = Buffer.alloc(4);
        len.writeUInt32BE(b.length);
        return Buffer.concat([len, b]);
      }),
    );
    expect(checksum(values, "K")).toBe(createHmac("sha256", "K").update(pairs).digest("hex").slice(0, 16));
    expect(checksum(values)).not.toBe(valueDerivedChecksum(values));
  });

  it("refuses an empty key", () => {
    expect(() => mod.secretsChecksum(values, "")).toThrow(/checksum key is empty/);
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
