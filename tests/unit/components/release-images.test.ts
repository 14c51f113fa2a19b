import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, promiseOf, settle, type MockState } from "../support/mocks";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
let mocks: MockState;
let mod: typeof import("../../../components/release-images");

beforeAll(async () => {
  mocks = installMocks({
    calls: {
      "gcp:artifactregistry/getDockerImage:getDockerImage": (i) => ({
        selfLink: `us-docker.pkg.dev/nova-prod/nova/${String(i.imageName).split(":")[0]}@${String(i.imageName).includes("api") ? A : B}`,
      }),
    },
  });
  mod = await import("../../../components/release-images");
});

const images = {
  api: { repository: "nova-rms-api", digest: A },
  worker: { repository: "nova-rms-worker", digest: B },
};

describe("ReleaseImages", () => {
  it("pins references by digest without registering anything for the pinned resolver", async () => {
    const before = mocks.resources.length;
    const r = new mod.ReleaseImages("pinned", {
      registry: "127.0.0.1:35000/nova",
      tag: "sandbox",
      resolver: "pinned",
      images,
    });
    expect(await promiseOf(r.refs)).toEqual({
      api: `127.0.0.1:35000/nova/nova-rms-api@${A}`,
      worker: `127.0.0.1:35000/nova/nova-rms-worker@${B}`,
    });
    await settle();
    const children = mocks.resources.slice(before).filter((x) => x.type !== "nova:images:ReleaseImages");
    expect(children).toEqual([]);
    expect(mocks.calls).toEqual([]);
  });

  it("checks each digest in the registry (skopeo, the machine's logins) with a command before the release", async () => {
    const r = new mod.ReleaseImages("regapi", {
      registry: "127.0.0.1:35000/nova",
      tag: "sandbox",
      resolver: "registry-api",
      images,
      probeScript: "/repo/dist/src/verify/probe.js",
    });
    await promiseOf(r.refs);
    await settle();
    const api = mocks.named("regapi-api-digest");
    expect(api.type).toBe("command:local:Command");
    expect(api.inputs.create).toContain(
      "digest --name api-digest --ref 127.0.0.1:35000/nova/nova-rms-api:sandbox",
    );
    expect(api.inputs.create).not.toContain("--url");
    expect(api.inputs.create).toContain(`--expect ${A}`);
    expect(api.inputs.triggers).toEqual(["127.0.0.1:35000/nova/nova-rms-api:sandbox", A]);
    expect(mocks.named("regapi-worker-digest").inputs.create).toContain(`--expect ${B}`);
    expect(r.checks).toHaveLength(2);
  });

  it("reads digests from Artifact Registry at preview time", async () => {
    const r = new mod.ReleaseImages("gar", {
      registry: "us-docker.pkg.dev/nova-prod/nova",
      tag: "2026.11.3",
      resolver: "artifact-registry",
      images,
    });
    expect(await promiseOf(r.refs)).toEqual({
      api: `us-docker.pkg.dev/nova-prod/nova/nova-rms-api@${A}`,
      worker: `us-docker.pkg.dev/nova-prod/nova/nova-rms-worker@${B}`,
    });
    const call = mocks.calls.find((c) => c.token === "gcp:artifactregistry/getDockerImage:getDockerImage");
    expect(call?.inputs).toMatchObject({ location: "us", project: "nova-prod", repositoryId: "nova" });
  });

  it("names both digests and the fix when the registry disagrees", () => {
    expect(() => mod.assertDigest("worker", "r/nova-rms-worker:1", B, `sha256:${"f".repeat(64)}`)).toThrow(
      /nova-rms-worker:1 is sha256:f{64}, but the stack expects sha256:b{64}.*nova-rollout:workerImageDigest/,
    );
    expect(() => mod.assertDigest("api", "r/nova-rms-api:1", A, "")).toThrow(/is \(none\)/);
    expect(mod.assertDigest("api", "r/nova-rms-api:1", A, A)).toBe(A);
  });

  describe.each([
    [
      "an image given only by a tag",
      "tag-only",
      "pinned",
      { api: { repository: "nova-rms-api" }, worker: images.worker },
      /images\.api\.digest.*mutable tag "2026.11.3"/s,
    ],
    [
      "an image given only by a tag (registry-api)",
      "tag-only-regapi",
      "registry-api",
      { api: images.api, worker: { repository: "nova-rms-worker" } },
      /images\.worker\.digest.*mutable tag "2026.11.3"/s,
    ],
    [
      "a malformed digest",
      "malformed",
      "pinned",
      { api: { repository: "nova-rms-api", digest: "sha256:abc" }, worker: images.worker },
      /images\.api\.digest.*not sha256/s,
    ],
    [
      "registry-api without the probe script",
      "no-probe",
      "registry-api",
      images,
      /probeScript: required for the registry-api resolver/,
    ],
  ] as const)("refuses %s", (_what, name, resolver, imgs, message) => {
    it("with an InputPropertiesError naming the property", () => {
      let error: unknown;
      try {
        new mod.ReleaseImages(`bad-${name}`, {
          registry: "registry.example/nova",
          tag: "2026.11.3",
          resolver,
          images: imgs,
          ...(name === "tag-only-regapi" ? { probeScript: "/repo/dist/src/verify/probe.js" } : {}),
        });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Error);
      const e = error as { message: string; errors: { propertyPath: string; reason: string }[] };
      expect(e.errors.map((x) => `${x.propertyPath}: ${x.reason}`).join("\n")).toMatch(message);
    });
  });
});
