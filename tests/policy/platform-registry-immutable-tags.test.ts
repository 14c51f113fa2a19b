import { describe, expect, it } from "vitest";
import { registryImmutableTags } from "../../platform/policy/policies";
import { judge, platformEnforcement } from "./platform-fixtures";

type Repo = Record<string, unknown> & { dockerConfig?: Record<string, unknown> };
const TYPE = "gcp:artifactregistry/repository:Repository";
const run = (mutate?: (r: Repo) => void) => judge<Repo>(registryImmutableTags, TYPE, mutate);

describe("nova-platform-registry-immutable-tags", () => {
  it("passes the repository ArtifactRegistries registers", async () => {
    expect((await run()).messages).toEqual([]);
  });

  describe.each<[string, (r: Repo) => void, RegExp]>([
    [
      "mutable tags",
      (r) => (r.dockerConfig = { immutableTags: false }),
      /dockerConfig\.immutableTags is false; set it to true/,
    ],
    [
      "no docker config (mutable by default)",
      (r) => delete r.dockerConfig,
      /dockerConfig\.immutableTags is unset/,
    ],
    ["another format", (r) => (r["format"] = "NPM"), /format is "NPM"/],
  ])("blocks %s", (_label, mutate, expected) => {
    it("reports it with the fix", async () => {
      const out = await run(mutate);
      expect(out.messages).toEqual([expect.stringMatching(/^Artifact Registry repository nova: /)]);
      expect(out.messages[0]).toMatch(expected);
      expect(out.messages[0]).toMatch(/Fix: restore dockerConfig\.immutableTags/);
    });
  });

  it("is mandatory on platform-production and advisory on platform-sandbox", () => {
    expect(platformEnforcement(registryImmutableTags, "platform-production")).toBe("mandatory");
    expect(platformEnforcement(registryImmutableTags, "platform-sandbox")).toBe("advisory");
  });
});
