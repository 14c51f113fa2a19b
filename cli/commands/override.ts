/**
 * `override --stack <stack> --release <tag> --waive <check…>`: records a break-glass override for a hotfix, signed by
 * the incident commander's SSH key. It waives only the named checks, only for this stack, release, digests and
 * bundle, only until it expires (at most the committed lifetime), and never the registry or staging checks.
 */
import { JSON_OPTION, STACK_OPTION, UserError, withJsonResult } from "../engine";
import * as path from "node:path";
import { Command } from "commander";
import {
  CHECK_IDS,
  findProjectDir,
  loadProductionEnforcement,
  NEVER_WAIVABLE,
  parseTime,
  resolveStackSettings,
} from "../../src/evidence";
import { releaseBinding } from "./approve";
import { evidenceDirFor, SSH_KEY_OPTION, writeRecordSigned } from "./freeze";

interface OverrideOptions {
  stack: string;
  release?: string;
  incidentCommander: string;
  deployer?: string;
  reason: string;
  waive: string[];
  expiresInHours: string;
  hotfix?: boolean;
  bundle?: string;
  apiDigest?: string;
  workerDigest?: string;
  projectDir?: string;
  evidenceDir?: string;
  sshKey?: string;
}

export function overrideCommand(): Command {
  return new Command("override")
    .description(
      "Record a break-glass override (hotfix only, signed by the incident commander) waiving named checks.",
    )
    .requiredOption(...STACK_OPTION)
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
    .option("--project-dir <dir>", "project directory")
    .option("--evidence-dir <dir>", "evidence directory relative to the project")
    .option(...SSH_KEY_OPTION)
    .option(...JSON_OPTION)
    .action((o: OverrideOptions & { json?: boolean }) =>
      withJsonResult(o.json, () => {
        if (o.hotfix !== true) {
          throw new UserError("override: break-glass is for hotfixes only; pass --hotfix to confirm");
        }
        const forbidden = o.waive.filter((c) => (NEVER_WAIVABLE as readonly string[]).includes(c));
        if (forbidden.length > 0) {
          throw new UserError(
            `override: ${forbidden.join(", ")} can never be waived (${NEVER_WAIVABLE.join(", ")})`,
          );
        }
        const now = new Date();
        const projectDir = path.resolve(o.projectDir ?? findProjectDir([process.cwd()]) ?? process.cwd());
        let maxHours = 24;
        try {
          maxHours = loadProductionEnforcement(projectDir).overrideMaxHours;
        } catch {
          // the committed default
        }
        if (!(Number(o.expiresInHours) > 0) || Number(o.expiresInHours) > maxHours) {
          throw new UserError(
            `override: --expires-in-hours must be > 0 and at most ${maxHours} (policy/config/production.json)`,
          );
        }
        const s = resolveStackSettings({ stack: o.stack, projectDir, env: {} });
        const release = o.release ?? (s.ok ? s.settings.release : undefined);
        if (release === undefined) {
          throw new UserError("override: pass --release (the stack file has no nova-rollout:imageTag)");
        }
        const evidenceDir = evidenceDirFor(o.stack, projectDir, o.evidenceDir);
        const { file, signature } = writeRecordSigned(
          evidenceDir,
          {
            kind: "override",
            stack: o.stack,
            release,
            hotfix: true,
            incidentCommander: o.incidentCommander,
            reason: o.reason,
            waivedChecks: o.waive as (typeof CHECK_IDS)[number][],
            ...(o.deployer !== undefined ? { deployer: o.deployer } : {}),
            ...releaseBinding(o, projectDir, evidenceDir, s.ok ? s.settings.digests : undefined),
            createdAt: now.toISOString(),
            expiresAt: parseTime(`+${o.expiresInHours}h`, now).toISOString(),
          },
          now,
          o.sshKey,
        );
        return { stack: o.stack, record: file, signature: signature ?? null };
      }),
    );
}
