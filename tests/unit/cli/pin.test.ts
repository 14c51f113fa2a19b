// `rollout pin`: a stand-in skopeo over an in-memory registry (tests/unit/support/fake-skopeo.ts) answers the tag
// lookups; the real skopeo against a token-protected registry is in tests/integration/pin.test.ts.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { formatPin, pinRelease } from "../../../cli/actions/pin";
import { describeFailure, EXIT, UserError } from "../../../cli/errors";
import { lineDiff, setStackConfigValues } from "../../../src/config/stack-file-edit";
import { FakeSkopeo, sha256 } from "../support/fake-skopeo";

const ROOT = path.resolve(__dirname, "../../..");
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json";
/** The stand-in registry's address (a loopback one, as the sandbox's). */
const registryAddress = "127.0.0.1:45999/nova";

function manifest(mediaType: string, marker: string): string {
  return JSON.stringify({ schemaVersion: 2, mediaType, marker });
}

let skopeo = new FakeSkopeo();
/** Serves `body` as `repository:tag` of the stand-in registry. */
const serve = (repoTag: string, body: string) => {
  const [repo = "", tag = ""] = repoTag.split("/");
  skopeo.put(`${registryAddress}/${repo}`, tag, Buffer.from(body));
};

const INDEX = manifest(OCI_INDEX, "api-index");
const WORKER = manifest(DOCKER_V2, "worker-v2");
const COMMITTED_TAG_LINE = "  nova-rollout:imageTag: sandbox";

let projectDir = "";
let stackFile = "";
let original = "";

beforeEach(() => {
  skopeo = new FakeSkopeo();
  projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-pin-"));
  stackFile = path.join(projectDir, "Pulumi.it-pin.yaml");
  // The committed sandbox stack file, aimed at the stand-in registry, with a comment on the tag's own line.
  original = fs
    .readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8")
    .replaceAll("127.0.0.1:35000/nova", registryAddress)
    .replace(COMMITTED_TAG_LINE, `${COMMITTED_TAG_LINE}  # the release the stack runs`);
  fs.writeFileSync(stackFile, original);
});
afterEach(() => fs.rmSync(projectDir, { recursive: true, force: true }));

const pin = (tag: string, dryRun = false) =>
  pinRelease({ projectDir, stack: "it-pin", tag, dryRun, skopeo: skopeo.run });

