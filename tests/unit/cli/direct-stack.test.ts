// The stack the release and rollback act on runs `pulumi` itself: the arguments and environment of `up`, its events
// handed on while the engine still runs, its outputs (secrets flagged, never read) and change summary from the event
// log, history and config parsed as the Automation API parses them, and the engine's failures as EngineRunError.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { DirectStack, outputsOfEvent } from "../../../cli/direct-stack";
import { describeFailure, EngineRunError, EXIT } from "../../../cli/errors";
import { stubPulumi } from "../support/stub-pulumi";

let work: string;

/**
 * A `pulumi` that records its arguments, writes two events, waits until the test has seen the first (a file the test
 * writes; it fails after 5 s without it), writes the outputs and summary events and answers `STUB_OUTPUT` with exit `STUB_EXIT`.
 */
const STUB = stubPulumi(`
printf '%s\\n' "$PULUMI_DEBUG_COMMANDS $NOVA_ENGINE_ENV" > "$STUB_DIR/env"
if [ -n "$log" ]; then
  printf '%s\\n' '{"sequence":0,"timestamp":1,"resourcePreEvent":{"metadata":{"op":"update","urn":"urn:a"}}}' >> "$log"
  i=0
  while [ ! -f "$STUB_DIR/seen" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
  # The first event never reached the caller while the engine ran.
  if [ ! -f "$STUB_DIR/seen" ]; then echo "events not read while running" >&2; exit 3; fi
  printf '%s\\n' "$STUB_EVENTS" >> "$log"
fi
`);

const OUTPUTS_EVENT = JSON.stringify({
  sequence: 1,
  timestamp: 2,
  resOutputsEvent: {
    metadata: {
      type: "pulumi:pulumi:Stack",
      new: {
        outputs: {
          releaseTag: "v1.4.0",
          imageDigests: { api: "sha256:a", worker: "sha256:w" },
          databaseUrl: {
            "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
            ciphertext: "x",
          },
        },
      },
    },
  },
});
const SUMMARY_EVENT = JSON.stringify({
  sequence: 2,
  timestamp: 3,
  summaryEvent: { resourceChanges: { same: 40, update: 4 } },
});

function stack(fallback?: Partial<Stack>): DirectStack {
  return new DirectStack(
    "production",
    work,
    path.join(work, "bin", "pulumi"),
    { NOVA_ENGINE_ENV: "set" },
    () => Promise.resolve((fallback ?? {}) as Stack),
  );
}

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "nova-direct-"));
  fs.mkdirSync(path.join(work, "bin"));
  fs.writeFileSync(path.join(work, "bin", "pulumi"), STUB, { mode: 0o755 });
  vi.stubEnv("STUB_DIR", work);
  vi.stubEnv("STUB_EVENTS", `${OUTPUTS_EVENT}\n${SUMMARY_EVENT}`);
});

afterEach(() => {
  vi.unstubAllEnvs();
  fs.rmSync(work, { recursive: true, force: true });
});

const args = () => fs.readFileSync(path.join(work, "args"), "utf8").trim().split("\n");

describe("DirectStack.up", () => {
  it("runs pulumi up with the stack, pack, message, refresh and replacements, in the stack's engine environment", async () => {
    fs.writeFileSync(path.join(work, "seen"), "");
    await stack().up({
      policyPacks: ["/p/policy"],
      policyPackConfigs: ["/p/policy/config/production.json"],
      message: "release v1.4.0",
      refresh: true,
      replace: ["urn:v1", "urn:v2"],
      onEvent: () => undefined,
    });
    const a = args();
    expect(a.slice(0, 4)).toEqual(["up", "--stack", "production", "--non-interactive"]);
    expect(a.slice(a.indexOf("--yes"))).toEqual([
      "--yes",
      "--skip-preview",
      "--message",
      "release v1.4.0",
      "--refresh",
      "--replace",
      "urn:v1",
      "--replace",
      "urn:v2",
      "--policy-pack",
      "/p/policy",
      "--policy-pack-config",
      "/p/policy/config/production.json",
    ]);
    expect(fs.readFileSync(path.join(work, "env"), "utf8").trim()).toBe("true set");
    // The event log's temp directory is gone afterwards.
    expect(fs.existsSync(path.dirname(a[a.indexOf("--event-log") + 1] ?? ""))).toBe(false);
  });

  it("hands each event on while the engine runs, and reads the outputs and the change summary from the events", async () => {
    const seen: EngineEvent[] = [];
    const result = await stack().up({
      onEvent: (e) => {
        seen.push(e);
        // The engine waits for this file before it writes the rest: the first event arrived while it ran.
        if (seen.length === 1) fs.writeFileSync(path.join(work, "seen"), "");
      },
      onOutput: () => undefined,
    });
    expect(seen.map((e) => e.sequence)).toEqual([0, 1, 2]);
    expect(result.summary).toEqual({ resourceChanges: { same: 40, update: 4 } });
    expect(result.outputs["releaseTag"]).toEqual({ value: "v1.4.0", secret: false });
    expect(result.outputs["imageDigests"]).toEqual({
      value: { api: "sha256:a", worker: "sha256:w" },
      secret: false,
    });
    // A secret output is flagged and its (blinded) value not kept.
    expect(result.outputs["databaseUrl"]).toEqual({ value: undefined, secret: true });
  });

  it("asks the engine for the outputs when its events carry none for the root stack", async () => {
    fs.writeFileSync(path.join(work, "seen"), "");
    vi.stubEnv("STUB_EVENTS", SUMMARY_EVENT);
    const outputs = vi.fn(() => Promise.resolve({ releaseTag: { value: "v1.3.0", secret: false } }));
    const result = await stack({ outputs }).up();
    expect(outputs).toHaveBeenCalledOnce();
    expect(result.outputs).toEqual({ releaseTag: { value: "v1.3.0", secret: false } });
  });

  it("fails as the engine failed: policy violations exit 5, a locked stack 4, a missing stack 3", async () => {
    fs.writeFileSync(path.join(work, "seen"), "");
    vi.stubEnv("STUB_EXIT", "255");
    const cases: [string, number][] = [
      ["    - [mandatory]  nova-readiness-gate  (pulumi:pulumi:Stack: x)", EXIT.policyViolation],
      ["error: the stack is currently locked by 1 lock(s)", EXIT.concurrentUpdate],
      ["error: no stack named 'production' found", EXIT.stackNotFound],
    ];
    for (const [output, code] of cases) {
      vi.stubEnv("STUB_OUTPUT", output);
      const err = await stack()
        .up({ onEvent: () => undefined })
        .catch((e: unknown) => e);
      expect(err, output).toBeInstanceOf(EngineRunError);
      expect(describeFailure(err).code, output).toBe(code);
    }
  });
});

