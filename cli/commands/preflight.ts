/**
 * `preflight --stack <stack>`: collects readiness evidence from artifacts and writes
 * `<evidenceDir>/<stack>/<timestamp>-preflight.{json,md}` (and the signed envelope). Exits 7 when the stack is not
 * ready.
 */
import { type Command, Option } from "commander";
import { type PreflightOptions, type PreflightReport, runPreflight } from "../actions/preflight";
import { stackCommand } from "../options";
import { JSON_OPTION, withJsonResult } from "../output";

/** The commander command; `cli/index.ts` adds it to the program. */
export function preflightCommand(): Command {
  return stackCommand("preflight", { evidenceDir: true })
    .description(
      "Collect readiness evidence from artifacts and write <evidenceDir>/<stack>/<timestamp>-preflight.{json,md}.",
    )
    .option(
      "--staging-stack <stack>",
      "stack whose drills, seed log and last update count (default: committed)",
    )
    .option(
      "--staging-env <env>",
      "the app's environment whose drill and seed logs count (tests/drills/logs/<env>/; default: the staging stack's name)",
    )
    .option(
      "--release-cut <time>",
      "when the release was cut (ISO); default: start of the active freeze window",
    )
    .option(
      "--app-dir <dir>",
      "the Nova RMS checkout (default: nova-rollout:appDir, else the repository around this program's infra/)",
    )
    .option("--release <tag>", "release id (default: nova-rollout:imageTag)")
    .option("--api-digest <digest>", "expected nova-rms-api digest (default: nova-rollout:apiImageDigest)")
    .option(
      "--worker-digest <digest>",
      "expected nova-rms-worker digest (default: nova-rollout:workerImageDigest)",
    )
    .option("--registry <registry>", "registry/prefix (default: nova-rollout:imageRegistry)")
    .option("--kubeconfig <path>", "kubeconfig (default: nova-rollout:kubeconfigPath)")
    .option("--context <name>", "kubeconfig context (default: nova-rollout:kubeconfigContext)")
    .option(
      "--min-statements <pct>",
      "coverage threshold (default: committed; lower values block production)",
    )
    .option("--min-branches <pct>", "coverage threshold (default: committed)")
    .option("--min-functions <pct>", "coverage threshold (default: committed)")
    .option("--min-lines <pct>", "coverage threshold (default: committed)")
    .option("--drill-max-age-days <days>", "maximum billing-drill age (default: committed)")
    .option(
      "--staging-max-age-hours <hours>",
      "maximum age of the staging stack's newest successful update (default: committed)",
    )
    .option("--sample-data-max-age-days <days>", "maximum seed-log age (default: committed)")
    .option("--max-age-hours <hours>", "bundle freshness used for the final verdict (default: committed)")
    .option(
      "--signing-key <file|gcpkms://…>",
      "the key that signs the bundle: an ed25519 private key (PEM) or a Cloud KMS key version (gcpkms://projects/…/cryptoKeyVersions/<n>) (default: NOVA_SIGNING_KEY_FILE); production needs one in the roster",
    )
    .option(
      "--ran-by <name>",
      "who runs the preflight (a roster name; the release's approver must be someone else)",
    )
    .addOption(
      new Option("--no-engine", "do not query the staging stack history (the staging check then fails)"),
    )
    .option(...JSON_OPTION)
    .action((opts: PreflightOptions & { json?: boolean }) =>
      withJsonResult(opts.json, async () => {
        const report: PreflightReport = {};
        const code = await runPreflight(opts, new Date(), report);
        process.exitCode = code;
        return { stack: opts.stack, ready: code === 0, exitCode: code, ...report };
      }),
    );
}
