/**
 * The approval section (policy nova-leadership-approval): an unexpired leadership approval for this stack and
 * release; in production signed by a roster leader who is neither the deployer nor the preflight's runner, and bound
 * to both digests and the newest signed bundle.
 */
import { type ApprovalRecord, type Finding } from "../model";
import { approvalProblem } from "../signed";
import { validApprovals } from "../verifier";
import { appliesTo, rel, rolloutCmd } from "./input";
import { bindingOf, type GateView, productionRecords, signedBundleOf } from "./view";

/** The approval section of a view; `environments`: where it applies besides production stacks. */
export function approvalSection(view: GateView, environments?: readonly string[]): Finding[] {
  const input = view.input;
  // A rollback is admitted by what admitted the release it restores, approval included.
  if (!appliesTo(input, environments) || view.rollback !== undefined) return [];
  if (!input.settings.ok) {
    return [
      {
        checkId: "approval",
        message: `Cannot determine the release of stack ${input.stack} (${input.settings.problems.join("; ")}); approvals are per release.`,
        remedy: `pulumi config set nova-rollout:imageTag <tag> --stack ${input.stack}`,
      },
    ];
  }
  const release = input.settings.settings.release;
  const roles = input.stackClass.production
    ? input.enforcement.approverRoles
    : (input.approverRoles ?? input.enforcement.approverRoles);
  if (input.stackClass.production) return productionApprovalFindings(view, release, roles);
  const records = view.records;
  if (validApprovals(records.approvals, input.stack, release, input.now, roles).length > 0) return [];
  const forRelease = records.approvals.filter((a) => a.release === release);
  const seen =
    forRelease.length === 0
      ? `no approval for release ${release}`
      : forRelease.map((a) => `${a.approvedBy} (${a.role ?? "no role"}) expires ${a.expiresAt}`).join(", ");
  return [
    {
      checkId: "approval",
      message: `No valid leadership approval for stack ${input.stack} release ${release} at ${input.now.toISOString()} (found: ${seen}); threshold: unexpired, role in [${roles.join(", ")}].`,
      remedy: rolloutCmd(
        `approve --stack ${input.stack} --release ${release} --approved-by <name> --role <role> --expires-in-hours 24`,
      ),
    },
  ];
}

/** The production approval that counts (signed, roster leadership, not the deployer or preflight, bound). */
export function countingApproval(view: GateView): {
  approval?: ApprovalRecord & { path: string };
  findings: Finding[];
} {
  const input = view.input;
  const roles = input.enforcement.approverRoles;
  const { records, findings } = productionRecords(view, "approval");
  const roster = view.roster;
  if (roster === undefined || "checkId" in roster) return { findings };
  const binding = bindingOf(view, signedBundleOf(view));
  if (binding === undefined) return { findings };
  const forRelease = records.approvals.filter(
    (a) => a.release === binding.release && a.stack === input.stack,
  );
  const problems = forRelease.map((a) => ({ a, why: approvalProblem(a, roster, roles, binding, input.now) }));
  const ok = problems.find((p) => p.why === undefined)?.a;
  if (ok !== undefined) return { approval: ok, findings: [] };
  return {
    findings: [
      ...findings,
      ...problems.map((p) => ({
        checkId: "approval",
        message: `Approval ${rel(input, p.a.path)} by ${p.a.approvedBy} does not count: ${p.why ?? ""}.`,
        remedy: approveRemedy(input.stack, binding.release),
      })),
    ],
  };
}

function approveRemedy(stack: string, release: string): string {
  return rolloutCmd(
    `approve --stack ${stack} --release ${release} --approved-by <roster leadership name> --deployer <who runs the release> --ssh-key <your key> --expires-in-hours 24`,
  );
}

function productionApprovalFindings(view: GateView, release: string, roles: readonly string[]): Finding[] {
  const input = view.input;
  const { approval, findings } = countingApproval(view);
  if (approval !== undefined) return [];
  return [
    ...findings,
    {
      checkId: "approval",
      message: `No valid leadership approval for stack ${input.stack} release ${release} at ${input.now.toISOString()}; threshold: unexpired, signed by a roster member with a role in [${roles.join(", ")}] who is neither the deployer nor the preflight's runner, bound to both digests and the newest signed bundle.`,
      remedy: approveRemedy(input.stack, release),
    },
  ];
}
