/**
 * `approve --stack <stack> --release <tag> --approved-by <roster name> --deployer <roster name>`: records a
 * leadership approval for one release of one stack, bound to both digests and the newest signed bundle, and signs it
 * with the approver's SSH key. The approver's role comes from the committed roster, never from a flag.
 */
import { type ApproveOptions, recordApproval } from "../actions/records";
import { type Command } from "commander";
import { resolveProjectDir, SSH_KEY_OPTION, stackCommand } from "../options";
import { JSON_OPTION, withJsonResult } from "../output";

export function approveCommand(): Command {
  return stackCommand("approve", { evidenceDir: true })
    .description("Record a leadership approval for a stack and release, signed with the approver's SSH key.")
    .option("--release <tag>", "release id (default: nova-rollout:imageTag of the stack)")
    .requiredOption("--approved-by <name>", "who approves (a name in the committed roster)")
    .option("--deployer <name>", "who runs the release (a roster name; must not be the approver)")
    .option("--role <role>", "ignored: the approver's role comes from the committed roster")
    .option("--bundle <sha256>", "contentSha256 of the bundle approved (default: the newest signed bundle)")
    .option("--api-digest <digest>", "nova-rms-api digest (default: nova-rollout:apiImageDigest)")
    .option("--worker-digest <digest>", "nova-rms-worker digest (default: nova-rollout:workerImageDigest)")
    .option("--expires-at <time>", "expiry (ISO or +<n>h)")
    .option("--expires-in-hours <hours>", "expiry from now when --expires-at is not given", "24")
    .option(...SSH_KEY_OPTION)
    .option(...JSON_OPTION)
    .action((o: Omit<ApproveOptions, "projectDir"> & { projectDir?: string; json?: boolean }) =>
      withJsonResult(o.json, () => recordApproval({ ...o, projectDir: resolveProjectDir(o.projectDir) })),
    );
}
