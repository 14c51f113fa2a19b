import { describe, expect, it } from "vitest";
import { checkBillingDrill, drillTime } from "../../../src/evidence/checks/billing-drill";
import { checkCoverage, DEFAULT_COVERAGE_THRESHOLDS } from "../../../src/evidence/checks/coverage";
import { checkE2eSmoke } from "../../../src/evidence/checks/e2e";
import { checkKubeconfig } from "../../../src/evidence/checks/kubeconfig";
import { checkRegistryDigests, manifestUrl, MANIFEST_ACCEPT } from "../../../src/evidence/checks/registry";
import {
  MANIFEST_ACCEPT as OCI_MANIFEST_ACCEPT,
  manifestUrl as ociManifestUrl,
} from "../../../src/registry/oci";
import { manifestUrl as componentsManifestUrl } from "../../../components/image-refs";
import { checkSampleData } from "../../../src/evidence/checks/sample-data";
import { checkStagingStack } from "../../../src/evidence/checks/staging-stack";
import { evidenceTimestamp, parseEvidenceTimestamp } from "../../../src/evidence/paths";
import { DIGESTS, fakeRegistry, NOW, OTHER_DIGESTS } from "../../policy/fixtures";

const art = (path: string, text: string) => ({ path, bytes: Buffer.from(text) });
const summary = (s: number, b: number, f: number, l: number) =>
  art(
    "coverage/coverage-summary.json",
    JSON.stringify({
      total: { statements: { pct: s }, branches: { pct: b }, functions: { pct: f }, lines: { pct: l } },
    }),
  );

describe("coverage", () => {
  it.each([
    [[60, 50, 70, 60], "pass"],
    [[59, 50, 70, 60], "fail"],
    [[60, 49.9, 70, 60], "fail"],
    [[60, 50, 69, 60], "fail"],
    [[60, 50, 70, 59.99], "fail"],
  ] as const)("%j -> %s", (pct, verdict) => {
    expect(checkCoverage(summary(pct[0], pct[1], pct[2], pct[3]), DEFAULT_COVERAGE_THRESHOLDS).verdict).toBe(
      verdict,
    );
  });
  it("fails without a summary or with garbage", () => {
    expect(checkCoverage(undefined, DEFAULT_COVERAGE_THRESHOLDS).verdict).toBe("fail");
    expect(checkCoverage(art("c.json", "{}"), DEFAULT_COVERAGE_THRESHOLDS).verdict).toBe("fail");
  });
});

describe("e2e smoke", () => {
  const report = (projects: string[], tests: { projectName: string; status: string }[], unexpected: number) =>
    art(
      "r.json",
      JSON.stringify({
        config: { projects: projects.map((name) => ({ name })) },
        suites: [{ specs: [{ tests }] }],
        stats: { unexpected },
      }),
    );
  it.each([
    ["a passing smoke run", report(["smoke"], [{ projectName: "smoke", status: "expected" }], 0), "pass"],
    ["no smoke project", report(["full"], [{ projectName: "full", status: "expected" }], 0), "fail"],
    ["unexpected failures", report(["smoke"], [{ projectName: "smoke", status: "unexpected" }], 1), "fail"],
    ["zero tests", report(["smoke"], [], 0), "fail"],
    ["only skipped tests", report(["smoke"], [{ projectName: "smoke", status: "skipped" }], 0), "fail"],
  ] as const)("%s -> %s", (_l, a, verdict) => {
    expect(checkE2eSmoke(a).verdict).toBe(verdict);
  });
});

describe("billing drill", () => {
  const log = (days: number, text = "result: pass") =>
    art(
      `tests/drills/logs/staging/${evidenceTimestamp(new Date(NOW.getTime() - days * 86_400_000))}-billing-drill.log`,
      text,
    );
  it.each([
    [6, "pass"],
    [6.99, "pass"],
    [7, "fail"],
    [8, "fail"],
  ] as const)("%d days old -> %s", (days, verdict) => {
    expect(checkBillingDrill([log(days)], NOW, 7, "staging").verdict).toBe(verdict);
  });
  it("uses the newest log and an explicit completed_at line over the file name", () => {
    const explicit = art(
      "tests/drills/logs/staging/billing-drill.log",
      "completed_at: 2026-11-24T12:00:00Z\nresult: pass",
    );
    expect(drillTime(explicit.path, explicit.bytes.toString())?.toISOString()).toBe(
      "2026-11-24T12:00:00.000Z",
    );
    expect(checkBillingDrill([log(9), explicit], NOW, 7, "staging").verdict).toBe("pass");
  });
  it("fails a failed drill and missing logs", () => {
    expect(checkBillingDrill([log(1, "result: fail")], NOW, 7, "staging").verdict).toBe("fail");
    expect(checkBillingDrill([], NOW, 7, "staging").found).toBe("no billing-drill log");
  });
});

