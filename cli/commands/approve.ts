/**
 * `approve --stack <stack> --release <tag> --approved-by <roster name> --deployer <roster name>`: records a
 * leadership approval for one release of one stack, bound to both digests and the newest signed bundle, and signs it
 * with the approver's SSH key. The approver's role comes from the committed roster, never from a flag.
 */
import { JSON_OPTION, STACK_OPTION, UserError, withJsonResult } from "../engine";
import * as path from "node:path";
import { Command } from "commander";
import {
  bundleToBind,
  findProjectDir,
  imageDigestSchema,
  loadProductionEnforcement,
  parseTime,
  resolveStackSettings,
  type TrustedKey,
  trustedPreflightKeys,
} from "../../src/evidence";
import { evidenceDirFor, SSH_KEY_OPTION, writeRecordSigned } from "./freeze";

interface ApproveOptions {
  stack: string;
  release?: string;
  approvedBy: string;
  deployer?: string;
  role?: string;
  bundle?: string;
  apiDigest?: string;
  workerDigest?: string;
  expiresAt?: string;
  expiresInHours: string;
  projectDir?: string;
  evidenceDir?: string;
  sshKey?: string;
}

/** The preflight keys of the project's committed roster (none when it cannot be read). */
export function committedPreflightKeys(projectDir: string): TrustedKey[] {
  try {
    const roster = loadProductionEnforcement(projectDir).roster;
    return "error" in roster ? [] : trustedPreflightKeys(roster);
  } catch {
    return [];
  }
}

/** What an approval or override binds to: digests (options, else stack config) and the bundle hash. */
export function releaseBinding(
  o: { stack: string; bundle?: string; apiDigest?: string; workerDigest?: string },
  projectDir: string,
  evidenceDirAbs: string,
  digests: { api: string; worker: string } | undefined,
): { imageDigests?: { api: string; worker: string }; bundleSha256?: string } {
  const api = o.apiDigest ?? digests?.api;
  const worker = o.workerDigest ?? digests?.worker;
  const imageDigests =
    imageDigestSchema.safeParse(api).success && imageDigestSchema.safeParse(worker).success
      ? { api: api as string, worker: worker as string }
      : undefined;
  if (imageDigests === undefined)
    console.error("warning: no digests to bind to (pass --api-digest/--worker-digest)");
  let bundleSha256 = o.bundle;
  if (bundleSha256 === undefined) {
    const found = bundleToBind(evidenceDirAbs, o.stack, committedPreflightKeys(projectDir));
    if (found.warning !== undefined) console.error(`warning: ${found.warning}`);
    bundleSha256 = found.bundle?.contentSha256;
  }
  return { ...(imageDigests ? { imageDigests } : {}), ...(bundleSha256 ? { bundleSha256 } : {}) };
}

export function approveCommand(): Command {
  return new Command("approve")
    .description("Record a leadership approval for a stack and release, signed with the approver's SSH key.")
    .requiredOption(...STACK_OPTION)
    .option("--release <tag>", "release id (default: nova-rollout:imageTag of the stack)")
    .requiredOption("--approved-by <name>", "who approves (a name in the committed roster)")
    .option("--deployer <name>", "who runs the release (a roster name; must not be the approver)")
    .option("--role <role>", "ignored: the approver's role comes from the committed roster")
    .option("--bundle <sha256>", "contentSha256 of the bundle approved (default: the newest signed bundle)")
    .option("--api-digest <digest>", "nova-rms-api digest (default: nova-rollout:apiImageDigest)")
    .option("--worker-digest <digest>", "nova-rms-worker digest (default: nova-rollout:workerImageDigest)")
    .option("--expires-at <time>", "expiry (ISO or +<n>h)")
    .option("--expires-in-hours <hours>", "expiry from now when --expires-at is not given", "24")
    .option("--project-dir <dir>", "project directory")
    .option("--evidence-dir <dir>", "evidence directory relative to the project")
    .option(...SSH_KEY_OPTION)
    .option(...JSON_OPTION)
    .action((o: ApproveOptions & { json?: boolean }) =>
      withJsonResult(o.json, () => {
        const now = new Date();
        const projectDir = path.resolve(o.projectDir ?? findProjectDir([process.cwd()]) ?? process.cwd());
        const s = resolveStackSettings({ stack: o.stack, projectDir, env: {} });
        const release = o.release ?? (s.ok ? s.settings.release : undefined);
        if (release === undefined) {
          throw new UserError("approve: pass --release (the stack file has no nova-rollout:imageTag)");
        }
        if (o.role !== undefined) {
          console.error(
            `warning: --role ${o.role} is ignored; the approver's role comes from the committed roster (policy/trust/roster.json)`,
          );
        }
        if (o.deployer === undefined) {
          console.error(
            "warning: no --deployer; production counts only approvals that name who runs the release",
          );
        }
        const evidenceDir = evidenceDirFor(o.stack, projectDir, o.evidenceDir);
        const binding = releaseBinding(o, projectDir, evidenceDir, s.ok ? s.settings.digests : undefined);
        const expiresAt =
          o.expiresAt !== undefined ? parseTime(o.expiresAt, now) : parseTime(`+${o.expiresInHours}h`, now);
        const { file, signature } = writeRecordSigned(
          evidenceDir,
          {
            kind: "approval",
            stack: o.stack,
            release,
            approvedBy: o.approvedBy,
            ...(o.deployer !== undefined ? { deployer: o.deployer } : {}),
            ...binding,
            approvedAt: now.toISOString(),
            expiresAt: expiresAt.toISOString(),
          },
          now,
          o.sshKey,
        );
        return { stack: o.stack, record: file, signature: signature ?? null };
      }),
    );
}
