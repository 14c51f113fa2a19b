/** `approve --stack <stack> --release <tag>`: records a leadership approval for one release of one stack. */
import { Command } from "commander";
import { parseTime, resolveStackSettings, findProjectDir, writeRecord } from "../../src/evidence";
import { evidenceDirFor } from "./freeze";

interface ApproveOptions {
  stack: string;
  release?: string;
  approvedBy: string;
  role: string;
  expiresAt?: string;
  expiresInHours: string;
  projectDir?: string;
  evidenceDir?: string;
}

export function approveCommand(): Command {
  return new Command("approve")
    .description("Record a leadership approval for a stack and release.")
    .requiredOption("--stack <stack>", "stack the approval applies to")
    .option("--release <tag>", "release id (default: nova-rollout:imageTag of the stack)")
    .requiredOption("--approved-by <name>", "who approves")
    .requiredOption("--role <role>", "the approver's role, e.g. vp-engineering")
    .option("--expires-at <time>", "expiry (ISO or +<n>h)")
    .option("--expires-in-hours <hours>", "expiry from now when --expires-at is not given", "24")
    .option("--project-dir <dir>", "project directory")
    .option("--evidence-dir <dir>", "evidence directory relative to the project")
    .action((o: ApproveOptions) => {
      const now = new Date();
      const projectDir = o.projectDir ?? findProjectDir([process.cwd()]);
      const s = resolveStackSettings({ stack: o.stack, projectDir, env: {} });
      const release = o.release ?? (s.ok ? s.settings.release : undefined);
      if (release === undefined) {
        console.error("approve: pass --release (the stack file has no nova-rollout:imageTag)");
        process.exitCode = 2;
        return;
      }
      const expiresAt =
        o.expiresAt !== undefined ? parseTime(o.expiresAt, now) : parseTime(`+${o.expiresInHours}h`, now);
      const file = writeRecord(
        evidenceDirFor(o.stack, projectDir, o.evidenceDir),
        {
          kind: "approval",
          stack: o.stack,
          release,
          approvedBy: o.approvedBy,
          role: o.role,
          approvedAt: now.toISOString(),
          expiresAt: expiresAt.toISOString(),
        },
        now,
      );
      console.log(`wrote ${file}`);
    });
}
