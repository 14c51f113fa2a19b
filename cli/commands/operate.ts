/**
 * Operator commands: `drift` (has the cluster moved away from the last release?) and `status` (what runs, what
 * admitted it, what the gate's records say now). Both read only; neither changes the stack or the cluster.
 */
import { type Command } from "commander";
import { drift, stackStatus, type StatusReport } from "../actions/operate";
import { EXIT, UserError } from "../errors";
import { resolveProjectDir, stackCommand } from "../options";

export function driftCommand(): Command {
  return stackCommand("drift")
    .description(
      "Refresh and preview without changing anything: exit 0 when the cluster matches the last release, 9 when it drifted",
    )
    .option("--json", "print JSON")
    .action(async (o: { stack: string; projectDir?: string; json?: boolean }) => {
      const report = await drift(resolveProjectDir(o.projectDir), o.stack, o.json === true);
      const summary = Object.entries(report.changes)
        .filter(([op, n]) => op !== "same" && n > 0)
        .map(([op, n]) => `${op} ${n}`)
        .join(", ");
      process.stdout.write(
        o.json === true
          ? `${JSON.stringify(report, null, 2)}\n`
          : report.drifted
            ? `${o.stack} drifted from its last release: ${summary} (run \`npm run rollout -- up --stack ${o.stack}\` to restore it)\n`
            : `${o.stack} matches its last release\n`,
      );
      if (report.drifted) process.exitCode = EXIT.drifted;
    });
}

export function formatStatus(s: StatusReport): string {
  const c = s.current;
  const lines = [
    `stack        ${s.stack}`,
    c === undefined
      ? "release      (never updated)"
      : `release      ${c.release} (update ${c.version}, ${c.result} ${c.endTime})`,
    ...(c !== undefined ? [`images       api ${c.apiDigest}`, `             worker ${c.workerDigest}`] : []),
    ...(c?.admittedBy !== undefined ? [`admitted by  ${c.admittedBy}`] : []),
    `verification ${
      s.lastVerification.length === 0
        ? "no results"
        : s.lastVerification.map((r) => `${r.ok ? "pass" : "FAIL"} ${r.check}`).join(", ")
    }`,
    `freeze       ${s.freeze}`,
    `approvals    ${s.approvals.length === 0 ? "none valid for the current release" : s.approvals.join("; ")}`,
    `overrides    ${s.overrides.length === 0 ? "none active" : s.overrides.join("; ")}`,
    ...(s.invalidRecords.length > 0 ? [`INVALID      ${s.invalidRecords.join("; ")}`] : []),
    ...s.notCounted.map((n) => `not counted  ${n}`),
  ];
  return lines.join("\n");
}

export function statusCommand(): Command {
  return stackCommand("status")
    .description(
      "Show the current release, its digests and admission, the last verification and the gate's records",
    )
    .option("--json", "print JSON")
    .action(async (o: { stack: string; projectDir?: string; json?: boolean }) => {
      const report = await stackStatus(resolveProjectDir(o.projectDir), o.stack);
      process.stdout.write(
        o.json === true ? `${JSON.stringify(report, null, 2)}\n` : `${formatStatus(report)}\n`,
      );
      if (report.invalidRecords.length > 0) {
        throw new UserError(
          `${report.invalidRecords.length} record(s) of ${o.stack} are invalid (see above).`,
        );
      }
    });
}
