/** `preview`: the rollout of a stack previewed with the readiness gate and the safety policies attached. */
import { type Command } from "commander";
import { previewNamed } from "../actions/preview";
import { resolveProjectDir, stackCommand } from "../options";

export function previewCommand(): Command {
  return stackCommand("preview")
    .description("Preview the rollout of a stack with the readiness gate and safety policies attached")
    .option("--no-policy", "skip the policy pack (sandbox stacks only)")
    .action(async (o: { stack: string; projectDir?: string; policy: boolean }) => {
      const summary = await previewNamed(resolveProjectDir(o.projectDir), o.stack, o.policy);
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
}
