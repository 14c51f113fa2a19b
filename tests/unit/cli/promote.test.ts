// `rollout promote`: the source stack's history decides what is promoted; a stand-in skopeo keeps an in-memory
// registry (every reference it was asked for is recorded), so the copy, its read-back and the stack file are checked.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { pinRelease } from "../../../cli/actions/pin";
import { formatPromote, promoteRelease } from "../../../cli/actions/promote";
import { EXIT, UserError } from "../../../cli/errors";
import { toReleaseEntry, type ReleaseEntry } from "../../../cli/history";
import { parseStackSettings } from "../../../src/config";
import { removeStackConfigKeys } from "../../../src/config/stack-file-edit";
import {
  classify,
  inspectManifest,
  RegistryError,
  skopeoMessage,
  skopeoRunner,
  type SkopeoRunner,
} from "../../../src/registry/skopeo";
import { FakeSkopeo, sha256 } from "../support/fake-skopeo";

const ROOT = path.resolve(__dirname, "../../..");
const STAGING_REGISTRY = "127.0.0.1:35000/nova";
const body = (marker: string) =>
  Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", marker }),
  );

const API = body("api-1.4.2");
const WORKER = body("worker-1.4.2");
const OLD_API = body("api-1.4.1");
const OLD_WORKER = body("worker-1.4.1");

/** A history entry as the engine reports it. */
function update(
  version: number,
  result: "succeeded" | "failed",
  tag: string,
  api: Buffer,
  worker: Buffer,
  extra: Record<string, string> = {},
  message?: string,
): ReleaseEntry {
  const config = Object.fromEntries(
    Object.entries({
      "nova-rollout:imageRegistry": STAGING_REGISTRY,
      "nova-rollout:imageTag": tag,
      "nova-rollout:apiImageDigest": sha256(api),
      "nova-rollout:workerImageDigest": sha256(worker),
      ...extra,
    }).map(([k, value]) => [k, { value, secret: false }]),
  );
  return toReleaseEntry({
    version,
    kind: "update",
    result,
    startTime: new Date(),
    endTime: new Date(),
    config,
    ...(message !== undefined ? { message } : {}),
  } as unknown as Parameters<typeof toReleaseEntry>[0]);
}

let projectDir = "";
let stackFile = "";
let original = "";
let skopeo: FakeSkopeo;
let prodRegistry = "";

beforeEach(() => {
  projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-promote-"));
  stackFile = path.join(projectDir, "Pulumi.production.yaml");
  original = fs.readFileSync(path.join(ROOT, "Pulumi.production.yaml"), "utf8");
  fs.writeFileSync(stackFile, original);
  prodRegistry =
    (parseYaml(original) as { config: Record<string, string> }).config["nova-rollout:imageRegistry"] ?? "";
  skopeo = new FakeSkopeo();
  skopeo.put(`${STAGING_REGISTRY}/nova-rms-api`, "v1.4.2", API);
  skopeo.put(`${STAGING_REGISTRY}/nova-rms-worker`, "v1.4.2", WORKER);
  skopeo.put(`${STAGING_REGISTRY}/nova-rms-api`, "v1.4.1", OLD_API);
  skopeo.put(`${STAGING_REGISTRY}/nova-rms-worker`, "v1.4.1", OLD_WORKER);
});
afterEach(() => fs.rmSync(projectDir, { recursive: true, force: true }));

const promote = (
  history: ReleaseEntry[],
  o: { update?: number; dryRun?: boolean; rejected?: { api: string; worker: string }[] } = {},
) => {
  const progress: string[] = [];
  const run = promoteRelease({
    projectDir,
    from: "staging",
    to: "production",
    ...(o.update !== undefined ? { update: o.update } : {}),
    dryRun: o.dryRun === true,
    skopeo: skopeo.run,
    source: () => Promise.resolve({ history, rejected: o.rejected ?? [] }),
    onProgress: (l) => progress.push(l),
  });
  return { run, progress };
};

