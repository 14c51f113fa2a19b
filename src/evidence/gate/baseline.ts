/** The baseline section (policy nova-production-target): what a production stack's config must keep. */
import * as path from "node:path";
import { type Finding } from "../model";
import { type ProductionBaseline } from "../enforcement";
import { type StackClass } from "../stack-class";
import { type EvidenceStackSettings } from "../../config/stack-view";

/** Baseline findings: a production stack keeps the committed registries, secrets, paused CronJobs and evidence dir. */
export function baselineFindings(
  settings: EvidenceStackSettings,
  baseline: ProductionBaseline,
  stackClass: StackClass,
): Finding[] {
  if (!stackClass.production) return [];
  const out: Finding[] = [];
  const set = (key: string, value: string) =>
    `pulumi config set nova-rollout:${key} '${value}' --stack ${settings.stack}`;
  if (stackClass.protectedTargets.length > 0 && settings.environment !== "production") {
    out.push({
      checkId: "environment",
      message: `Stack "${settings.stack}" targets ${stackClass.protectedTargets.join(", ")}, a protected production target, but declares environment ${settings.environment ?? "(unset)"}; production rules and values apply to it.`,
      remedy: set("environment", "production"),
    });
  }
  const registry = settings.imageRegistry;
  if (registry === undefined || !baseline.allowedRegistries.includes(registry)) {
    out.push({
      checkId: "registry",
      message: `Image registry ${registry ?? "(unset)"} is not an allowed production registry; threshold: one of ${baseline.allowedRegistries.join(", ")} (policy/config/production.json).`,
      remedy: set("imageRegistry", baseline.allowedRegistries[0] ?? "<registry>"),
    });
  }
  const missing = (have: readonly string[], need: readonly string[]) => need.filter((n) => !have.includes(n));
  const secrets = missing(settings.requiredSecrets, baseline.requiredSecrets);
  if (secrets.length > 0) {
    out.push({
      checkId: "required-secrets",
      message: `nova-rollout:requiredSecrets leaves out ${secrets.join(", ")}; threshold: production requires ${baseline.requiredSecrets.join(", ")}.`,
      remedy: set("requiredSecrets", JSON.stringify(baseline.requiredSecrets)),
    });
  }
  const jobs = missing(settings.pausedCronJobs, baseline.pausedCronJobs);
  if (jobs.length > 0) {
    out.push({
      checkId: "paused-cronjobs",
      message: `nova-rollout:pausedCronJobs leaves out ${jobs.join(", ")}; threshold: production pauses ${baseline.pausedCronJobs.join(", ")} during the apply.`,
      remedy: set("pausedCronJobs", JSON.stringify([...new Set([...settings.pausedCronJobs, ...jobs])])),
    });
  }
  if (path.normalize(settings.evidenceDir) !== path.normalize(baseline.evidenceDir)) {
    out.push({
      checkId: "evidence-dir",
      message: `nova-rollout:evidenceDir is ${settings.evidenceDir}; threshold: production evidence lives in ${baseline.evidenceDir}.`,
      remedy: `pulumi config rm nova-rollout:evidenceDir --stack ${settings.stack}`,
    });
  }
  return out;
}
