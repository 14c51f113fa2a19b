/**
 * Fingerprints of what shapes the rendered workloads, so the steps that guard a rollout (CronJob pause/resume,
 * post-deploy verification) run again on every change that rolls pods: chart files, values, scaling, images. Paths
 * enter as paths relative to the hashed directory, so the fingerprint is the same in every checkout.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { canonicalJson } from "../util/canonical-json";

/** sha256 over every file under `dir` (relative path and content, in sorted order). */
export function treeFingerprint(dir: string): string {
  const hash = createHash("sha256");
  const files = fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
  for (const rel of files) {
    hash.update(`${rel}\u0000`);
    hash.update(fs.readFileSync(path.join(dir, rel)));
    hash.update("\u0000");
  }
  return hash.digest("hex");
}

/** sha256 of the chart's fingerprint and the canonical JSON of everything else that shapes the workloads. */
export function workloadFingerprint(chart: string, shape: unknown): string {
  return createHash("sha256").update(chart).update(canonicalJson(shape)).digest("hex");
}
