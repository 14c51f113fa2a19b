import { describe, expect, it } from "vitest";
import { breakGlassOverride, readinessGate } from "../../policy/policies";
import { DIGESTS, NOW, offlineRegistry, PEOPLE, produceBundle, RELEASE, setDrillAge } from "./fixtures";
import { enforcementFor, runResourcePolicy } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

const H = 3_600_000;
function override(overrides: Record<string, unknown> = {}) {
  return {
    kind: "override",
    stack: "production",
    release: RELEASE,
    hotfix: true,
    incidentCommander: "Sam Ortiz",
    reason: "INC-4711 billing outage hotfix",
    waivedChecks: ["billing-drill"],
    deployer: PEOPLE.deployer.name,
    imageDigests: DIGESTS,
    createdAt: new Date(NOW.getTime() - H).toISOString(),
    expiresAt: new Date(NOW.getTime() + 3 * H).toISOString(),
    ...overrides,
  };
}
function writeOverride(content: unknown) {
  fixture.project.write(
    "tests/drills/logs/production/records/override-2026.11.3-20261125T173000Z.json",
    JSON.stringify(content),
  );
}
const ns = { type: "kubernetes:core/v1:Namespace", name: "nova-namespace", props: {} };

describe("nova-break-glass-override", () => {
  it("is advisory everywhere", () => {
    for (const f of ["production", "staging", "local"] as const)
      expect(enforcementFor(breakGlassOverride, f)).toBe("advisory");
  });

  it("reports nothing without overrides", async () => {
    expect(
      (await runResourcePolicy(breakGlassOverride, { ...ns, config: { projectDir: fixture.project.dir } }))
        .messages,
    ).toEqual([]);
  });

  it("reports an active override", async () => {
    writeOverride(override());
    const out = await runResourcePolicy(breakGlassOverride, {
      ...ns,
      config: { projectDir: fixture.project.dir },
    });
    expect(out.messages.join()).toMatch(/Sam Ortiz is active until .* waives billing-drill/);
  });

  describe.each([
    [
      "an expired override",
      override({ expiresAt: new Date(NOW.getTime() - 1).toISOString() }),
      /waives nothing: it expired/,
    ],
    [
      "an override for another release",
      override({ release: "2026.11.2" }),
      /waives nothing: it is for release "2026\.11\.2"/,
    ],
  ] as const)("reports %s as waiving nothing", (_l, content, expected) => {
    it("says why", async () => {
      writeOverride(content);
      expect(
        (
          await runResourcePolicy(breakGlassOverride, { ...ns, config: { projectDir: fixture.project.dir } })
        ).messages.join(),
      ).toMatch(expected);
    });
  });

  describe("waiving through the verifier", () => {
    const gate = () =>
      runResourcePolicy(readinessGate, {
        type: "pulumi:providers:kubernetes",
        name: "nova-k8s",
        props: {},
        config: { projectDir: fixture.project.dir },
      });

    it("a valid override naming the failed check lets the gate pass", async () => {
      setDrillAge(fixture.project, 8);
      const { bundle } = await produceBundle(fixture.project);
      writeOverride(override({ bundleSha256: bundle.contentSha256 }));
      expect((await gate()).messages).toEqual([]);
    });

    it("an expired override is no blocking finding of the gate (this advisory policy reports it): the failed check is", async () => {
      setDrillAge(fixture.project, 8);
      const { bundle } = await produceBundle(fixture.project);
      writeOverride(
        override({
          bundleSha256: bundle.contentSha256,
          expiresAt: new Date(NOW.getTime() - 1).toISOString(),
        }),
      );
      const messages = (await gate()).messages;
      expect(messages.join()).toMatch(/Check "billing-drill" \(.*\) failed/);
      expect(messages.join()).not.toMatch(/it expired/);
      const advisory = await runResourcePolicy(breakGlassOverride, {
        ...ns,
        config: { projectDir: fixture.project.dir },
      });
      expect(advisory.messages.join()).toMatch(/waives nothing: it expired/);
    });

    it.each([
      ["naming another check", override({ waivedChecks: ["coverage"] }), /billing-drill/],
      [
        "by an unknown incident commander",
        override({ incidentCommander: "Mallory" }),
        /waives nothing: Mallory is not in the committed roster/,
      ],
      [
        "by a roster member without the incident-commander role",
        override({ incidentCommander: PEOPLE.engineer.name }),
        /Eve Engineer has no incident-commander role in the committed roster/,
      ],
      [
        "whose incident commander is the deployer",
        override({ deployer: "Sam Ortiz" }),
        /the incident commander Sam Ortiz is the deployer/,
      ],
      [
        "waiving registry-digests",
        override({ waivedChecks: ["billing-drill", "registry-digests"] }),
        /it waives registry-digests, which no override may waive \(registry-digests, staging-stack\)/,
      ],
      [
        "valid for 30 days",
        override({ expiresAt: new Date(NOW.getTime() + 30 * 24 * H - H).toISOString() }),
        /it is valid for 720\.0 h; threshold: at most 24 h/,
      ],
      [
        "bound to another bundle",
        override({ bundleSha256: "0".repeat(64) }),
        /bound to bundle 0{64}, not the newest signed bundle/,
      ],
    ])("an override %s waives nothing, and the gate says why", async (_l, content, expected) => {
      setDrillAge(fixture.project, 8);
      const { bundle } = await produceBundle(fixture.project);
      writeOverride({ bundleSha256: bundle.contentSha256, ...content });
      const messages = (await gate()).messages.join();
      expect(messages).toMatch(/billing-drill/);
      expect(messages).toMatch(expected);
    });

    it("an override the gate would not count makes no waiver in the bundle", async () => {
      setDrillAge(fixture.project, 8);
      writeOverride(override());
      const { bundle } = await produceBundle(fixture.project);
      expect(bundle.checks.find((c) => c.id === "billing-drill")?.verdict).toBe("fail");
      expect(bundle.waivers).toEqual([]);
    });

    it("a valid override on file when the preflight runs again makes the new bundle record a waiver; production then needs it bound to that bundle", async () => {
      setDrillAge(fixture.project, 8);
      const first = await produceBundle(fixture.project);
      writeOverride(override({ bundleSha256: first.bundle.contentSha256 }));
      const { bundle } = await produceBundle(fixture.project, { now: new Date(NOW.getTime() + 60_000) });
      expect(bundle.checks.find((c) => c.id === "billing-drill")?.verdict).toBe("waived");
      expect(bundle.waivers).toHaveLength(1);
      expect((await gate()).messages.join()).toMatch(/not the newest signed bundle/);
      writeOverride(override({ bundleSha256: bundle.contentSha256 }));
      expect((await gate()).messages).toEqual([]);
    });

    it("never waives registry-digests, even for a non-production stack", async () => {
      fixture.remakeProject({ environment: "staging" });
      await produceBundle(fixture.project, { registry: offlineRegistry() });
      writeOverride(override({ waivedChecks: ["registry-digests"] }));
      expect((await gate()).messages.join()).toMatch(/registry-digests/);
    });
  });
});
