/** Markdown rendering of a bundle and the verifier's findings (the `<timestamp>-preflight.md` file). */
import { type EvidenceBundle, type Finding } from "./model";

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** Renders the human-readable preflight report. Contains no secret values: bundles never hold any. */
export function renderReport(bundle: EvidenceBundle, findings: readonly Finding[]): string {
  const lines: string[] = [];
  const ready = findings.length === 0;
  lines.push(`# Preflight: ${bundle.project} / ${bundle.stack} / release ${bundle.release}`);
  lines.push("");
  lines.push(`- Created: ${bundle.createdAt}`);
  lines.push(`- API image digest: \`${bundle.imageDigests.api}\``);
  lines.push(`- Worker image digest: \`${bundle.imageDigests.worker}\``);
  lines.push(`- Bundle content sha256: \`${bundle.contentSha256}\``);
  lines.push(`- Verdict: **${ready ? "READY" : "NOT READY"}**`);
  lines.push("");
  lines.push("## Checks");
  lines.push("");
  lines.push("| check | verdict | found | threshold | artifact | remedy |");
  lines.push("|---|---|---|---|---|---|");
  for (const c of bundle.checks) {
    const artifact = c.artifact ? `\`${c.artifact.path}\` (sha256 ${c.artifact.sha256.slice(0, 12)}…)` : "—";
    lines.push(
      `| ${cell(c.id)} | ${c.verdict.toUpperCase()} | ${cell(c.found)} | ${cell(c.threshold)} | ${cell(artifact)} | ${c.verdict === "pass" ? "—" : `\`${cell(c.remedy)}\``} |`,
    );
  }
  if (bundle.waivers.length > 0) {
    lines.push("");
    lines.push("## Waivers (break-glass)");
    lines.push("");
    for (const w of bundle.waivers) {
      lines.push(`- ${w.checkId}: waived by ${w.incidentCommander} until ${w.expiresAt} (${w.overridePath})`);
    }
  }
  lines.push("");
  lines.push("## Findings");
  lines.push("");
  if (ready) {
    lines.push("None: every check passed and the evidence is bound to this release.");
  } else {
    for (const f of findings) {
      lines.push(`- **${f.checkId}**: ${f.message} Fix: \`${f.remedy}\``);
    }
  }
  lines.push("");
  return lines.join("\n");
}
