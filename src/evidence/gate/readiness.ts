/**
 * The readiness section (policy nova-readiness-gate): the newest bundle verified (signed by a preflight key of the
 * roster in production and on a sandbox stack whose enforcement names one), and in production judged with the
 * committed thresholds. A rollback is judged by what admitted the release it restores; rejected digests stay refused.
 */
import { type Finding, type JudgedWith } from "../model";
import { type GateThresholds } from "../enforcement";
import { preflightRemedy } from "../paths";
import { verifyReadiness } from "../verifier";
import { projectFileReader } from "../preflight-files";
import { checkIdFindings, signedPreflightRemedy } from "../signed";
import { SANDBOX_PREFLIGHT_KEY } from "../trust";
import { judgeOverrides, rejectedOverrideFindings } from "../override-rules";
import { rel } from "./input";
import { rollbackFindings } from "./rollback";
import { bindingOf, concernsNow, type GateView, type TrustSource } from "./view";

/** The readiness section of a view. */
export function readinessSection(view: GateView): Finding[] {
  const input = view.input;
  const remedy = preflightRemedy(input.stack);
  if (!input.settings.ok) {
    return [
      {
        checkId: "release",
        message: `Cannot determine the release this stack deploys (${input.settings.problems.join("; ")}); the gate fails closed.`,
        remedy: `pulumi config set nova-rollout:imageTag <tag> --stack ${input.stack} (and the digests), then ${remedy}`,
      },
    ];
  }
  const s = input.settings.settings;
  // Digests whose verification failed on this stack stay refused until new ones or a recorded retry.
  const rejected = view.rejections;
  if (rejected.length > 0) return rejected;
  if (view.rollback !== undefined) return rollbackFindings(view, view.rollback);
  const production = input.stackClass.production;
  const thresholds = input.enforcement.thresholds;
  const maxAgeHours = production ? thresholds.maxAgeHours : (input.maxAgeHours ?? thresholds.maxAgeHours);
  if (view.trust !== undefined) return signedReadinessFindings(view, maxAgeHours, view.trust);
  return verifyReadiness({
    bundle: view.plainNewest,
    expected: { stack: input.stack, release: s.release, digests: s.digests },
    now: input.now,
    maxAgeHours,
    override: view.records.overrides,
    readFile: projectFileReader(input.projectDir),
  });
}

/**
 * Signed readiness (production, or a sandbox stack whose enforcement names a roster): the newest bundle signed by a
 * preflight key of the roster, then the usual verification; a production bundle also against the committed thresholds.
 */
function signedReadinessFindings(view: GateView, maxAgeHours: number, trust: TrustSource): Finding[] {
  const input = view.input;
  if (!input.settings.ok) return [];
  const s = input.settings.settings;
  const remedy = trust.committed
    ? signedPreflightRemedy(input.stack)
    : `${preflightRemedy(input.stack)} (signs with ${SANDBOX_PREFLIGHT_KEY} by default)`;
  const roster = trust.roster;
  if ("checkId" in roster) return [roster];
  const lookup = view.newestSigned;
  // Read against this usable roster, so never a finding.
  if (lookup === undefined || "checkId" in lookup) return [];
  if (lookup.status === "invalid") {
    return [
      {
        checkId: "signature",
        message: `Evidence bundle ${rel(input, lookup.path)} is not accepted: ${lookup.error}; the gate trusts only bundles signed by a preflight key of ${trust.label}.`,
        remedy,
      },
    ];
  }
  if (lookup.status === "missing") {
    return [
      {
        checkId: "bundle",
        message: `No readiness evidence for stack "${input.stack}": looked for ${lookup.expectedPath} and found none.`,
        remedy,
      },
    ];
  }
  const findings: Finding[] = lookup.rejected.map((r) => ({
    checkId: "signature",
    message: `Evidence bundle ${rel(input, r.path)} is not accepted: ${r.error}; the gate trusts only bundles signed by a preflight key of ${trust.label}.`,
    remedy: `remove it, then ${remedy}`,
  }));
  findings.push(...checkIdFindings(lookup.bundle, input.stack));
  const rejected = view.signed?.rejected ?? [];
  const binding = bindingOf(view, lookup);
  // The override rules of the stack's class, shared with the preflight (src/evidence/override-rules.ts).
  const judged =
    binding === undefined
      ? { counted: [], rejected: [] }
      : judgeOverrides(
          view.records.overrides,
          {
            signed: true,
            roster,
            maxHours: input.enforcement.overrideMaxHours,
            binding,
            checkSignature: view.checkSignature,
          },
          { stack: input.stack, release: s.release },
          input.now,
        );
  // Why overrides and rollback records on file change nothing: explanations, reported only when the release is not
  // ready without them (an expired one concerns no release any more: `status` lists it, it blocks nothing).
  const explanations: Finding[] = [];
  explanations.push(
    ...rejectedOverrideFindings(
      judged.rejected.filter((r) => concernsNow(view, r.override.path)),
      input.projectDir,
      input.stack,
    ),
  );
  for (const r of rejected.filter((x) => x.kind === "rollback" && concernsNow(view, x.path))) {
    explanations.push({
      checkId: "rollback",
      message: `Rollback record ${rel(input, r.path)} admits nothing: ${r.why}.`,
      remedy: `sign it as the person it names: ssh-keygen -Y sign -n nova-rollout -f <key> ${rel(input, r.path)}`,
    });
  }
  findings.push(
    ...verifyReadiness({
      bundle: { status: "ok", path: lookup.path, bundle: lookup.bundle, bytes: lookup.bytes },
      expected: { stack: input.stack, release: s.release, digests: s.digests },
      now: input.now,
      maxAgeHours,
      override: judged.counted,
      readFile: projectFileReader(input.projectDir),
    }).map((f) => (f.remedy === preflightRemedy(input.stack) ? { ...f, remedy } : f)),
    ...(trust.committed
      ? weakenedThresholdFindings(
          lookup.bundle.judgedWith,
          lookup.bundle.createdAt,
          input.enforcement.thresholds,
          input.stack,
          input.enforcement.baseline.allowedRegistries,
        )
      : []),
  );
  return findings.length > 0 ? [...explanations, ...findings] : [];
}

