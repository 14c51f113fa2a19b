/**
 * The post-launch summary on disk (`<evidenceDir>/<stack>/<timestamp>-launch.md`): rendering, writing and reading back
 * the model of `src/comms/launch-summary.ts`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LaunchReportFacts, LaunchSummary } from "../src/comms/launch-summary";
import type { StepBudget } from "../src/comms/step-budget";
import { evidenceStem, stackEvidenceDir, VERIFICATION_FILES_DIRNAME } from "../src/evidence/paths";
import { writeFilesUnique } from "../src/util/atomic-file";

/** Renders the summary as markdown. Pure; never given a secret value. */
export function renderLaunchReport(s: LaunchSummary): string {
  const minutes = ((s.finishedAt.getTime() - s.startedAt.getTime()) / 60000).toFixed(1);
  const lines = [
    `# ${s.kind === "rollback" ? "Rollback" : "Launch"} summary: ${s.stack} ${s.release}`,
    "",
    `- Finished: ${s.finishedAt.toISOString()} (${minutes} min)`,
    `- Images: nova-rms-api \`${s.digests.api}\`, nova-rms-worker \`${s.digests.worker}\``,
    ...(s.rolledBackTo !== undefined ? [`- Re-applied the config of update ${s.rolledBackTo}`] : []),
    ...(s.rolledBackFrom !== undefined
      ? [
          `- Rolled back from release ${s.rolledBackFrom.release} (nova-rms-api \`${s.rolledBackFrom.digests.api}\`, nova-rms-worker \`${s.rolledBackFrom.digests.worker}\`)`,
        ]
      : []),
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
    ...renderCommandOutputs(s.verification),
    ...(s.stepBudget !== undefined ? renderStepBudget(s.stepBudget) : []),
    "## Follow-up",
    "",
    "- [ ] Billing drill within 7 days: `npm run rollout -- preflight --stack staging` shows its age",
    "- [ ] Watch error rates and alerts for 24 hours; the database is forward-only (see docs/runbook.md)",
    "- [ ] Update STATUS.md and the runbooks with anything learned",
    "",
  ];
  return lines.join("\n");
}

/**
 * "Verification commands": what each command check (E2E, drill) printed and the files it left, linked to their
 * redacted copies beside this file. Nothing when no check ran a command. Pure.
 */
