import { describe, expect, it } from "vitest";
import { secretsFromSecretValues } from "../../policy/policies";
import { runResourcePolicy, UNKNOWN } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

/** What the @pulumi/kubernetes Secret class registers: additionalSecretOutputs data + stringData. */
const SDK_OPTS = { additionalSecretOutputs: ["data", "stringData"] };

function secretProps(
  overrides: {
    stringData?: Record<string, unknown>;
    annotations?: Record<string, unknown>;
    name?: string;
  } = {},
) {
  return {
    metadata: {
      name: overrides.name ?? "nova-app-secrets",
      annotations: overrides.annotations ?? { "rollout.nova.dev/checksum": "abc123" },
    },
    // Secret values arrive as plaintext: analyze() unwraps them (deserializeProperties(..., proxySecrets=false)).
    stringData: overrides.stringData ?? {
      DATABASE_URL: "postgres://nova@db/nova",
      JWT_SIGNING_KEY: "k3y",
      BILLING_API_KEY: "bk_live_1",
    },
  };
}
function run(
  props: Record<string, unknown>,
  opts: Record<string, unknown> = SDK_OPTS,
  config: Record<string, unknown> = {},
) {
  return runResourcePolicy(secretsFromSecretValues, {
    type: "kubernetes:core/v1:Secret",
    name: "nova-secret",
    props,
    opts,
    config: { projectDir: fixture.project.dir, ...config },
  });
}

describe("nova-secrets-from-secret-values", () => {
  it("passes an SDK Secret with every required key and the checksum", async () => {
    expect((await run(secretProps())).messages).toEqual([]);
  });

  it("accepts base64 data values", async () => {
    const data = {
      DATABASE_URL: Buffer.from("postgres://x").toString("base64"),
      JWT_SIGNING_KEY: "azM=",
      BILLING_API_KEY: "Yms=",
    };
    expect(
      (
        await run({
          metadata: { name: "nova-app-secrets", annotations: { "rollout.nova.dev/checksum": "x" } },
          data,
        })
      ).messages,
    ).toEqual([]);
  });

  it("checks only the marker on Secrets not named in secretNames", async () => {
    expect((await run(secretProps({ name: "other", stringData: {} }))).messages).toEqual([]);
  });

  describe.each([
    [
      "stringData not marked secret",
      secretProps(),
      { additionalSecretOutputs: [] },
      {},
      /stringData is not marked secret/,
    ],
    [
      "a required key missing",
      secretProps({ stringData: { DATABASE_URL: "x", JWT_SIGNING_KEY: "y" } }),
      SDK_OPTS,
      {},
      /required key "BILLING_API_KEY" \(found: no key\)/,
    ],
    [
      "a placeholder value",
      secretProps({ stringData: { DATABASE_URL: "changeme", JWT_SIGNING_KEY: "y", BILLING_API_KEY: "z" } }),
      SDK_OPTS,
      {},
      /"DATABASE_URL" \(found: an empty or placeholder value\)/,
    ],
    [
      "a key from the configured list missing",
      secretProps(),
      SDK_OPTS,
      { requiredKeys: ["SMTP_PASSWORD"] },
      /"SMTP_PASSWORD"/,
    ],
    [
      "no checksum annotation",
      secretProps({ annotations: {} }),
      SDK_OPTS,
      {},
      /no rollout\.nova\.dev\/checksum annotation/,
    ],
    [
      "values unknown during preview without the secret marker",
      { metadata: { name: "nova-app-secrets" }, stringData: UNKNOWN },
      { additionalSecretOutputs: [] },
      {},
      /not marked secret/,
    ],
  ] as const)("blocks %s", (_l, props, opts, config, expected) => {
    it("reports it", async () => {
      expect(
        (await run(props as Record<string, unknown>, opts as Record<string, unknown>, config)).messages.join(
          "\n",
        ),
      ).toMatch(expected);
    });
  });
});
