import { describe, expect, it } from "vitest";
import { ConfigValidationError, parseStackSettings } from "../../../src/config";
import { formatRollbackOf, parseRollbackOf } from "../../../src/config/rollback-of";
import { DIGEST_A, DIGEST_B, productionRaw } from "../support/config-fixtures";

const opts = { stack: "production", projectDir: "/repo" };
const OTHER = `sha256:${"c".repeat(64)}`;

function problems(raw: Record<string, unknown>): string[] {
  try {
    parseStackSettings(raw, opts);
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.problems.map((p) => `${p.key}: ${p.message}`);
    throw err;
  }
  return [];
}

describe("nova-rollout:rollbackOf", () => {
  it("round-trips the rollback's update and digests", () => {
    const value = { update: 12, apiDigest: DIGEST_A, workerDigest: DIGEST_B };
    expect(parseRollbackOf(formatRollbackOf(value))).toEqual(value);
    expect(parseRollbackOf("12")).toBeUndefined();
    // A target without recorded digests still gets a well-formed value.
    expect(parseRollbackOf(formatRollbackOf({ update: 3, apiDigest: "", workerDigest: "x y" }))).toEqual({
      update: 3,
      apiDigest: "unknown",
      workerDigest: "unknown",
    });
  });

  it("is absent from a normal release's settings", () => {
    expect(parseStackSettings(productionRaw(), opts).rollbackOf).toBeUndefined();
    expect(parseStackSettings(productionRaw({ rollbackOf: "" }), opts).rollbackOf).toBeUndefined();
  });

  it("marks a rollback when it names the digests the stack deploys", () => {
    const raw = productionRaw({ rollbackOf: `update 7 api ${DIGEST_A} worker ${DIGEST_B}` });
    expect(parseStackSettings(raw, opts).rollbackOf).toEqual({
      update: 7,
      apiDigest: DIGEST_A,
      workerDigest: DIGEST_B,
    });
  });

  it.each([
    ["api", `update 7 api ${OTHER} worker ${DIGEST_B}`],
    ["worker", `update 7 api ${DIGEST_A} worker ${OTHER}`],
  ])("is refused when left over for other %s digests: a release never skips its dump", (_which, value) => {
    const found = problems(productionRaw({ rollbackOf: value }));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /^nova-rollout:rollbackOf: names a rollback to update 7, but the stack deploys other digests/,
    );
    expect(found[0]).toContain("pulumi config rm nova-rollout:rollbackOf");
  });

  it("is refused when malformed, with the expected form", () => {
    const found = problems(productionRaw({ rollbackOf: "7" }));
    expect(found).toEqual([
      expect.stringMatching(
        /^nova-rollout:rollbackOf: expected "update <version> api <digest> worker <digest>"/,
      ),
    ]);
  });
});
