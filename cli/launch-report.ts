/** The post-launch summary (`<evidenceDir>/<stack>/<timestamp>-launch.md`): what was rolled out and what follows. */
import * as fs from "node:fs";
import * as path from "node:path";
import { evidenceTimestamp, stackEvidenceDir } from "../src/evidence/paths";

export interface LaunchSummary {
  readonly stack: string;
  readonly kind: "release" | "rollback";
  readonly release: string;
  readonly digests: { readonly api: string; readonly worker: string };
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Resource operation counts (`create`, `update`, `same`, …). */
  readonly changes: Readonly<Record<string, number>>;
  /** Structured verification results from the stack outputs. */
  readonly verification: readonly { check: string; ok: boolean; attempts: number; detail: string }[];
  /** For a rollback: the update version whose config was re-applied. */
  readonly rolledBackTo?: number;
  readonly databaseDump?: string;
}

/** Renders the summary as markdown. Pure; never given a secret value. */
export function renderLaunchReport(s: LaunchSummary): string {
  const minutes = ((s.finishedAt.getTime() - s.startedAt.getTime()) / 60000).toFixed(1);
  const lines = [
    `# ${s.kind === "rollback" ? "Rollback" : "Launch"} summary: ${s.stack} ${s.release}`,
    "",
    `- Finished: ${s.finishedAt.toISOString()} (${minutes} min)`,
    `- Images: nova-rms-api \`${s.digests.api}\`, nova-rms-worker \`${s.digests.worker}\``,
    ...(s.rolledBackTo !== undefined ? [`- Re-applied the config of update ${s.rolledBackTo}`] : []),
    ...(s.databaseDump !== undefined ? [`- Pre-release database dump: \`${s.databaseDump}\``] : []),
    `- Changes: ${
      Object.entries(s.changes)
        .map(([op, n]) => `${op} ${n}`)
        .join(", ") || "none"
    }`,
    "",
    "## Post-deploy verification",
    "",
    "| check | result | attempts | detail |",
    "|---|---|---|---|",
    ...s.verification.map((v) => `| ${v.check} | ${v.ok ? "pass" : "FAIL"} | ${v.attempts} | ${v.detail} |`),
    "",
    "## Follow-up",
    "",
    "- [ ] Billing drill within 7 days: `npm run rollout -- preflight --stack staging` shows its age",
    "- [ ] Watch error rates and alerts for 24 hours; the database is forward-only (see docs/runbook.md)",
    "- [ ] Update STATUS.md and the runbooks with anything learned",
    "",
  ];
  return lines.join("\n");
}

/** Writes the summary and returns its path. */
export function writeLaunchReport(evidenceDir: string, s: LaunchSummary): string {
  const dir = stackEvidenceDir(evidenceDir, s.stack);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${evidenceTimestamp(s.finishedAt)}-launch.md`);
  fs.writeFileSync(file, renderLaunchReport(s), { mode: 0o644 });
  return file;
}
