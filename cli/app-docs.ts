/**
 * `post-launch` in the Nova RMS checkout: writes the launch entry into its `STATUS.md` and the follow-up drills into
 * its `TODO.md` (`src/comms/app-docs.ts`), prints each change as a diff and the git commands that put them on a branch
 * for a pull request in the app repository. Nothing is committed or pushed here; a file the checkout lacks is left
 * alone (and said).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type LaunchDocFacts, statusWithLaunch, todoWithFollowUps } from "../src/comms/app-docs";
import type { LaunchReportFacts } from "../src/comms/launch-summary";
import { isInside } from "./backend";
import { lineDiff } from "../src/config/stack-file-edit";
import { writeFileAtomic } from "../src/util/atomic-file";

/** The docs post-launch updates, with how each changes. */
const DOCS: readonly [string, (doc: string, f: LaunchDocFacts) => string][] = [
  ["STATUS.md", statusWithLaunch],
  ["TODO.md", todoWithFollowUps],
];

/** Updates the checkout's docs for the launch; returns the files changed (absolute). */
export function updateAppDocs(appDir: string, facts: LaunchDocFacts, log: (text: string) => void): string[] {
  const changed: string[] = [];
  for (const [name, update] of DOCS) {
    const file = path.join(appDir, name);
    if (!fs.existsSync(file)) {
      log(`warning: the app checkout has no ${name}; not updated`);
      continue;
    }
    const before = fs.readFileSync(file, "utf8");
    const after = update(before, facts);
    if (after === before) continue;
    writeFileAtomic(file, after);
    changed.push(file);
    log(`--- a/${name}\n+++ b/${name}\n${lineDiff(before, after)}`);
  }
  if (changed.length === 0) {
    log(`the app checkout's STATUS.md and TODO.md already record release ${facts.release} on ${facts.stack}`);
    return changed;
  }
  const branch = `docs/${facts.stack}-${facts.release}-launched`;
  const files = changed.map((f) => path.relative(appDir, f)).join(" ");
  log(
    [
      `updated ${files} in the app checkout (${appDir}); put it into the Nova RMS repository (a pull request):`,
      `  git -C ${appDir} switch -c ${branch}`,
      `  git -C ${appDir} add ${files}`,
      `  git -C ${appDir} commit -m "docs: release ${facts.release} launched on ${facts.stack}"`,
      `  git -C ${appDir} push -u origin ${branch}    # then open a pull request from ${branch}`,
    ].join("\n"),
  );
  return changed;
}

/**
 * `post-launch`'s part in the app checkout: the launch (its summary on disk) and its follow-up drills into the
 * checkout's docs. A failure is a warning (the post-launch records stand); returns the files changed.
 */
export function writeLaunchIntoApp(
  appDir: string,
  stack: string,
  launch: { readonly path: string; readonly facts: LaunchReportFacts },
  followUps: LaunchDocFacts["followUps"],
): string[] {
  try {
    return updateAppDocs(
      appDir,
      {
        stack,
        release: launch.facts.release,
        digests: launch.facts.digests,
        ...(launch.facts.finishedAt !== undefined ? { finishedAt: launch.facts.finishedAt } : {}),
        launchReport: path.basename(launch.path),
        ...(isInside(appDir, launch.path) ? { launchReportPath: path.relative(appDir, launch.path) } : {}),
        followUps,
      },
      (text) => console.log(text),
    );
  } catch (e) {
    console.error(
      `warning: the app checkout's docs were not updated: ${(e as Error).message.split("\n")[0]}`,
    );
    return [];
  }
}
