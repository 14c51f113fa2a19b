import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, promiseOf, settle, type MockState } from "../support/mocks";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
let mocks: MockState;
let mod: typeof import("../../../components/release-images");

beforeAll(async () => {
  mocks = installMocks({
    calls: {
      "docker:index/getRegistryImage:getRegistryImage": (i) => ({
        name: i.name,
        sha256Digest: String(i.name).includes("api") ? A : B,
      }),
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
      environment: "sandbox",
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

  it("checks each digest against the registry API with a command before the release", async () => {
    const r = new mod.ReleaseImages("regapi", {
      registry: "127.0.0.1:35000/nova",
      tag: "sandbox",
      resolver: "registry-api",
      environment: "sandbox",
      images,
      probeScript: "/repo/dist/src/verify/probe.js",
    });
    await promiseOf(r.refs);
    await settle();
    const api = mocks.named("regapi-api-digest");
    expect(api.type).toBe("command:local:Command");
    expect(api.inputs.create).toContain("http://127.0.0.1:35000/v2/nova/nova-rms-api/manifests/sandbox");
    expect(api.inputs.create).toContain(`--expect ${A}`);
    expect(api.inputs.triggers).toEqual(["127.0.0.1:35000/nova/nova-rms-api:sandbox", A]);
    expect(mocks.named("regapi-worker-digest").inputs.create).toContain(`--expect ${B}`);
    expect(r.checks).toHaveLength(2);
  });

  it("accepts digests the docker registry reports", async () => {
    const r = new mod.ReleaseImages("dock", {
      registry: "registry.example/nova",
      tag: "2026.11.3",
      resolver: "docker",
      environment: "staging",
      images,
    });
    expect(await promiseOf(r.digests)).toEqual({ api: A, worker: B });
    const tokens = mocks.calls.filter((c) => c.token.startsWith("docker:")).map((c) => c.inputs.name);
    expect(tokens).toEqual(
      expect.arrayContaining([
        "registry.example/nova/nova-rms-api:2026.11.3",
        "registry.example/nova/nova-rms-worker:2026.11.3",
      ]),
    );
  });

  it("reads digests from Artifact Registry at preview time", async () => {
    const r = new mod.ReleaseImages("gar", {
      registry: "us-docker.pkg.dev/nova-prod/nova",
      tag: "2026.11.3",
      resolver: "artifact-registry",
      environment: "production",
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

  it("builds and pushes with docker.Image outside production", async () => {
    const r = new mod.ReleaseImages("build", {
      registry: "registry.example/nova",
      tag: "dev",
      resolver: "build",
      environment: "staging",
      images: {
        api: { repository: "nova-rms-api", buildContext: "/src/api" },
        worker: { repository: "nova-rms-worker", buildContext: "/src/worker" },
      },
    });
    expect(await promiseOf(r.digests)).toEqual({
      api: `sha256:${"c".repeat(64)}`,
      worker: `sha256:${"c".repeat(64)}`,
    });
    expect(mocks.named("build-api-image").inputs).toMatchObject({
      imageName: "registry.example/nova/nova-rms-api:dev",
      build: { context: "/src/api", platform: "linux/amd64" },
    });
  });

  describe.each([
    [
      "a production image given only by a tag",
      "production",
      "pinned",
      { api: { repository: "nova-rms-api" }, worker: images.worker },
      /images\.api\.digest.*mutable tag "2026.11.3"/s,
    ],
    [
      "a build in production",
      "production",
      "build",
      {
        api: { repository: "nova-rms-api", buildContext: "/x" },
        worker: { repository: "nova-rms-worker", buildContext: "/y" },
      },
      /resolver.*building during the rollout is refused/s,
    ],
    [
      "a malformed digest",
      "staging",
      "pinned",
      { api: { repository: "nova-rms-api", digest: "sha256:abc" }, worker: images.worker },
      /images\.api\.digest.*not sha256/s,
    ],
    [
      "a build without context",
      "staging",
      "build",
      { api: { repository: "nova-rms-api" }, worker: { repository: "nova-rms-worker", buildContext: "/y" } },
      /images\.api\.buildContext/,
    ],
  ] as const)("refuses %s", (_what, environment, resolver, imgs, message) => {
    it("with an InputPropertiesError naming the property", () => {
      let error: unknown;
      try {
        new mod.ReleaseImages(`bad-${resolver}-${environment}`, {
          registry: "registry.example/nova",
          tag: "2026.11.3",
          resolver,
          environment,
          images: imgs,
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