describe("other checks", () => {
  it("sample data needs a success line", () => {
    expect(checkSampleData(art("s.log", "seed completed"), "staging").verdict).toBe("pass");
    expect(checkSampleData(art("s.log", "seeding tenants\nERROR failed"), "staging").verdict).toBe("fail");
    expect(checkSampleData(undefined, "staging").verdict).toBe("fail");
  });
  it("kubeconfig must name the context", () => {
    const kc = "contexts:\n  - name: nova-prod\n    context: {cluster: c}\n";
    expect(checkKubeconfig(kc, "kc", "nova-prod").verdict).toBe("pass");
    expect(checkKubeconfig(kc, "kc", "other").verdict).toBe("fail");
    expect(checkKubeconfig(undefined, "kc", "nova-prod").verdict).toBe("fail");
    expect(checkKubeconfig(": : :", "kc", "nova-prod").verdict).toBe("fail");
  });
  it("builds manifest URLs with http for loopback and https otherwise", () => {
    expect(manifestUrl("127.0.0.1:35000/nova", "nova-rms-api", "2026.11.3")).toBe(
      "http://127.0.0.1:35000/v2/nova/nova-rms-api/manifests/2026.11.3",
    );
    expect(manifestUrl("us-docker.pkg.dev/p/nova", "nova-rms-api", "t")).toBe(
      "https://us-docker.pkg.dev/v2/p/nova/nova-rms-api/manifests/t",
    );
  });
  it("shares one manifest URL builder with the components and one accept header with the probe", () => {
    expect(manifestUrl).toBe(componentsManifestUrl);
    expect(manifestUrl).toBe(ociManifestUrl);
    expect(MANIFEST_ACCEPT).toBe(OCI_MANIFEST_ACCEPT);
  });
  it.each([
    ["[::1]:5000/nova", "api", "t", "http://[::1]:5000/v2/nova/api/manifests/t"],
    ["127.1.2.3/nova", "api", "t", "http://127.1.2.3/v2/nova/api/manifests/t"],
    ["localhost.example.com/nova", "api", "t", "https://localhost.example.com/v2/nova/api/manifests/t"],
    ["https://us-docker.pkg.dev/p/nova/", "api", "t", "https://us-docker.pkg.dev/v2/p/nova/api/manifests/t"],
    [
      "reg.example",
      "api",
      `sha256:${"a".repeat(64)}`,
      `https://reg.example/v2/api/manifests/sha256:${"a".repeat(64)}`,
    ],
    ["reg.example", "api", "a/../b", "https://reg.example/v2/api/manifests/a%2F..%2Fb"],
  ])("addresses %s/%s at %s", (registry, repo, ref, url) => {
    expect(manifestUrl(registry, repo, ref)).toBe(url);
  });
  it("asks the registry with the OCI and Docker accept headers", async () => {
    const seen: string[] = [];
    const fetch = fakeRegistry();
    await checkRegistryDigests({
      imageRegistry: "127.0.0.1:35000/nova",
      release: "t",
      expected: DIGESTS,
      fetch: (u, i) => (seen.push(i.headers["Accept"] ?? ""), fetch(u, i)),
    });
    expect(seen[0]).toBe(MANIFEST_ACCEPT);
    expect(MANIFEST_ACCEPT).toContain("application/vnd.oci.image.index.v1+json");
  });
  it.each([
    [DIGESTS, "pass"],
    [OTHER_DIGESTS, "fail"],
  ] as const)("registry digests %#", async (served, verdict) => {
    expect(
      (
        await checkRegistryDigests({
          imageRegistry: "127.0.0.1:35000/nova",
          release: "t",
          expected: DIGESTS,
          fetch: fakeRegistry(served),
        })
      ).verdict,
    ).toBe(verdict);
  });
  it("staging stack fails without an engine, on a failed update and on other digests", async () => {
    const cfg = {
      "nova-rollout:apiImageDigest": { value: DIGESTS.api },
      "nova-rollout:workerImageDigest": { value: DIGESTS.worker },
    };
    expect(
      (await checkStagingStack({ stagingStack: "staging", expected: DIGESTS, history: undefined })).verdict,
    ).toBe("fail");
    expect(
      (
        await checkStagingStack({
          stagingStack: "staging",
          expected: DIGESTS,
          history: () => Promise.reject(new Error("no pulumi")),
        })
      ).found,
    ).toMatch(/no pulumi/);
    expect(
      (
        await checkStagingStack({
          stagingStack: "staging",
          expected: DIGESTS,
          history: () => Promise.resolve({ result: "failed", config: cfg }),
        })
      ).verdict,
    ).toBe("fail");
    expect(
      (
        await checkStagingStack({
          stagingStack: "staging",
          expected: OTHER_DIGESTS,
          history: () => Promise.resolve({ result: "succeeded", config: cfg }),
        })
      ).verdict,
    ).toBe("fail");
    expect(
      (
        await checkStagingStack({
          stagingStack: "staging",
          expected: DIGESTS,
          history: () => Promise.resolve({ result: "succeeded", config: cfg }),
        })
      ).verdict,
    ).toBe("pass");
  });
  it("round-trips evidence timestamps", () => {
    expect(evidenceTimestamp(new Date("2026-11-25T18:30:00.123Z"))).toBe("20261125T183000Z");
    expect(parseEvidenceTimestamp("20261125T183000Z")?.toISOString()).toBe("2026-11-25T18:30:00.000Z");
  });
});
