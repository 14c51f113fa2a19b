import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { describeFailure } from "../../../cli/errors";
import {
  halfWrittenMetadata,
  repairFileBackendMetadata,
  setAsideMetadata,
} from "../../../cli/state-metadata";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A file backend with whole and half-written metadata for `prod` and another stack. */
function backend(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "state-metadata-"));
  dirs.push(dir);
  const write = (rel: string, text: string) => {
    const file = path.join(dir, ".pulumi", rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  };
  write("stacks/nova-rollout/prod.json", '{"version":3}');
  write("stacks/nova-rollout/prod.json.attrs", ""); // created, never written
  write("stacks/nova-rollout/staging.json.attrs", ""); // another stack's: not ours to touch
  write("stacks/nova-rollout/prod.json.bak.attrs", '{"user.content_type":"application/json"}');
  write("locks/organization/nova-rollout/prod/abc.json.attrs", '{"user.cont'); // cut
  write("history/nova-rollout/prod/prod-1.checkpoint.json.attrs", '{"md5":"x"}');
  return dir;
}

describe("half-written metadata of a file state backend", () => {
  it("finds the stack's empty or cut `.attrs` files only", () => {
    const dir = backend();
    expect(halfWrittenMetadata(dir, "prod").map((f) => path.relative(dir, f))).toEqual([
      path.join(".pulumi", "locks", "organization", "nova-rollout", "prod", "abc.json.attrs"),
      path.join(".pulumi", "stacks", "nova-rollout", "prod.json.attrs"),
    ]);
    expect(halfWrittenMetadata(path.join(dir, "nothing-here"), "prod")).toEqual([]);
  });

  it("moves them out of .pulumi/ (kept, never deleted); the state itself is untouched", () => {
    const dir = backend();
    const moved = setAsideMetadata(dir, halfWrittenMetadata(dir, "prod"), new Date("2026-12-04T03:40:00Z"));
    expect(moved.map((f) => path.relative(dir, f))).toEqual([
      path.join(
        ".pulumi-set-aside",
        "locks",
        "organization",
        "nova-rollout",
        "prod",
        "abc.json.attrs.20261204T034000Z",
      ),
      path.join(".pulumi-set-aside", "stacks", "nova-rollout", "prod.json.attrs.20261204T034000Z"),
    ]);
    expect(fs.readFileSync(moved[0] ?? "", "utf8")).toBe('{"user.cont');
    expect(halfWrittenMetadata(dir, "prod")).toEqual([]);
    expect(fs.readFileSync(path.join(dir, ".pulumi", "stacks", "nova-rollout", "prod.json"), "utf8")).toBe(
      '{"version":3}',
    );
    expect(fs.existsSync(path.join(dir, ".pulumi", "stacks", "nova-rollout", "staging.json.attrs"))).toBe(
      true,
    );
  });

  it("repairs only a file backend the engine is configured with", () => {
    const dir = backend();
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "state-metadata-project-"));
    dirs.push(project);
    expect(repairFileBackendMetadata(project, "prod", { PULUMI_BACKEND_URL: "gs://nova-state" })).toEqual([]);
    expect(
      repairFileBackendMetadata(project, "prod", { PULUMI_BACKEND_URL: `file://${dir}?no_tmp_dir=true` }),
    ).toHaveLength(2);
    expect(repairFileBackendMetadata(project, "prod", { PULUMI_BACKEND_URL: `file://${dir}` })).toEqual([]);
  });

  it("an engine that cannot read the checkpoint points at `rollout recover`", () => {
    const failure = describeFailure(
      Object.assign(new Error("code: 255\n stderr: error: failed to load checkpoint: EOF\n"), {
        name: "CommandError",
      }),
    );
    expect(failure.message).toMatch(/failed to load checkpoint: EOF/);
    expect(failure.message).toMatch(/`rollout recover --stack <stack>` sets it aside/);
  });
});
