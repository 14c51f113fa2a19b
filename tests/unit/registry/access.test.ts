import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { registryAccess, registryCheckBinary } from "../../../src/registry/access";
import { type SkopeoRunner } from "../../../src/registry/skopeo";
import { FakeSkopeo, sha256 } from "../support/fake-skopeo";

/** A stand-in nova-registry-check: pushes to the repositories in `allowed` are permitted; calls are recorded. */
function fakeCheck(allowed: readonly string[], calls: string[][]): SkopeoRunner {
  return (args) => {
    calls.push([...args]);
    const repo = args[1] ?? "";
    return Promise.resolve(
      allowed.includes(repo)
        ? {
            code: 0,
            stdout: Buffer.from(`push permitted: ${repo} (an upload was started and cancelled)\n`),
            stderr: "",
          }
        : {
            code: 1,
            stdout: Buffer.alloc(0),
            stderr: `push refused: ${repo}: HTTP 401 UNAUTHORIZED: authentication required\n`,
          },
    );
  };
}

describe("registry access", () => {
  it("resolves a tag to the sha256 of the manifest bytes skopeo read", async () => {
    const skopeo = new FakeSkopeo();
    const manifest = Buffer.from('{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}');
    skopeo.put("reg.example/nova/nova-rms-api", "1.2.3", manifest);
    const access = registryAccess({}, { skopeo: skopeo.run, check: fakeCheck([], []) });
    expect(await access.digestOf("reg.example/nova/nova-rms-api:1.2.3")).toBe(sha256(manifest));
    expect(skopeo.calls[0]).toEqual([
      "inspect",
      "--raw",
      "--retry-times",
      "2",
      "docker://reg.example/nova/nova-rms-api:1.2.3",
    ]);
    await expect(access.digestOf("reg.example/nova/nova-rms-api:9.9.9")).rejects.toThrow(/manifest unknown/);
  });

  it("asks the push checker per repository and keeps the registry's words of a refusal", async () => {
    const calls: string[][] = [];
    const access = registryAccess(
      {},
      { skopeo: new FakeSkopeo().run, check: fakeCheck(["reg.example/nova/a"], calls) },
    );
    expect(await access.pushPermission("reg.example/nova/a")).toEqual({
      ok: true,
      detail: "reg.example/nova/a (an upload was started and cancelled)",
    });
    expect(await access.pushPermission("reg.example/nova/b")).toEqual({
      ok: false,
      detail: "reg.example/nova/b: HTTP 401 UNAUTHORIZED: authentication required",
    });
    expect(calls).toEqual([
      ["push", "reg.example/nova/a"],
      ["push", "reg.example/nova/b"],
    ]);
  });

  it("names how to get the push checker when it is not installed, and honours NOVA_REGISTRY_CHECK", async () => {
    expect(registryCheckBinary({})).toBe("nova-registry-check");
    expect(registryCheckBinary({ NOVA_REGISTRY_CHECK: "/opt/bin/check" })).toBe("/opt/bin/check");
    const access = registryAccess({
      PATH: "/nonexistent",
      NOVA_REGISTRY_CHECK: "/nonexistent/nova-registry-check",
    });
    const answer = await access.pushPermission("reg.example/nova/a");
    expect(answer.ok).toBe(false);
    expect(answer.detail).toContain("/nonexistent/nova-registry-check is not installed");
    expect(answer.detail).toContain("go build -o nova-registry-check ./tools/registry-check");
  });
});
