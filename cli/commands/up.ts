/** `up` and `request-update`: flags of the release; the work is the release action (cli/actions/release.ts). */
import * as path from "node:path";
import { type Command } from "commander";
import { UserError } from "../errors";
import {
  FORCE_UNLOCK_OPTION,
  LOCK_AGE_OPTION,
  positiveInt,
  resolveProjectDir,
  SSH_KEY_OPTION,
  stackCommand,
} from "../options";
import { JSON_OPTION } from "../output";
import { release, requestUpdate } from "../actions/release";

export function upCommand(): Command {
  return stackCommand("up")
    .description(
      "Roll the release out: gate, pre-apply steps, chart, verification; writes the launch summary",
    )
    .option("--no-policy", "skip the policy pack (sandbox stacks only)")
    .option("--no-auto-rollback", "leave a release whose verification failed in place")
    .option(...LOCK_AGE_OPTION)
    .option(...FORCE_UNLOCK_OPTION)
    .option(
      "-y, --yes",
      "cancel a lock left by an interrupted update without asking (only when provably abandoned, never by age)",
    )
    .option(
      "--as <name>",
      "production: who deploys, the approval's deployer (roster name; default NOVA_OPERATOR, else your user name)",
    )
    .option(
      "--ssh-key <file>",
      "production: the deployer's SSH key that signs the update request (default NOVA_SSH_KEY_FILE)",
    )
    .option(
      "--retry-failed <version>",
      "record the decision to deploy again the release rejected when update <version> failed verification (signed as --as with --ssh-key)",
      positiveInt,
    )
    .option("--reason <text>", "why the rejected release is safe to deploy again (with --retry-failed)")
    .option(...JSON_OPTION)
    .action(
      async (o: {
        stack: string;
        projectDir?: string;
        as?: string;
        sshKey?: string;
        retryFailed?: number;
        reason?: string;
        policy: boolean;
        autoRollback: boolean;
        lockStaleAfter: number;
        forceUnlock: string[];
        yes?: boolean;
        json?: boolean;
      }) => {
        const projectDir = resolveProjectDir(o.projectDir);
        const file = await release(projectDir, o.stack, {
          ...o,
          deployer: {
            ...(o.as !== undefined ? { as: o.as } : {}),
            ...(o.sshKey !== undefined ? { sshKey: o.sshKey } : {}),
          },
          recovery: { yes: o.yes === true, staleAfterMs: o.lockStaleAfter, forceUnlock: o.forceUnlock },
          ...(o.retryFailed !== undefined
            ? {
                retry: {
                  failedVersion: o.retryFailed,
                  ...(o.reason !== undefined ? { reason: o.reason } : {}),
                },
              }
            : {}),
        });
        const launchSummary = path.relative(projectDir, file);
        process.stdout.write(
          o.json === true
            ? `${JSON.stringify({ stack: o.stack, launchSummary })}\n`
            : `launch summary: ${launchSummary}\n`,
        );
      },
    );
}

export function requestUpdateCommand(): Command {
  return stackCommand("request-update")
    .description(
      "Production: sign the deployer's update request for what the stack deploys now (before a plain `pulumi up`; `rollout up` does it itself)",
    )
    .option(
      "--as <name>",
      "who deploys: the approval's deployer (default NOVA_OPERATOR, else your user name)",
    )
    .option(...SSH_KEY_OPTION)
    .option(...JSON_OPTION)
    .action((o: { stack: string; projectDir?: string; as?: string; sshKey?: string; json?: boolean }) => {
      const projectDir = resolveProjectDir(o.projectDir);
      const who = {
        ...(o.as !== undefined ? { as: o.as } : {}),
        ...(o.sshKey !== undefined ? { sshKey: o.sshKey } : {}),
      };
      const file = requestUpdate(projectDir, o.stack, who, true);
      if (file === undefined) {
        throw new UserError(
          `request-update: ${o.stack} is not a production stack; it needs no update request.`,
        );
      }
      const rel = path.relative(projectDir, file);
      process.stdout.write(
        o.json === true ? `${JSON.stringify({ stack: o.stack, request: rel })}\n` : `${rel}\n`,
      );
    });
}
