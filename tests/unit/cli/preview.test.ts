// `rollout preview` runs `pulumi preview` itself: the stack, the pack flags and the event log it passes, the change
// summary it reads back, and the exit codes a failed engine run maps to — against a stand-in `pulumi` on PATH.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { previewStack } from "../../../cli/actions/preview";
import { describeFailure, EngineRunError, EXIT } from "../../../cli/errors";
import { stubPulumi } from "../support/stub-pulumi";

let work: string;
let project: string;

/** A `pulumi` that records its arguments and environment, writes the event log and answers as STUB_* say. */
const STUB = stubPulumi(`
printf '%s\\n' "$PULUMI_DEBUG_COMMANDS" > "$STUB_DIR/debug"
printf '%s\\n' '{"sequence":0,"timestamp":1,"cancelEvent":{}}' > "$log"
printf '%s\\n' '{"sequence":1,"timestamp":2,"summaryEvent":{"resourceChanges":{"same":40,"update":2}}}' >> "$log"
`);

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "nova-preview-"));
  const bin = path.join(work, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, "pulumi"), STUB, { mode: 0o755 });
  project = path.join(work, "project");
  fs.mkdirSync(path.join(project, "dist"), { recursive: true });
  fs.writeFileSync(path.join(project, "dist", "index.js"), "");
  for (const f of ["Pulumi.yaml", "Pulumi.local.yaml"])
    fs.copyFileSync(path.resolve(__dirname, "../../..", f), path.join(project, f));
  // The committed enforcement: without it every stack counts as production (fail closed).
  fs.mkdirSync(path.join(project, "policy", "config"), { recursive: true });
  fs.copyFileSync(
    path.resolve(__dirname, "../../../policy/config/production.json"),
    path.join(project, "policy", "config", "production.json"),
  );
  vi.stubEnv("NOVA_TOOLCHAIN", "path");
  vi.stubEnv("PATH", `${bin}:${process.env.PATH ?? ""}`);
  vi.stubEnv("STUB_DIR", work);
});

afterEach(() => {
  vi.unstubAllEnvs();
  fs.rmSync(work, { recursive: true, force: true });
});

const policy = { policyPacks: ["/p/policy"], policyPackConfigs: ["/p/policy/config/local.json"] };

describe("previewStack", () => {
  it("runs pulumi preview for the stack with the pack and an event log, and returns the engine's change summary", async () => {
    vi.stubEnv("STUB_OUTPUT", "Previewing update (local)");
    const out: string[] = [];
    const summary = await previewStack(
      { projectDir: project, stack: "local" },
      policy,
      (t) => void out.push(t),
    );
    expect(summary).toEqual({ same: 40, update: 2 });
    const args = fs.readFileSync(path.join(work, "args"), "utf8").trim().split("\n");
    expect(args.slice(0, 4)).toEqual(["preview", "--stack", "local", "--non-interactive"]);
    expect(args).toContain("--event-log");
    expect(args.slice(-4)).toEqual([
      "--policy-pack",
      "/p/policy",
      "--policy-pack-config",
      "/p/policy/config/local.json",
    ]);
    // The flag is hidden unless the engine's debug commands are on (as the Automation API sets them).
    expect(fs.readFileSync(path.join(work, "debug"), "utf8").trim()).toBe("true");
    expect(out.join("")).toContain("Previewing update (local)");
    // The event log lives in a temp directory that is gone afterwards.
    const log = args[args.indexOf("--event-log") + 1] ?? "";
    expect(fs.existsSync(path.dirname(log))).toBe(false);
  });

  it("maps mandatory violations to exit 5, a missing stack to 3 and a locked stack to 4", async () => {
    const cases: [string, number][] = [
      ["Policies:\n    - [mandatory]  nova-readiness-gate  (pulumi:pulumi:Stack: x)", EXIT.policyViolation],
      ["error: no stack named 'local' found", EXIT.stackNotFound],
      ["error: the stack is currently locked by 1 lock(s)", EXIT.concurrentUpdate],
      ["error: something else broke", EXIT.failed],
    ];
    for (const [output, code] of cases) {
      vi.stubEnv("STUB_OUTPUT", output);
      vi.stubEnv("STUB_EXIT", "255");
      const err = await previewStack({ projectDir: project, stack: "local" }, policy, () => undefined).catch(
        (e: unknown) => e,
      );
      expect(err, output).toBeInstanceOf(EngineRunError);
      expect(describeFailure(err).code, output).toBe(code);
    }
  });

  it("refuses an uncompiled program before starting the engine", async () => {
    fs.rmSync(path.join(project, "dist"), { recursive: true });
    await expect(previewStack({ projectDir: project, stack: "local" }, {}, () => undefined)).rejects.toThrow(
      /npm run build/,
    );
    expect(fs.existsSync(path.join(work, "args"))).toBe(false);
  });
});
