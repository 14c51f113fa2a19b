import { describe, expect, it } from "vitest";
import { imagesPinnedByDigest } from "../../policy/policies";
import { DIGESTS, OTHER_DIGESTS, REGISTRY } from "./fixtures";
import { runResourcePolicy, UNKNOWN } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

const api = `${REGISTRY}/nova-rms-api@${DIGESTS.api}`;
const worker = `${REGISTRY}/nova-rms-worker@${DIGESTS.worker}`;

function deployment(images: unknown[]) {
  return {
    spec: { template: { spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } } },
  };
}

function run(type: string, props: Record<string, unknown>, config: Record<string, unknown> = {}) {
  return runResourcePolicy(imagesPinnedByDigest, {
    type,
    name: "nova-release:nova-prod/nova-api",
    props,
    config: { projectDir: fixture.project.dir, ...config },
  });
}

describe("nova-images-pinned-by-digest", () => {
  it("passes Nova images pinned at the expected digests from the stack registry", async () => {
    expect((await run("kubernetes:apps/v1:Deployment", deployment([api, worker]))).messages).toEqual([]);
  });

  it("checks CronJob and Pod specs too", async () => {
    const cron = {
      spec: {
        jobTemplate: { spec: { template: { spec: { containers: [{ name: "drill", image: worker }] } } } },
      },
    };
    expect((await run("kubernetes:batch/v1:CronJob", cron)).messages).toEqual([]);
    expect(
      (
        await run("kubernetes:core/v1:Pod", {
          spec: { containers: [{ name: "x", image: `${REGISTRY}/nova-rms-api:latest` }] },
        })
      ).messages.join(),
    ).toMatch(/not pinned by digest/);
  });

  it("ignores other resource types", async () => {
    expect((await run("kubernetes:core/v1:Service", { spec: {} })).messages).toEqual([]);
  });

  describe.each([
    [
      "a tag instead of a digest",
      [`${REGISTRY}/nova-rms-api:2026.11.3`],
      {},
      /not pinned by digest.*threshold: <registry>\/<name>@sha256/,
    ],
    [
      "a digest other than the expected one",
      [`${REGISTRY}/nova-rms-api@${OTHER_DIGESTS.api}`],
      {},
      /runs nova-rms-api@sha256:c{64}; the stack expects sha256:a{64}/,
    ],
    [
      "a registry outside the allow-list",
      [`docker.io/library/nova-rms-api@${DIGESTS.api}`],
      {},
      /outside the allow-list \[us-docker\.pkg\.dev\/nova-prod\/nova\]/,
    ],
    [
      "a registry outside a configured allow-list",
      [api],
      { allowedRegistries: ["registry.example.com/nova"] },
      /outside the allow-list/,
    ],
    ["an image unknown during preview", [UNKNOWN], {}, /unknown during preview/],
  ] as const)("blocks %s", (_l, images, config, expected) => {
    it("reports it", async () => {
      const props =
        images[0] === UNKNOWN
          ? { spec: { template: { spec: { containers: UNKNOWN } } } }
          : deployment([...images]);
      expect((await run("kubernetes:apps/v1:Deployment", props, config)).messages.join("\n")).toMatch(
        expected,
      );
    });
  });
});