describe("rollout pin", () => {
  it("pins an index's own digest for a multi-arch image and a manifest's for a single-platform one", async () => {
    serve("nova-rms-api/v1.4.2", INDEX);
    serve("nova-rms-worker/v1.4.2", WORKER);
    const report = await pin("v1.4.2");

    expect(report.written).toBe(true);
    const config = (parseYaml(fs.readFileSync(stackFile, "utf8")) as { config: Record<string, unknown> })
      .config;
    expect(config["nova-rollout:imageTag"]).toBe("v1.4.2");
    expect(config["nova-rollout:apiImageDigest"]).toBe(sha256(INDEX));
    expect(config["nova-rollout:workerImageDigest"]).toBe(sha256(WORKER));
    expect(report.images.map((i) => [i.service, i.mediaType, i.multiArch])).toEqual([
      ["api", OCI_INDEX, true],
      ["worker", DOCKER_V2, false],
    ]);
    const text = formatPin(report);
    expect(text).toMatch(/api .*OCI image index \(multi-arch\)/);
    expect(text).toMatch(/worker .*Docker v2 manifest \(single platform\)/);
    // The tag's manifest as stored (--raw: an index stays an index), plain HTTP for the loopback registry.
    expect(skopeo.calls.map((c) => [c[0], c.includes("--raw"), c.at(-2), c.at(-1)])).toEqual([
      ["inspect", true, "--tls-verify=false", `docker://${registryAddress}/nova-rms-api:v1.4.2`],
      ["inspect", true, "--tls-verify=false", `docker://${registryAddress}/nova-rms-worker:v1.4.2`],
    ]);
  });

  it("changes only the three pinned lines: comments, key order and everything else stay", async () => {
    serve("nova-rms-api/v1.4.2", INDEX);
    serve("nova-rms-worker/v1.4.2", WORKER);
    const report = await pin("v1.4.2");
    const after = fs.readFileSync(stackFile, "utf8");

    const before = original.split("\n");
    const now = after.split("\n");
    expect(now).toHaveLength(before.length);
    const changed = before.flatMap((line, i) => (line === now[i] ? [] : [i]));
    expect(changed.map((i) => now[i])).toEqual([
      "  nova-rollout:imageTag: v1.4.2  # the release the stack runs",
      `  nova-rollout:apiImageDigest: ${sha256(INDEX)}`,
      `  nova-rollout:workerImageDigest: ${sha256(WORKER)}`,
    ]);
    expect(after.startsWith("# The sandbox stack:")).toBe(true);
    expect(report.diff).toContain(`-${COMMITTED_TAG_LINE}  # the release the stack runs`);
    expect(report.diff).toContain("+  nova-rollout:imageTag: v1.4.2  # the release the stack runs");
  });

  it("--dry-run prints the change and writes nothing", async () => {
    serve("nova-rms-api/v1.4.2", INDEX);
    serve("nova-rms-worker/v1.4.2", WORKER);
    const report = await pin("v1.4.2", true);

    expect(fs.readFileSync(stackFile, "utf8")).toBe(original);
    expect(report.written).toBe(false);
    expect(report.diff).toContain(`+  nova-rollout:apiImageDigest: ${sha256(INDEX)}`);
    expect(report.diff).toMatch(/^-  nova-rollout:apiImageDigest: sha256:b340ee4a/m);
    expect(formatPin(report)).toMatch(/dry run: Pulumi\.it-pin\.yaml not written/);
    expect(fs.readdirSync(projectDir)).toEqual(["Pulumi.it-pin.yaml"]);
  });

  it("a tag missing from one repository names it and writes nothing (a usage error)", async () => {
    serve("nova-rms-api/v1.4.2", INDEX);
    const err = await pin("v1.4.2").then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(UserError);
    const failure = describeFailure(err);
    expect(failure.code).toBe(EXIT.usage);
    expect(failure.message).toContain(
      `tag v1.4.2 not found in repository ${registryAddress}/nova-rms-worker`,
    );
    expect(failure.message).not.toContain("nova-rms-api");
    expect(failure.message).toContain("nothing written");
    expect(fs.readFileSync(stackFile, "utf8")).toBe(original);
  });

  it("a registry refusing this machine names the login to run, and writes nothing", async () => {
    serve("nova-rms-api/v1.4.2", INDEX);
    serve("nova-rms-worker/v1.4.2", WORKER);
    skopeo.denied.add(`${registryAddress}/nova-rms-worker`);
    const err = await pin("v1.4.2").catch((e: unknown) => e);
    const failure = describeFailure(err);
    expect(failure.code).toBe(EXIT.usage);
    expect(failure.message).toContain(
      `${registryAddress}/nova-rms-worker:v1.4.2: Error parsing image name "docker://${registryAddress}/nova-rms-worker:v1.4.2": reading manifest in ${registryAddress}/nova-rms-worker:v1.4.2: errors:; denied: requested access to the resource is denied; unauthorized: authentication required`,
    );
    expect(failure.message).toContain(
      "Fix: log in to 127.0.0.1:45999 (skopeo login 127.0.0.1:45999; docker login works too; Artifact Registry: gcloud auth configure-docker 127.0.0.1:45999)",
    );
    expect(failure.message).not.toContain("nova-rms-api:");
    expect(fs.readFileSync(stackFile, "utf8")).toBe(original);
  });

  it.each([["not a tag!"], ["-v1"], ["a".repeat(129)]])(
    "refuses the tag %j before asking the registry",
    async (tag) => {
      await expect(pin(tag)).rejects.toThrow(UserError);
      expect(skopeo.calls).toEqual([]);
    },
  );

  it("says so when the stack file already pins the tag's digests", async () => {
    serve("nova-rms-api/v1.4.2", INDEX);
    serve("nova-rms-worker/v1.4.2", WORKER);
    await pin("v1.4.2");
    const again = await pin("v1.4.2");
    expect(again.diff).toBe("");
    expect(again.written).toBe(false);
    expect(formatPin(again)).toMatch(/already pins these digests/);
  });
});

