/**
 * One `pulumi` command run directly, the way the Automation API runs it (same environment, `--stack`,
 * `--non-interactive`, the engine's event log), without loading the Automation API: its module graph (~0.5 s) and the
 * `pulumi version` run it starts first (~0.2 s) are the part of a command's start that was ours (bench/README.md).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EngineRunError } from "./errors";

/** The policy pack arguments of a stack (`policyArgs` in engine.ts). */
export type PolicyArgs = { policyPacks: string[]; policyPackConfigs: string[] } | Record<string, never>;

/** One engine event as the event log writes it (one JSON object per line). */
export type EngineEventJson = Record<string, unknown>;

export interface EngineRunOptions {
  /** The stack's engine environment (`engineEnv`), over the process's own. */
  readonly env: Readonly<Record<string, string>>;
  /** The project directory the command runs in. */
  readonly cwd: string;
  /** Receives the engine's standard output as it arrives. */
  readonly onOutput?: (text: string) => void;
  /** Streams standard error to `onOutput` too (otherwise it is only kept for the error). */
  readonly streamStderr?: boolean;
  /** Receives each engine event as the engine writes it (`--event-log`, read while the command runs). */
  readonly onEvent?: (event: EngineEventJson) => void;
}

/** How often a running command's event log is read for new events. */
const EVENT_POLL_MS = 100;

/** Reads the complete lines an event log has gained since the last read, handing each event on. */
class EventLogReader {
  private offset = 0;
  private partial = "";

  constructor(
    private readonly file: string,
    private readonly onEvent: (event: EngineEventJson) => void,
  ) {}

  drain(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.file, "r");
    } catch {
      return; // not written yet
    }
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = fs.readSync(fd, buffer, 0, buffer.length, this.offset);
        if (n === 0) break;
        this.offset += n;
        this.partial += buffer.subarray(0, n).toString("utf8");
      }
    } finally {
      fs.closeSync(fd);
    }
    const lines = this.partial.split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() !== "") this.onEvent(JSON.parse(line) as EngineEventJson);
    }
  }
}

/**
 * Runs `pulumi <verb> --stack <stack> --non-interactive <flags>` and resolves to its standard output; rejects with
 * {@link EngineRunError} (which knows a missing stack and a locked one) when the engine exits non-zero.
 */
export async function runEngine(
  stack: string,
  pulumi: string,
  verb: readonly string[],
  flags: readonly string[],
  o: EngineRunOptions,
): Promise<string> {
  // PULUMI_DEBUG_COMMANDS enables the engine's `--event-log` flag (as the Automation API sets it).
  const env = { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DEBUG_COMMANDS: "true", ...o.env };
  const dir = o.onEvent !== undefined ? fs.mkdtempSync(path.join(os.tmpdir(), "nova-engine-")) : undefined;
  const eventLog = dir !== undefined ? path.join(dir, "events.jsonl") : undefined;
  const reader =
    eventLog !== undefined && o.onEvent !== undefined ? new EventLogReader(eventLog, o.onEvent) : undefined;
  const args = [
    ...verb,
    "--stack",
    stack,
    "--non-interactive",
    ...(eventLog !== undefined ? ["--event-log", eventLog] : []),
    ...flags,
  ];
  // A malformed event or a failing handler stops the reading; it is reported when the command has ended.
  let readError: Error | undefined;
  const read = () => {
    if (reader === undefined || readError !== undefined) return;
    try {
      reader.drain();
    } catch (e) {
      readError = e instanceof Error ? e : new Error(String(e));
    }
  };
  const poll = reader !== undefined ? setInterval(read, EVENT_POLL_MS) : undefined;
  try {
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const child = spawn(pulumi, args, { cwd: o.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
      const out: string[] = [];
      const err: string[] = [];
      child.stdout.on("data", (data: Buffer) => {
        const text = data.toString("utf8");
        out.push(text);
        o.onOutput?.(text);
      });
      child.stderr.on("data", (data: Buffer) => {
        const text = data.toString("utf8");
        err.push(text);
        if (o.streamStderr === true) o.onOutput?.(text);
      });
      child.on("error", reject);
      child.on("close", (c) => resolve({ code: c, stdout: out.join(""), stderr: err.join("") }));
    });
    if (poll !== undefined) clearInterval(poll);
    // The events written after the last poll, the summary among them.
    read();
    if (code !== 0) throw new EngineRunError(`pulumi ${verb.join(" ")}`, code, `${stdout}${stderr}`);
    if (readError !== undefined) throw readError;
    return stdout;
  } finally {
    if (poll !== undefined) clearInterval(poll);
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The pack flags of `pulumi preview`/`up` for a stack's policy pack arguments. */
export function packFlags(policy: PolicyArgs): string[] {
  const packs = "policyPacks" in policy ? policy.policyPacks : [];
  const configs = "policyPackConfigs" in policy ? policy.policyPackConfigs : [];
  return [
    ...packs.flatMap((p) => ["--policy-pack", p]),
    ...configs.flatMap((c) => ["--policy-pack-config", c]),
  ];
}