describe("DirectStack reads and writes", () => {
  it("reads history with dates and the paging the Automation API uses", async () => {
    vi.stubEnv(
      "STUB_OUTPUT",
      JSON.stringify([
        { version: 3, kind: "update", startTime: "2026-12-01T10:00:00Z", endTime: "2026-12-01T10:01:00Z" },
      ]),
    );
    const [entry] = await stack().history(500, 2, false);
    expect(entry?.startTime).toEqual(new Date("2026-12-01T10:00:00Z"));
    expect(entry?.endTime).toEqual(new Date("2026-12-01T10:01:00Z"));
    expect(args()).toEqual([
      "stack",
      "history",
      "--stack",
      "production",
      "--non-interactive",
      "--json",
      "--page-size",
      "500",
      "--page",
      "2",
    ]);
  });

  it("reads the config decrypted, writes and removes keys, exports the state without decrypting it", async () => {
    vi.stubEnv(
      "STUB_OUTPUT",
      JSON.stringify({ "nova-rollout:imageTag": { value: "v1.4.0", secret: false } }),
    );
    expect(await stack().getAllConfig()).toEqual({
      "nova-rollout:imageTag": { value: "v1.4.0", secret: false },
    });
    expect(args()).toEqual([
      "config",
      "--stack",
      "production",
      "--non-interactive",
      "--show-secrets",
      "--json",
    ]);
    await stack().setAllConfigJson('{"nova-rollout:rollbackOf":{"value":"7"}}');
    expect(args().slice(0, 2)).toEqual(["config", "set-all"]);
    expect(args().slice(-2)).toEqual(["--json", '{"nova-rollout:rollbackOf":{"value":"7"}}']);
    await stack().removeConfig("nova-rollout:rollbackOf");
    expect(args().slice(0, 3)).toEqual(["config", "rm", "nova-rollout:rollbackOf"]);
    vi.stubEnv("STUB_OUTPUT", JSON.stringify({ version: 3, deployment: { resources: [] } }));
    expect(await stack().exportStack()).toEqual({ version: 3, deployment: { resources: [] } });
    // The state is read for URNs and pending operations only: its secrets stay encrypted.
    expect(args()).toEqual(["stack", "export", "--stack", "production", "--non-interactive"]);
  });

  it("leaves refresh, preview, cancel and outputs to the Automation API, opened once and only when asked", async () => {
    const open = vi.fn(() => Promise.resolve({ cancel: () => Promise.resolve() } as unknown as Stack));
    const s = new DirectStack("production", work, path.join(work, "bin", "pulumi"), {}, open);
    expect(open).not.toHaveBeenCalled();
    await s.cancel();
    await s.cancel();
    expect(open).toHaveBeenCalledOnce();
  });
});

describe("outputsOfEvent", () => {
  it("flags the values the event log blinded as secret and keeps the others", () => {
    expect(
      outputsOfEvent({
        a: 1,
        b: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" },
        c: null,
      }),
    ).toEqual({
      a: { value: 1, secret: false },
      b: { value: undefined, secret: true },
      c: { value: null, secret: false },
    });
  });
});