describe("stack file edits", () => {
  const FILE = "Pulumi.x.yaml";
  const text = [
    "# head comment",
    "config:",
    "  # the registry",
    "  nova-rollout:imageRegistry: r.example/nova",
    "  nova-rollout:imageTag: '1.2' # quoted",
    "  nova-rollout:namespace: nova",
    "",
  ].join("\n");

  it("keeps a value's quoting and comment and inserts missing keys after the anchor, in order", () => {
    const out = setStackConfigValues(
      text,
      FILE,
      [
        { key: "nova-rollout:imageTag", value: "1.3" },
        { key: "nova-rollout:apiImageDigest", value: "sha256:aa" },
        { key: "nova-rollout:workerImageDigest", value: "sha256:bb" },
      ],
      ["nova-rollout:imageRegistry", "nova-rollout:imageTag"],
    );
    expect(out).toBe(
      [
        "# head comment",
        "config:",
        "  # the registry",
        "  nova-rollout:imageRegistry: r.example/nova",
        "  nova-rollout:imageTag: '1.3' # quoted",
        "  nova-rollout:apiImageDigest: sha256:aa",
        "  nova-rollout:workerImageDigest: sha256:bb",
        "  nova-rollout:namespace: nova",
        "",
      ].join("\n"),
    );
  });

  it("adds a key after a map that ends the config (an encrypted value), not inside it", () => {
    const input = "config:\n  nova-rollout:jwtSigningKey:\n    secure: v1:abc\n# trailing comment\n";
    const out = setStackConfigValues(input, FILE, [{ key: "nova-rollout:imageTag", value: "v2" }]);
    expect(out).toBe(
      "config:\n  nova-rollout:jwtSigningKey:\n    secure: v1:abc\n  nova-rollout:imageTag: v2\n# trailing comment\n",
    );
  });

  it("quotes a tag YAML would read as a number", () => {
    const out = setStackConfigValues("config:\n  nova-rollout:imageTag: v1\n", FILE, [
      { key: "nova-rollout:imageTag", value: "1.20" },
    ]);
    expect((parseYaml(out) as { config: Record<string, unknown> }).config["nova-rollout:imageTag"]).toBe(
      "1.20",
    );
  });

  it.each([
    ["not YAML", "config: [\n", /not valid YAML/],
    ["no config map", "config: 3\n", /"config" must be a map/],
    ["a list where the value goes", "config:\n  nova-rollout:imageTag:\n    - a\n", /holds a list/],
  ])("refuses %s", (_what, input, message) => {
    expect(() => setStackConfigValues(input, FILE, [{ key: "nova-rollout:imageTag", value: "v1" }])).toThrow(
      message,
    );
  });

  it.each([
    ["equal texts", "a\nb\n", "a\nb\n", ""],
    ["a replaced line", "a\nb\nc", "a\nB\nc", "@@ line 2 @@\n-b\n+B"],
    ["an added line", "a\nc", "a\nb\nc", "@@ line 2 @@\n+b"],
    ["two hunks", "a\nb\nc\nd", "A\nb\nc\nD", "@@ line 1 @@\n-a\n+A\n@@ line 4 @@\n-d\n+D"],
  ])("line diff: %s", (_what, before, after, diff) => {
    expect(lineDiff(before, after)).toBe(diff);
  });
});
