/**
 * The preview action (`rollout preview`): the rollout of a stack previewed with the readiness gate and the safety policies attached.
 *
 * It runs `pulumi preview` itself rather than through the Automation API: a preview needs no stack object, and
 * skipping it spares the SDK's module graph (~0.5 s) and the `pulumi version` run the Automation API starts first
 * (~0.2 s) — the part of `rollout preview` that was ours (bench/README.md). Same environment, same policy pack and
 * config, same exit codes as every other command.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { engineEnv, policyArgs, pulumiBinary, type StackContext } from "../engine";
import { EngineRunError } from "../errors";
import { progress } from "../output";
import { resolveStack } from "./stack";

/** Resource changes by operation, as the engine's summary event counts them (e.g. `{ "same": 42 }`). */
export type ChangeSummary = Record<string, number>;

/** The pack flags of `pulumi preview` for {@link policyArgs}' result. */
function packFlags(policy: ReturnType<typeof policyArgs>): string[] {
  const packs = "policyPacks" in policy ? policy.policyPacks : [];
  const configs = "policyPackConfigs" in policy ? policy.policyPackConfigs : [];
  return [
    ...packs.flatMap((p) => ["--policy-pack", p]),
    ...configs.flatMap((c) => ["--policy-pack-config", c]),
  ];
}

/** The change summary of the engine's event log (one JSON event per line; the summary event comes last). */
export function changeSummaryOf(eventLog: string): ChangeSummary {
  let summary: ChangeSummary = {};
  const text = fs.existsSync(eventLog) ? fs.readFileSync(eventLog, "utf8") : "";
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const event = JSON.parse(line) as { summaryEvent?: { resourceChanges?: ChangeSummary } };
    if (event.summaryEvent !== undefined) summary = event.summaryEvent.resourceChanges ?? {};
  }
  return summary;
}

/**
 * Runs `pulumi preview` of a stack with the toolchain environment and the given policy pack, streaming the engine's
 * output to `onOutput`; resolves to the change summary, rejects with {@link EngineRunError} when the engine fails.
 */
export async function previewStack(
  ctx: StackContext,
  policy: ReturnType<typeof policyArgs>,
  onOutput: (text: string) => void = progress(),
): Promise<ChangeSummary> {
  // PULUMI_DEBUG_COMMANDS enables the engine's `--event-log` flag (as the Automation API sets it).
  const env = {
    ...process.env,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DEBUG_COMMANDS: "true",
    ...engineEnv(ctx),
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-preview-"));
  const eventLog = path.join(dir, "events.jsonl");
  const args = [
    "preview",
    "--stack",
    ctx.stack,
    "--non-interactive",
    "--event-log",
    eventLog,
    ...packFlags(policy),
  ];
  try {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(pulumiBinary(), args, {
        cwd: ctx.projectDir,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const chunks: string[] = [];
      const take = (data: Buffer) => {
        const text = data.toString("utf8");
        chunks.push(text);
        onOutput(text);
      };
      child.stdout.on("data", take);
      child.stderr.on("data", take);
      child.on("error", reject);
      child.on("close", (c) => resolve({ code: c, output: chunks.join("") }));
    });
    if (code !== 0) throw new EngineRunError("pulumi preview", code, output);
    return changeSummaryOf(eventLog);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `rollout preview`: the stack resolved once, previewed with the policy pack of its class. */
export function previewNamed(
  projectDir: string,
  stackName: string,
  withPolicy: boolean,
): Promise<ChangeSummary> {
  const resolved = resolveStack(projectDir, stackName);
  return previewStack(resolved, policyArgs(projectDir, stackName, withPolicy, resolved.stackClass));
}
