/**
 * `override --stack <stack> --release <tag> --waive <check…>`: records a break-glass override for a hotfix, signed by
 * the incident commander's SSH key. It waives only the named checks, only for this stack, release, digests and
 * bundle, only until it expires (at most the committed lifetime), and never the registry or staging checks.
 */
import { CHECK_IDS, NEVER_WAIVABLE } from "../../src/evidence";
import { type OverrideOptions, recordOverride } from "../actions/records";
import { type Command } from "commander";
import { resolveProjectDir, SSH_KEY_OPTION, stackCommand } from "../options";
import { JSON_OPTION, withJsonResult } from "../output";

export function overrideCommand(): Command {
  return stackCommand("override", { evidenceDir: true })
    .description(
      "Record a break-glass override (hotfix only, signed by the incident commander) waiving named checks.",
    )
    .option("--release <tag>", "release id (default: nova-rollout:imageTag of the stack)")
    .requiredOption(
      "--incident-commander <name>",
      "incident commander (a roster name with the incident-commander role)",
    )
    .option("--deployer <name>", "who runs the hotfix (a roster name; not the incident commander)")
    .requiredOption("--reason <text>", "incident and reason")
    .requiredOption(
      "--waive <checks...>",
      `checks to waive: ${CHECK_IDS.filter((c) => !NEVER_WAIVABLE.includes(c)).join(", ")}`,
    )
    .option("--expires-in-hours <hours>", "lifetime of the override (at most the committed maximum)", "4")
    .option("--hotfix", "confirm this rollout is a hotfix (required)")
    .option("--bundle <sha256>", "contentSha256 of the bundle (default: the newest signed bundle)")
    .option("--api-digest <digest>", "nova-rms-api digest (default: nova-rollout:apiImageDigest)")
    .option("--worker-digest <digest>", "nova-rms-worker digest (default: nova-rollout:workerImageDigest)")
    .option(...SSH_KEY_OPTION)
    .option(...JSON_OPTION)
    .action((o: Omit<OverrideOptions, "projectDir"> & { projectDir?: string; json?: boolean }) =>
      withJsonResult(o.json, () => recordOverride({ ...o, projectDir: resolveProjectDir(o.projectDir) })),
    );
}
