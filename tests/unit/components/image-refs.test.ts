import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  artifactRegistryCoordinates,
  digestRef,
  isPinned,
  parseImageRef,
  tagRef,
} from "../../../src/contract";

const D = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("image references", () => {
  it.each([
    ["us-docker.pkg.dev/p/r/nova-rms-api@" + D, { name: "us-docker.pkg.dev/p/r/nova-rms-api", digest: D }],
    [
      "127.0.0.1:35000/nova/nova-rms-api:sandbox",
      { name: "127.0.0.1:35000/nova/nova-rms-api", tag: "sandbox" },
    ],
    ["127.0.0.1:35000/nova/api:1@" + D, { name: "127.0.0.1:35000/nova/api", tag: "1", digest: D }],
    ["localhost:5000/api", { name: "localhost:5000/api" }],
    ["nginx", { name: "nginx" }],
  ])("parses %s", (ref, parsed) => {
    expect(parseImageRef(ref)).toEqual(parsed);
  });

  it.each([
    [`r/a@${D}`, true],
    ["r/a:latest", false],
    ["r/a@sha256:abc", false],
    [`r:5000/a:1@${D}`, true],
  ])("isPinned(%s) = %s", (ref, pinned) => expect(isPinned(ref)).toBe(pinned));

  it("refuses to format a reference without a real digest", () => {
    expect(() => digestRef("r", "a", "latest")).toThrow(/not an image digest/);
  });

  it("round-trips any registry, repository, tag and digest", () => {
    const segment = fc.stringMatching(/^[a-z0-9]{1,8}$/);
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 3 }),
        fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        segment,
        fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/),
        fc.stringMatching(/^[a-f0-9]{64}$/),
        (parts, port, repo, tag, hex) => {
          const host = `${parts[0]}.example${port === undefined ? "" : `:${port}`}`;
          const registry = [host, ...parts.slice(1)].join("/");
          const digest = `sha256:${hex}`;
          expect(parseImageRef(digestRef(registry, repo, digest))).toEqual({
            name: `${registry}/${repo}`,
            digest,
          });
          expect(parseImageRef(tagRef(registry, repo, tag))).toEqual({ name: `${registry}/${repo}`, tag });
        },
      ),
    );
  });

  it.each([
    ["us-docker.pkg.dev/nova-prod/nova", { location: "us", project: "nova-prod", repositoryId: "nova" }],
    [
      "europe-west1-docker.pkg.dev/nova-staging/images",
      { location: "europe-west1", project: "nova-staging", repositoryId: "images" },
    ],
    ["gcr.io/nova-prod", undefined],
    ["127.0.0.1:35000/nova", undefined],
  ])("reads Artifact Registry coordinates of %s", (registry, coords) => {
    expect(artifactRegistryCoordinates(registry)).toEqual(coords);
  });
});