/** Findings for thresholds a bundle was judged with that are weaker than the committed ones. */
export function weakenedThresholdFindings(
  judged: JudgedWith,
  createdAt: string,
  thresholds: GateThresholds,
  stack: string,
  allowedRegistries?: readonly string[],
): Finding[] {
  const out: Finding[] = [];
  const remedy = `${preflightRemedy(stack)} (without options that lower thresholds)`;
  const weak = (what: string, used: string, required: string) =>
    out.push({
      checkId: "thresholds",
      message: `The bundle was judged with a weakened threshold: ${what} ${used}; the committed policy requires ${required}.`,
      remedy,
    });
  for (const k of ["statements", "branches", "functions", "lines"] as const) {
    if (judged.coverage[k] < thresholds.coverage[k]) {
      weak(`coverage ${k} >=`, `${judged.coverage[k]}%`, `>= ${thresholds.coverage[k]}%`);
    }
  }
  if (judged.drillMaxAgeDays > thresholds.drillMaxAgeDays) {
    weak("billing drill max age", `${judged.drillMaxAgeDays} days`, `<= ${thresholds.drillMaxAgeDays} days`);
  }
  if (judged.stagingMaxAgeHours > thresholds.stagingMaxAgeHours) {
    weak("staging update max age", `${judged.stagingMaxAgeHours} h`, `<= ${thresholds.stagingMaxAgeHours} h`);
  }
  if (judged.sampleDataMaxAgeDays > thresholds.sampleDataMaxAgeDays) {
    weak(
      "sample-data max age",
      `${judged.sampleDataMaxAgeDays} days`,
      `<= ${thresholds.sampleDataMaxAgeDays} days`,
    );
  }
  if (judged.stagingStack !== thresholds.stagingStack) {
    weak("staging stack", `"${judged.stagingStack}"`, `"${thresholds.stagingStack}"`);
  }
  const cutLimit = Date.parse(createdAt) - thresholds.releaseCutMaxAgeDays * 86_400_000;
  if (judged.releaseCut !== null && Date.parse(judged.releaseCut) < cutLimit) {
    weak(
      "release cut",
      judged.releaseCut,
      `a release cut at most ${thresholds.releaseCutMaxAgeDays} days before the preflight`,
    );
  }
  if (
    allowedRegistries !== undefined &&
    (judged.imageRegistry === null || !allowedRegistries.includes(judged.imageRegistry))
  ) {
    weak("registry", judged.imageRegistry ?? "(none)", `one of ${allowedRegistries.join(", ")}`);
  }
  return out;
}
