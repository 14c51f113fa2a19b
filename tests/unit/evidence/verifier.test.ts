import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EvidenceBundle,
  parseBundle,
  projectFileReader,
  renderReport,
  serializeBundle,
  verifyReadiness,
} from "../../../src/evidence";
import {
  DIGESTS,
  makeProject,
  NOW,
  produceBundle,
  type ProjectFixture,
  RELEASE,
} from "../../policy/fixtures";

let project: ProjectFixture;
let bundle: EvidenceBundle;
let bytes: Buffer;

beforeAll(async () => {
  project = makeProject();
  const out = await produceBundle(project);
  bundle = out.bundle;
  bytes = fs.readFileSync(out.json);
});
afterAll(() => project.cleanup());

const expected = { stack: "production", release: RELEASE, digests: DIGESTS };
function verify(b: Buffer, opts: { now?: Date; readFile?: (p: string) => Buffer | undefined } = {}) {
  let lookup;
  try {
    lookup = { status: "ok" as const, path: "x.json", bundle: parseBundle(b), bytes: b };
  } catch (e) {
    lookup = { status: "invalid" as const, path: "x.json", error: (e as Error).message };
  }
  return verifyReadiness({
    bundle: lookup,
    expected,
    now: opts.now ?? NOW,
    maxAgeHours: 24,
    readFile: opts.readFile ?? projectFileReader(project.dir),
  });
}

describe("verifyReadiness", () => {
  it("accepts the collector's bundle unchanged", () => {
    expect(verify(bytes)).toEqual([]);
  });

  it("writes bundles in canonical form", () => {
    expect(serializeBundle(bundle)).toBe(bytes.toString("utf8"));
  });

  describe.each<[string, Partial<Parameters<typeof verifyReadiness>[0]>, string]>([
    [
      "a missing bundle",
      { bundle: { status: "missing", expectedPath: "logs/production/<ts>-preflight.json" } },
      "bundle",
    ],
    ["an invalid bundle", { bundle: { status: "invalid", path: "x", error: "bad" } }, "bundle"],
    ["another stack", { expected: { ...expected, stack: "staging" } }, "stack"],
    ["another release", { expected: { ...expected, release: "2026.11.4" } }, "release"],
    [
      "another worker digest",
      { expected: { ...expected, digests: { ...DIGESTS, worker: `sha256:${"e".repeat(64)}` } } },
      "digests",
    ],
    ["a stale bundle", { now: new Date(NOW.getTime() + 25 * 3_600_000) }, "fresh"],
    ["a bundle from the future", { now: new Date(NOW.getTime() - 3_600_000) }, "fresh"],
    ["a missing artifact", { readFile: () => undefined }, "coverage"],
  ])("reports %s", (_l, patch, checkId) => {
    it(`as ${checkId}`, () => {
      const findings = verifyReadiness({
        bundle: { status: "ok", path: "x", bundle, bytes },
        expected,
        now: NOW,
        maxAgeHours: 24,
        readFile: projectFileReader(project.dir),
        ...patch,
      });
      expect(findings.map((f) => f.checkId)).toContain(checkId);
      for (const f of findings) expect(f.remedy.length).toBeGreaterThan(0);
    });
  });

  it("names the bundle path and the preflight command when evidence is missing", () => {
    const [f] = verifyReadiness({
      bundle: { status: "missing", expectedPath: "tests/drills/logs/production/<ts>-preflight.json" },
      expected,
      now: NOW,
      maxAgeHours: 24,
      readFile: () => undefined,
    });
    expect(f?.message).toMatch(/tests\/drills\/logs\/production/);
    expect(f?.remedy).toBe("npm run preflight -- --stack production");
  });

  it("detects any single-byte change to the bundle", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const copy = Buffer.from(bytes);
        copy[i] = (copy[i] ?? 0) ^ x;
        expect(verify(copy).length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  it("detects any single-byte change to a referenced artifact", () => {
    const artifacts = bundle.checks.flatMap((c) => (c.artifact ? [c.artifact.path] : []));
    expect(artifacts.length).toBeGreaterThanOrEqual(5);
    fc.assert(
      fc.property(fc.constantFrom(...artifacts), fc.nat(), fc.integer({ min: 1, max: 255 }), (rel, n, x) => {
        const original = fs.readFileSync(path.join(project.dir, rel));
        const copy = Buffer.from(original);
        const i = n % copy.length;
        copy[i] = (copy[i] ?? 0) ^ x;
        const findings = verify(bytes, {
          readFile: (p) => (p === rel ? copy : projectFileReader(project.dir)(p)),
        });
        expect(findings.some((f) => f.message.includes(rel))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe("renderReport", () => {
  it("lists every check and the findings", () => {
    const md = renderReport(bundle, [
      { checkId: "coverage", message: "Coverage too low.", remedy: "npm test" },
    ]);
    for (const c of bundle.checks) expect(md).toContain(`| ${c.id} |`);
    expect(md).toMatch(/NOT READY/);
    expect(md).toContain("Fix: `npm test`");
    expect(md).not.toContain("fixture-token-not-a-secret");
  });
});
