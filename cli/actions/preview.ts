/**
 * The preview action (`rollout preview`): the rollout of a stack previewed with the readiness gate and the safety policies attached.
 *
 * It runs `pulumi preview` itself rather than through the Automation API: a preview needs no stack object, and
 * skipping it spares the SDK's module graph (~0.5 s) and the `pulumi version` run the Automation API starts first
 * (~0.2 s) — the part of `rollout preview` that was ours (bench/README.md). Same environment, same policy pack and
 * config, same exit codes as every other command.
 */
import { engineEnv, policyArgs, pulumiBinary, type StackContext } from "../engine";
import { packFlags, runEngine } from "../engine-run";
import { progress } from "../output";
import { resolveStack } from "./stack";

/** Resource changes by operation, as the engine's summary event counts them (e.g. `{ "same": 42 }`). */
export type ChangeSummary = Record<string, number>;

/**
 * Runs `pulumi preview` of a stack with the toolchain environment and the given policy pack, streaming the engine's
 * output to `onOutput`; resolves to the change summary, rejects with an EngineRunError when the engine fails.
 */
export async function previewStack(
  ctx: StackContext,
  policy: ReturnType<typeof policyArgs>,
  onOutput: (text: string) => void = progress(),
): Promise<ChangeSummary> {
  let summary: ChangeSummary = {};
  await runEngine(ctx.stack, pulumiBinary(), ["preview"], packFlags(policy), {
    env: engineEnv(ctx),
    cwd: ctx.projectDir,
    onOutput,
    streamStderr: true,
    onEvent: (e) => {
      const s = (e as { summaryEvent?: { resourceChanges?: ChangeSummary } }).summaryEvent;
      if (s !== undefined) summary = s.resourceChanges ?? {};
    },
  });
  return summary;
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
