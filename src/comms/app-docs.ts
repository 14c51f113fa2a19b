/**
 * Post-launch updates of the Nova RMS checkout's own docs (playbook §8.3: "update STATUS.md, TODO.md"): a launch
 * entry in `STATUS.md` (release, stack, images, launch summary) and the follow-up drills as open items in `TODO.md`,
 * each under a `## Launches` / `## Launch follow-ups` section and marked with an HTML comment naming the stack and
 * release, so running post-launch again changes nothing. Pure: the CLI writes the result into the checkout's working
 * tree and prints the diff to commit (a pull request in the app repository).
 */

/** What a launch put into production, as the launch summary and the follow-ups record say. */
export interface LaunchDocFacts {
  readonly stack: string;
  readonly release: string;
  readonly digests: { readonly api: string; readonly worker: string };
  /** When the launch finished (ISO), when the summary says. */
  readonly finishedAt?: string;
  /** The launch summary's file name (`<ts>-launch.md`). */
  readonly launchReport: string;
  /** The launch summary's path relative to the app checkout, when it lies inside it. */
  readonly launchReportPath?: string;
  readonly followUps: readonly { readonly drill: string; readonly dueAt: string }[];
}

/** The marker of one launch's entries (an HTML comment: invisible when rendered). */
export function launchMarker(f: Pick<LaunchDocFacts, "stack" | "release">): string {
  return `<!-- nova-rollout:launch ${f.stack} ${f.release} -->`;
}

/** Adds `block` under the `## <heading>` section (created at the end when missing), unless `marker` is present. */
function addUnder(doc: string, heading: string, marker: string, block: string): string {
  if (doc.includes(marker)) return doc;
  const lines = doc.replace(/\n*$/, "").split("\n");
  const at = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (at < 0) return `${lines.join("\n")}\n\n## ${heading}\n\n${marker}\n${block}\n`;
  // Newest first: right below the heading (and the blank line after it).
  const insertAt = lines[at + 1]?.trim() === "" ? at + 2 : at + 1;
  return `${[...lines.slice(0, insertAt), marker, block, ...lines.slice(insertAt)].join("\n")}\n`;
}

/** `STATUS.md` with the launch entry. Pure. */
export function statusWithLaunch(doc: string, f: LaunchDocFacts): string {
  const when = f.finishedAt !== undefined ? ` on ${f.finishedAt.slice(0, 10)}` : "";
  const summary = f.launchReportPath ?? f.launchReport;
  return addUnder(
    doc,
    "Launches",
    launchMarker(f),
    [
      `- Release **${f.release}** is live on \`${f.stack}\`${when}: nova-rms-api \`${f.digests.api}\`, nova-rms-worker \`${f.digests.worker}\`; launch summary \`${summary}\`.`,
    ].join("\n"),
  );
}

/** `TODO.md` with the launch's follow-up drills as open items. Pure. */
export function todoWithFollowUps(doc: string, f: LaunchDocFacts): string {
  return addUnder(
    doc,
    "Launch follow-ups",
    launchMarker(f),
    f.followUps
      .map(
        (d) =>
          `- [ ] ${d.drill} drill after release ${f.release} on \`${f.stack}\`, due ${d.dueAt.slice(0, 10)} (\`rollout post-launch --stack ${f.stack} --done ${d.drill}\`)`,
      )
      .join("\n"),
  );
}