const config = () =>
  (parseYaml(fs.readFileSync(stackFile, "utf8")) as { config: Record<string, unknown> }).config;

async function refusal(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

describe("rollout promote", () => {
  it("copies the newest verified staging release by digest into the production registry and pins it with its origin", async () => {
    // History carries the project's defaults too: an empty rollbackOf marks no rollback.
    const history = [
      update(7, "succeeded", "v1.4.2", API, WORKER, { "nova-rollout:rollbackOf": "" }),
      update(6, "succeeded", "v1.4.1", OLD_API, OLD_WORKER),
    ];
    const { run, progress } = promote(history);
    const report = await run;

    // Both images exist in the production repositories under the release tag, with the staging digests.
    expect(skopeo.store.get(`${prodRegistry}/nova-rms-api:v1.4.2`)).toEqual(API);
    expect(skopeo.store.get(`${prodRegistry}/nova-rms-worker:v1.4.2`)).toEqual(WORKER);
    const copies = skopeo.calls.filter((c) => c[0] === "copy");
    expect(copies).toHaveLength(2);
    for (const c of copies) {
      expect(c).toEqual(expect.arrayContaining(["--all", "--preserve-digests", "--src-tls-verify=false"]));
      // The production registry is HTTPS: skopeo's default verification and registries.conf apply.
      expect(c.some((a) => a.startsWith("--dest-tls-verify"))).toBe(false);
    }
    expect(copies[0]).toContain(`docker://${STAGING_REGISTRY}/nova-rms-api@${sha256(API)}`);
    // Each copy is read back from the destination tag.
    expect(skopeo.calls.filter((c) => c[0] === "inspect").map((c) => c.at(-1))).toEqual([
      `docker://${prodRegistry}/nova-rms-api:v1.4.2`,
      `docker://${prodRegistry}/nova-rms-worker:v1.4.2`,
    ]);

    expect(report.written).toBe(true);
    expect(config()["nova-rollout:imageTag"]).toBe("v1.4.2");
    expect(config()["nova-rollout:apiImageDigest"]).toBe(sha256(API));
    expect(config()["nova-rollout:workerImageDigest"]).toBe(sha256(WORKER));
    expect(config()["nova-rollout:promotedFrom"]).toBe("staging update 7");
    // The written file is valid production config (the schema accepts the origin it records).
    expect(() =>
      parseStackSettings(
        Object.fromEntries(
          Object.entries(config()).map(([k, v]) => [
            k.replace("nova-rollout:", ""),
            typeof v === "string" ? v : JSON.stringify(v),
          ]),
        ),
        { stack: "production", projectDir },
      ),
    ).not.toThrow(/promotedFrom/);
    // Only the pinned lines changed, plus the origin line after them; the file's comments stay.
    expect(fs.readFileSync(stackFile, "utf8").startsWith(original.split("\n")[0] ?? "")).toBe(true);
    expect(report.diff.split("\n").filter((l) => l.startsWith("+"))).toHaveLength(4);
    expect(progress).toEqual([
      expect.stringMatching(/^copying api: /),
      expect.stringMatching(/^copied api: .* is sha256:/),
      expect.stringMatching(/^copying worker: /),
      expect.stringMatching(/^copied worker: /),
    ]);
    expect(formatPromote(report)).toMatch(
      /^staging update 7: release v1\.4\.2, deployed and verified there, promoted to stack production:/,
    );
  });

  it("refuses a staging release whose post-deploy verification failed, copying and writing nothing", async () => {
    const history = [
      update(8, "failed", "v1.4.2", API, WORKER),
      update(7, "succeeded", "v1.4.1", OLD_API, OLD_WORKER),
    ];
    const err = await refusal(promote(history).run);
    expect(err.message).toMatch(
      /^Cannot promote staging update 8 \(release v1\.4\.2\): it was a failed update/,
    );
    expect(err.message).toContain("npm run rollout -- up --stack staging");
    expect(err.exitCode).toBe(EXIT.notReady);
    expect(skopeo.calls).toEqual([]);
    expect(fs.readFileSync(stackFile, "utf8")).toBe(original);
  });

  it("refuses the rollback that followed a failed release: it verified no new release", async () => {
    const history = [
      update(9, "succeeded", "v1.4.1", OLD_API, OLD_WORKER, {
        "nova-rollout:rollbackOf": `update 7 api ${sha256(OLD_API)} worker ${sha256(OLD_WORKER)}`,
      }),
      update(8, "failed", "v1.4.2", API, WORKER),
      update(7, "succeeded", "v1.4.1", OLD_API, OLD_WORKER),
    ];
    const err = await refusal(promote(history).run);
    expect(err.message).toMatch(/Cannot promote staging update 9 \(release v1\.4\.1\): it is a rollback/);
    expect(skopeo.calls).toEqual([]);
  });

  it("refuses a release the staging stack rejected since, even when named with --update", async () => {
    const history = [update(7, "succeeded", "v1.4.2", API, WORKER)];
    const err = await refusal(
      promote(history, { update: 7, rejected: [{ api: sha256(API), worker: sha256(WORKER) }] }).run,
    );
    expect(err.message).toMatch(/rejected on this stack afterwards/);
    expect(skopeo.calls).toEqual([]);
  });

  it("--update promotes an older verified update; an unknown one is named", async () => {
    const history = [
      update(7, "succeeded", "v1.4.2", API, WORKER),
      update(6, "succeeded", "v1.4.1", OLD_API, OLD_WORKER),
    ];
    const report = await promote(history, { update: 6 }).run;
    expect(report.release).toBe("v1.4.1");
    expect(config()["nova-rollout:apiImageDigest"]).toBe(sha256(OLD_API));
    expect(config()["nova-rollout:promotedFrom"]).toBe("staging update 6");
    const err = await refusal(promote(history, { update: 42 }).run);
    expect(err.message).toMatch(/^Update 42 is not in the history of stack staging/);
  });

  it("--dry-run shows the copies and the change, and copies and writes nothing", async () => {
    const report = await promote([update(7, "succeeded", "v1.4.2", API, WORKER)], { dryRun: true }).run;
    expect(skopeo.calls).toEqual([]);
    expect(fs.readFileSync(stackFile, "utf8")).toBe(original);
    expect(report.diff).toContain("+  nova-rollout:promotedFrom: staging update 7");
    expect(formatPromote(report)).toMatch(/dry run: nothing copied, Pulumi\.production\.yaml not written/);
  });

  it("a registry that refuses the push stops the promotion with a login fix line, nothing pinned", async () => {
    skopeo.denied.add(`${prodRegistry}/nova-rms-api`);
    const err = await refusal(promote([update(7, "succeeded", "v1.4.2", API, WORKER)]).run);
    expect(err.message).toMatch(/authentication required/);
    expect(err.message).toMatch(
      /Fix: log in to us-docker\.pkg\.dev with push rights \(skopeo login us-docker\.pkg\.dev/,
    );
    expect(err.exitCode).toBe(EXIT.usage);
    // The worker was not attempted after the api's refusal.
    expect(skopeo.calls.filter((c) => c[0] === "copy")).toHaveLength(1);
    expect(fs.readFileSync(stackFile, "utf8")).toBe(original);
  });

  it("a copy that reads back with another digest is not pinned", async () => {
    skopeo.rewrite = true;
    const err = await refusal(promote([update(7, "succeeded", "v1.4.2", API, WORKER)]).run);
    expect(err.message).toMatch(/the copy answers with sha256:[0-9a-f]{64}, not sha256:/);
    expect(err.exitCode).toBe(EXIT.failed);
    expect(fs.readFileSync(stackFile, "utf8")).toBe(original);
  });

  it("a later pin of a tag removes the promotion record it no longer describes", async () => {
    await promote([update(7, "succeeded", "v1.4.2", API, WORKER)]).run;
    expect(config()["nova-rollout:promotedFrom"]).toBe("staging update 7");
    const lines = fs.readFileSync(stackFile, "utf8").split("\n").length;
    skopeo.put(`${prodRegistry}/nova-rms-api`, "v1.4.3", OLD_API);
    skopeo.put(`${prodRegistry}/nova-rms-worker`, "v1.4.3", OLD_WORKER);
    const report = await pinRelease({ projectDir, stack: "production", tag: "v1.4.3", skopeo: skopeo.run });
    expect(report.written).toBe(true);
    expect(config()["nova-rollout:promotedFrom"]).toBeUndefined();
    expect(config()["nova-rollout:apiImageDigest"]).toBe(sha256(OLD_API));
    expect(fs.readFileSync(stackFile, "utf8").split("\n")).toHaveLength(lines - 1);
    expect(report.diff).toContain("-  nova-rollout:promotedFrom: staging update 7");
    // Removing a key that is absent is no change.
    const text = fs.readFileSync(stackFile, "utf8");
    expect(removeStackConfigKeys(text, stackFile, ["nova-rollout:promotedFrom"])).toBe(text);
  });
});

describe("nova-rollout:promotedFrom", () => {
  it("is refused by the schema unless it reads as promote writes it", () => {
    const base = (
      parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8")) as {
        config: Record<string, unknown>;
      }
    ).config;
    const flat = Object.fromEntries(
      Object.entries(base).map(([k, v]) => [
        k.replace("nova-rollout:", ""),
        typeof v === "string" ? v : JSON.stringify(v),
      ]),
    );
    expect(() =>
      parseStackSettings(
        { ...flat, promotedFrom: "staging update 12" },
        { stack: "local", projectDir: ROOT },
      ),
    ).not.toThrow();
    expect(() =>
      parseStackSettings({ ...flat, promotedFrom: "from staging" }, { stack: "local", projectDir: ROOT }),
    ).toThrow(/nova-rollout:promotedFrom: expected "<stack> update <version>"/);
  });
});

describe("skopeo", () => {
  it("reads the digest of a manifest's exact bytes, plain HTTP only for loopback registries", async () => {
    const calls: (readonly string[])[] = [];
    const run: SkopeoRunner = (args) => {
      calls.push(args);
      return Promise.resolve({ code: 0, stdout: API, stderr: "" });
    };
    const info = await inspectManifest(run, "127.0.0.1:35000/nova/nova-rms-api:v1");
    expect(info).toEqual({ digest: sha256(API), mediaType: "application/vnd.oci.image.index.v1+json" });
    await inspectManifest(run, "ghcr.io/nova/nova-rms-api:v1");
    expect(calls.map((c) => c.find((a) => a.startsWith("--tls-verify")))).toEqual([
      "--tls-verify=false",
      undefined,
    ]);
  });

  it("names skopeo's own message and sorts failures by what a person does", () => {
    expect(skopeoMessage('time="t" level=fatal msg="reading manifest v1: manifest unknown"\n')).toBe(
      "reading manifest v1: manifest unknown",
    );
    expect(classify("reading manifest: manifest unknown")).toBe("not-found");
    expect(classify("unauthorized: authentication required")).toBe("denied");
    expect(classify("requested access to the resource is denied")).toBe("denied");
    expect(classify("dial tcp 127.0.0.1:1: connect: connection refused")).toBe("unreachable");
    // A digest's hex that holds 401 is not an HTTP status.
    expect(classify(`blob sha256:${"a401b".repeat(12)}abcd: broken pipe`)).toBe("other");
  });

  it("a missing skopeo is a clear error naming how to install it", async () => {
    const run = skopeoRunner({ ...process.env, NOVA_SKOPEO: path.join(os.tmpdir(), "no-such-skopeo") });
    const err = await run(["--version"]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).kind).toBe("missing-tool");
    expect((err as Error).message).toMatch(
      /is not installed: install skopeo \(Debian\/Ubuntu: apt-get install skopeo/,
    );
  });
});
