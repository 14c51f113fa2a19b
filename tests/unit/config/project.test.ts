// One resolver of the project directory and one of the evidence directory: the program's settings, the stack view and
// the collector agree on where a stack's evidence is.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveEvidenceDir } from "../../../cli/options";
import {
  evidenceDirOf,
  findProjectDir,
  parseStackSettings,
  resolveConfigPath,
  resolveProjectDir,
} from "../../../src/config";
import { DEFAULT_EVIDENCE_DIR } from "../../../src/contract";
import { sandboxRaw } from "../support/config-fixtures";

const root = path.resolve(__dirname, "../../..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "nova-project-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("evidenceDirOf", () => {
  it.each<[string, readonly (string | undefined)[], string]>([
    ["nothing set: the default, under the project", [], path.join("/repo", DEFAULT_EVIDENCE_DIR)],
    ["unset and empty choices are skipped", [undefined, "", "  "], path.join("/repo", DEFAULT_EVIDENCE_DIR)],
    ["the first set choice wins", ["flag/dir", "config/dir"], "/repo/flag/dir"],
    ["a later choice when the first is unset", [undefined, "config/dir"], "/repo/config/dir"],
    ["an absolute path stays", ["/var/evidence"], "/var/evidence"],
    ["`~/` is the home directory", ["~/evidence"], path.join(os.homedir(), "evidence")],
  ])("%s", (_name, choices, expected) => {
    expect(evidenceDirOf({ projectDir: "/repo" }, ...choices)).toBe(expected);
  });

  it("is where the program's settings put the stack's evidence", () => {
    for (const evidenceDir of [undefined, "evidence/out", "~/nova-evidence", "/srv/evidence"]) {
      const settings = parseStackSettings(sandboxRaw({ evidenceDir }), { stack: "s", projectDir: "/repo" });
      expect(settings.evidenceDir, String(evidenceDir)).toBe(
        evidenceDirOf({ projectDir: "/repo" }, evidenceDir),
      );
    }
  });
});

describe("the evidence of a stack with an app checkout", () => {
  it("is in the app's tests/drills/logs, for the program's settings and the CLI alike", () => {
    const settings = parseStackSettings(sandboxRaw({ appDir: "../nova-rms" }), {
      stack: "s",
      projectDir: "/repo",
    });
    expect(settings.evidenceDir).toBe(path.join("/nova-rms", DEFAULT_EVIDENCE_DIR));
    expect(resolveEvidenceDir("/repo", undefined, undefined, "../nova-rms")).toBe(settings.evidenceDir);
    // A relative --evidence-dir or nova-rollout:evidenceDir is relative to the app too; an absolute one stays.
    expect(resolveEvidenceDir("/repo", "out", undefined, "../nova-rms")).toBe("/nova-rms/out");
    expect(resolveEvidenceDir("/repo", undefined, "/srv/evidence", "../nova-rms")).toBe("/srv/evidence");
    // Without an app checkout: the project's.
    expect(resolveEvidenceDir("/repo")).toBe(path.join("/repo", DEFAULT_EVIDENCE_DIR));
  });

  it("is found around the program's infra/ when appDir is not set", () => {
    const app = path.join(scratch, "nova-rms");
    fs.mkdirSync(path.join(app, "infra", "rollout"), { recursive: true });
    fs.writeFileSync(path.join(app, "pnpm-workspace.yaml"), "packages: []\n");
    const projectDir = path.join(app, "infra", "rollout");
    const settings = parseStackSettings(sandboxRaw({}), { stack: "s", projectDir });
    expect(settings.evidenceDir).toBe(path.join(app, DEFAULT_EVIDENCE_DIR));
  });
});

describe("resolveConfigPath", () => {
  it.each([
    ["relative", "a/b", "/repo/a/b"],
    ["absolute", "/a/b", "/a/b"],
    ["home", "~", os.homedir()],
    ["URL", "gs://bucket/dumps", "gs://bucket/dumps"],
  ])("%s", (_name, p, expected) => {
    expect(resolveConfigPath("/repo", p)).toBe(expected);
  });
});

describe("the project directory", () => {
  it("is found upward from a directory inside the repository", () => {
    expect(findProjectDir([path.join(root, "src", "config")])).toBe(root);
    expect(resolveProjectDir(undefined, [path.join(root, "tests", "unit")])).toBe(root);
  });

  it("is the explicit one when given, made absolute", () => {
    expect(resolveProjectDir("relative/dir", [root])).toBe(path.resolve("relative/dir"));
  });

  it("falls back to the first start when no Pulumi.yaml of the project is above it", () => {
    fs.writeFileSync(path.join(scratch, "Pulumi.yaml"), "name: another-project\nruntime: nodejs\n");
    const inside = path.join(scratch, "a");
    fs.mkdirSync(inside, { recursive: true });
    expect(findProjectDir([inside])).toBeUndefined();
    expect(resolveProjectDir(undefined, [inside])).toBe(inside);
  });
});
