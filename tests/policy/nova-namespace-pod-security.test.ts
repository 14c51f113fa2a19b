import { describe, expect, it } from "vitest";
import { namespacePodSecurity } from "../../policy/policies";
import { podSecurityLabelProblems } from "../../policy/policies/namespace-pod-security";
import { POD_SECURITY_LABELS } from "../../src/contract";
import { enforcementFor, fileConfig, runResourcePolicy, UNKNOWN } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

type Labels = Record<string, unknown>;
const NAMESPACE = "kubernetes:core/v1:Namespace";

/** The release namespace as ReleaseNamespace registers it. */
function namespace(name = "nova-app") {
  return {
    metadata: {
      name,
      labels: { "app.kubernetes.io/part-of": "nova-rms", ...POD_SECURITY_LABELS } as Labels,
      annotations: { "rollout.nova.dev/release": "2026.11.3" },
    },
  };
}
type Namespace = ReturnType<typeof namespace>;

function run(mutate: (n: Namespace) => void = () => undefined, config: Record<string, unknown> = {}) {
  const n = namespace();
  mutate(n);
  return runResourcePolicy(namespacePodSecurity, {
    type: NAMESPACE,
    name: "nova-namespace-namespace",
    props: n,
    config: { projectDir: fixture.project.dir, ...config },
  });
}

describe("nova-namespace-pod-security", () => {
  it("passes the release namespace's labels", async () => {
    expect((await run()).messages).toEqual([]);
  });

  it("judges the release's patch of a platform's namespace the same way", async () => {
    const patched = (labels: Labels) =>
      runResourcePolicy(namespacePodSecurity, {
        type: "kubernetes:core/v1:NamespacePatch",
        name: "nova-namespace",
        props: { metadata: { name: "nova-app", labels } },
        config: { projectDir: fixture.project.dir },
      });
    expect((await patched({ ...POD_SECURITY_LABELS })).messages).toEqual([]);
    expect(
      (await patched({ "pod-security.kubernetes.io/enforce": "privileged" })).messages.join("\n"),
    ).toMatch(/enforce is "privileged"/);
  });

  it("accepts enforce-version unset (the API server then applies the latest checks)", async () => {
    const out = await run((n) => delete n.metadata.labels["pod-security.kubernetes.io/enforce-version"]);
    expect(out.messages).toEqual([]);
  });

  describe.each<[string, (n: Namespace) => void, RegExp]>([
    [
      "no enforce label",
      (n) => delete n.metadata.labels["pod-security.kubernetes.io/enforce"],
      /label pod-security\.kubernetes\.io\/enforce is "unset"; set it to "restricted"/,
    ],
    [
      "enforce baseline",
      (n) => (n.metadata.labels["pod-security.kubernetes.io/enforce"] = "baseline"),
      /label pod-security\.kubernetes\.io\/enforce is "baseline"; set it to "restricted"/,
    ],
    [
      "enforce privileged",
      (n) => (n.metadata.labels["pod-security.kubernetes.io/enforce"] = "privileged"),
      /enforce is "privileged"/,
    ],
    [
      "enforce spelled in capitals (admission refuses the label value)",
      (n) => (n.metadata.labels["pod-security.kubernetes.io/enforce"] = "Restricted"),
      /enforce is "Restricted"/,
    ],
    [
      "restricted only as a warning",
      (n) => {
        delete n.metadata.labels["pod-security.kubernetes.io/enforce"];
        n.metadata.labels["pod-security.kubernetes.io/warn"] = "restricted";
      },
      /enforce is "unset"/,
    ],
    [
      "an enforce version pinned to an older release",
      (n) => (n.metadata.labels["pod-security.kubernetes.io/enforce-version"] = "v1.24"),
      /label pod-security\.kubernetes\.io\/enforce-version is "v1\.24"; set it to "latest" or remove it/,
    ],
    ["no labels at all", (n) => delete (n.metadata as { labels?: unknown }).labels, /enforce is "unset"/],
    [
      "an enforce label unknown during preview",
      (n) => (n.metadata.labels["pod-security.kubernetes.io/enforce"] = UNKNOWN),
      /its labels are unknown during preview/,
    ],
  ])("blocks %s", (_l, mutate, expected) => {
    it("reports it with the fix", async () => {
      const out = await run(mutate);
      expect(out.messages).toHaveLength(1);
      expect(out.messages[0]).toMatch(expected);
      expect(out.messages[0]).toMatch(/^Namespace nova-app \(production\): /);
      expect(out.messages[0]).toMatch(/ Fix: give the namespace the POD_SECURITY_LABELS/);
    });
  });

  it("is mandatory in production and advisory elsewhere", () => {
    expect(enforcementFor(namespacePodSecurity, "production")).toBe("mandatory");
    expect(enforcementFor(namespacePodSecurity, "staging")).toBe("advisory");
    expect(enforcementFor(namespacePodSecurity, "local")).toBe("advisory");
  });

  it("does not apply to a sandbox stack by default, and does when local.json lists sandbox", async () => {
    fixture.remakeProject({ environment: "sandbox" });
    const unlabelled = (n: Namespace) => delete n.metadata.labels["pod-security.kubernetes.io/enforce"];
    expect((await run(unlabelled)).messages).toEqual([]);
    const out = await run(
      unlabelled,
      fileConfig(namespacePodSecurity, "local", { projectDir: fixture.project.dir }),
    );
    expect(out.messages).toEqual([expect.stringMatching(/^Namespace nova-app \(sandbox\): label/)]);
  });

  it("judges a protected namespace as production whatever the stack's label", async () => {
    fixture.remakeProject({ environment: "sandbox" });
    const out = await runResourcePolicy(namespacePodSecurity, {
      type: NAMESPACE,
      name: "nova-namespace-namespace",
      props: { metadata: { name: "nova-prod", labels: {} } },
      config: { projectDir: fixture.project.dir },
    });
    expect(out.messages).toEqual([
      expect.stringMatching(/^Namespace nova-prod \(production: targets namespace nova-prod\): label/),
    ]);
  });

  it("ignores other kinds", async () => {
    const out = await runResourcePolicy(namespacePodSecurity, {
      type: "kubernetes:core/v1:ConfigMap",
      props: { metadata: { name: "x", labels: {} } },
      config: { projectDir: fixture.project.dir },
    });
    expect(out.messages).toEqual([]);
  });

  it("podSecurityLabelProblems accepts exactly the committed labels", () => {
    expect(podSecurityLabelProblems(POD_SECURITY_LABELS)).toEqual([]);
    expect(podSecurityLabelProblems({})).toHaveLength(1);
  });
});
