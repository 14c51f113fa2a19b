/**
 * `override --stack <stack> --release <tag> --waive <check…>`: records a break-glass override for a hotfix. It waives
 * only the named checks, only for this stack and release, only until it expires; the policy pack reports it.
 */
import { Command } from "commander";
import { CHECK_IDS, findProjectDir, parseTime, resolveStackSettings, writeRecord } from "../../src/evidence";
import { evidenceDirFor } from "./freeze";

interface OverrideOptions {
  stack: string;
  release?: string;
  incidentCommander: string;
  reason: string;
  waive: string[];
  expiresInHours: string;
  hotfix?: boolean;
  projectDir?: string;
  evidenceDir?: string;
}

export function overrideCommand(): Command {
  return new Command("override")
    .description(
      "Record a break-glass override (hotfix only, approved by the incident commander) waiving named checks.",
    )
    .requiredOption("--stack <stack>", "stack the override applies to")
    .option("--release <tag>", "release id (default: nova-rollout:imageTag of the stack)")
    .requiredOption("--incident-commander <name>", "incident commander approving the hotfix")
    .requiredOption("--reason <text>", "incident and reason")
    .requiredOption("--waive <checks...>", `checks to waive: ${CHECK_IDS.join(", ")}`)
    .option("--expires-in-hours <hours>", "lifetime of the override", "4")
    .option("--hotfix", "confirm this rollout is a hotfix (required)")
    .option("--project-dir <dir>", "project directory")
    .option("--evidence-dir <dir>", "evidence directory relative to the project")
    .action((o: OverrideOptions) => {
      if (o.hotfix !== true) {
        console.error("override: break-glass is for hotfixes only; pass --hotfix to confirm");
        process.exitCode = 2;
        return;
      }
      const now = new Date();
      const projectDir = o.projectDir ?? findProjectDir([process.cwd()]);
      const s = resolveStackSettings({ stack: o.stack, projectDir, env: {} });
      const release = o.release ?? (s.ok ? s.settings.release : undefined);
      if (release === undefined) {
        console.error("override: pass --release (the stack file has no nova-rollout:imageTag)");
        process.exitCode = 2;
        return;
      }
      const file = writeRecord(
        evidenceDirFor(o.stack, projectDir, o.evidenceDir),
        {
          kind: "override",
          stack: o.stack,
          release,
          hotfix: true,
          incidentCommander: o.incidentCommander,
          reason: o.reason,
          waivedChecks: o.waive as (typeof CHECK_IDS)[number][],
          createdAt: now.toISOString(),
          expiresAt: parseTime(`+${o.expiresInHours}h`, now).toISOString(),
        },
        now,
      );
      console.log(`wrote ${file}`);
    });
}