export function renderCommandOutputs(results: LaunchSummary["verification"]): string[] {
  const ran = results.filter((v) => v.output !== undefined || (v.kept ?? []).length > 0);
  if (ran.length === 0) return [];
  return [
    "## Verification commands",
    "",
    ...ran.flatMap((v) => {
      const output = v.output ?? "";
      // A fence longer than any run of backticks in the output, so the output cannot end the block.
      const fence = "`".repeat(Math.max(3, ...(output.match(/`+/g) ?? []).map((r) => r.length + 1)));
      return [
        `### ${v.check} (${v.ok ? "pass" : "FAIL"})`,
        "",
        ...(v.kept ?? []).map(
          (k) =>
            `- \`${k.path}\`: [${k.copy}](${VERIFICATION_FILES_DIRNAME}/${k.copy}) (${k.bytes} bytes, sha256 \`${k.sha256}\`)`,
        ),
        ...((v.kept ?? []).length > 0 ? [""] : []),
        `${fence}text`,
        ...output.replace(/\n$/, "").split("\n"),
        fence,
        "",
      ];
    }),
  ];
}

/** A duration for people: milliseconds under a second, else seconds with one decimal. */
function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The share of the total, in whole percent (`<1 %` for a step that took time but less than one). */
function share(ms: number, totalMs: number): string {
  if (totalMs <= 0) return "—";
  const pct = (100 * ms) / totalMs;
  return pct > 0 && pct < 1 ? "<1 %" : `${Math.round(pct)} %`;
}

/** The "Step budget" section: each playbook step's wall time, its share of the total and when it ran. Pure. */
export function renderStepBudget(b: StepBudget): string[] {
  return [
    "## Step budget",
    "",
    "| step | wall time | share of total | from – to |",
    "|---|---|---|---|",
    ...b.steps.map((t) =>
      t.run
        ? `| ${t.step} | ${duration(t.wallMs)} | ${share(t.wallMs, b.totalMs)} | +${duration(t.startMs)} – +${duration(t.endMs)} |`
        : `| ${t.step} | not run | — | — |`,
    ),
    `| outside any step | ${duration(b.outsideMs)} | ${share(b.outsideMs, b.totalMs)} | — |`,
    `| total | ${duration(b.totalMs)} | 100 % | — |`,
    "",
    "Steps that run side by side (images, secrets, dump, pause) overlap, so shares can add up to more than 100 %;",
    "outside any step: engine and program start, refresh, policy evaluation, the namespace and components.",
    "",
  ];
}

/**
 * Writes the summary as `<timestamp>-launch.md` (atomically; `<timestamp>.001-launch.md`, … when a summary of the same
 * second exists, never replacing one) and returns its path.
 */
export function writeLaunchReport(evidenceDir: string, s: LaunchSummary): string {
  const [file = ""] = writeFilesUnique(
    stackEvidenceDir(evidenceDir, s.stack),
    (n) => [`${evidenceStem(s.finishedAt, n)}-launch.md`],
    [renderLaunchReport(s)],
    { mode: 0o644 },
  );
  return file;
}

/** Parses a summary written by `renderLaunchReport`; undefined when the text is not one. Pure. */
export function parseLaunchReport(text: string): LaunchReportFacts | undefined {
  const lines = text.split("\n");
  const title = /^# (Launch|Rollback) summary: (\S+) (\S+)$/.exec(lines[0] ?? "");
  const images = lines
    .map((l) => /^- Images: nova-rms-api `([^`]*)`, nova-rms-worker `([^`]*)`$/.exec(l))
    .find((m) => m !== null);
  if (title === null || images === undefined || images === null) return undefined;
  const finished = lines.map((l) => /^- Finished: (\S+)/.exec(l)).find((m) => m !== null);
  const reapplied = lines
    .map((l) => /^- Re-applied the config of update (\d+)$/.exec(l))
    .find((m) => m !== null);
  const start = lines.indexOf("## Post-deploy verification");
  const verification: { check: string; ok: boolean }[] = [];
  for (const line of start < 0 ? [] : lines.slice(start + 1)) {
    if (line.startsWith("## ")) break;
    const row = /^\| (.+?) \| (pass|FAIL) \|/.exec(line);
    if (row?.[1] !== undefined) verification.push({ check: row[1], ok: row[2] === "pass" });
  }
  return {
    kind: title[1] === "Rollback" ? "rollback" : "release",
    stack: title[2] ?? "",
    release: title[3] ?? "",
    digests: { api: images[1] ?? "", worker: images[2] ?? "" },
    ...(finished?.[1] !== undefined ? { finishedAt: finished[1] } : {}),
    ...(reapplied?.[1] !== undefined ? { rolledBackTo: Number(reapplied[1]) } : {}),
    verification,
  };
}

/** `<timestamp>-launch.md`, or `<timestamp>.001-launch.md`, … for a later one of the same second (sorts after it). */
const LAUNCH_REPORT_NAME = /^\d{8}T\d{6}Z(?:\.\d{3,})?-launch\.md$/;

/** The newest `<timestamp>-launch.md` of a stack, parsed; undefined when there is none that parses. */
export function newestLaunchReport(
  evidenceDir: string,
  stack: string,
): { readonly path: string; readonly facts: LaunchReportFacts } | undefined {
  const dir = stackEvidenceDir(evidenceDir, stack);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => LAUNCH_REPORT_NAME.test(n));
  } catch {
    return undefined;
  }
  for (const name of names.sort().reverse()) {
    const file = path.join(dir, name);
    try {
      const facts = parseLaunchReport(fs.readFileSync(file, "utf8"));
      if (facts !== undefined) return { path: file, facts };
    } catch {
      // unreadable: try the next older one
    }
  }
  return undefined;
}
