/** `preview`: the rollout of a stack previewed with the readiness gate and the safety policies attached. */
import { policyArgs, STACK_OPTION, openStack, progress, projectRoot } from "../engine";
import { Command } from "commander";

export function previewCommand(): Command {
  return new Command("preview")
    .description("Preview the rollout of a stack with the readiness gate and safety policies attached")
    .requiredOption(...STACK_OPTION)
    .option("--no-policy", "skip the policy pack (sandbox stacks only)")
    .action(async (o: { stack: string; policy: boolean }) => {
      const projectDir = projectRoot();
      const stack = await openStack({ projectDir, stack: o.stack });
      const result = await stack.preview({
        ...policyArgs(projectDir, o.stack, o.policy),
        onOutput: progress(),
      });
      process.stdout.write(`${JSON.stringify(result.changeSummary)}\n`);
    });
}
