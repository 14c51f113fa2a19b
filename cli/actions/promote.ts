/**
 * `promote --from staging --to production`: the release the staging stack deployed and verified (its stack history,
 * not a tag) is copied by digest into the target stack's registry, read back there, and pinned in
 * `Pulumi.<to>.yaml` with the staging update it came from (`nova-rollout:promotedFrom`). Copies go through skopeo
 * (`src/registry/skopeo.ts`): every platform's image, the digest preserved, the registry's own auth flow.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { digestRef, IMAGE_REPOSITORIES, SERVICES, tagRef, type Service } from "../../src/contract";
import { stackFilePath } from "../../src/config";
import { describeMediaType } from "../../src/registry/media-types";
import { splitRegistry } from "../../src/registry/oci";
import {
  copyByDigest,
  RegistryError,
  registryLoginFix,
  skopeoRunner,
  type ManifestInfo,
  type SkopeoRunner,
} from "../../src/registry/skopeo";
import { EXIT, UserError } from "../errors";
import { type ReleaseDigests, type ReleaseEntry, targetProblem } from "../history";
import { stackReleases } from "./history";
import { editPins, stackFileChange, stackRegistry } from "./pin";

export interface PromoteOptions {
  readonly projectDir: string;
  /** The stack whose verified update is promoted (the staging stack). */
  readonly from: string;
  /** The stack whose registry receives the images and whose stack file pins them. */
  readonly to: string;
  /** A staging update to promote instead of its newest. */
  readonly update?: number;
  /** Show what would be copied and the stack file change; copy and write nothing. */
  readonly dryRun?: boolean;
  /** Default: skopeo on PATH. */
  readonly skopeo?: SkopeoRunner;
  /** The source stack's history, newest first, and the digests it rejected. Default: read through the engine. */
  readonly source?: (stack: string) => Promise<{ history: ReleaseEntry[]; rejected: ReleaseDigests[] }>;
  /** One line per image as its copy starts and ends. */
  readonly onProgress?: (line: string) => void;
}

export interface PromotedImage {
  readonly service: Service;
  /** `staging-registry/repository@sha256:…`. */
  readonly source: string;
  /** `target-registry/repository:tag`. */
  readonly destination: string;
  readonly digest: string;
  readonly mediaType?: string;
}

export interface PromoteReport {
  readonly from: string;
  readonly to: string;
  /** The source stack's update whose release was promoted. */
  readonly update: number;
  readonly release: string;
  /** `<from> update <version>`, as written to `nova-rollout:promotedFrom`. */
  readonly promotedFrom: string;
  readonly images: readonly PromotedImage[];
  /** The target stack file, absolute. */
  readonly file: string;
  readonly diff: string;
  /** Whether the images were copied (never on a dry run). */
  readonly copied: boolean;
  readonly written: boolean;
  readonly dryRun: boolean;
}

/**
 * The source stack's update to promote: `version` when given, else its newest `update`. It must be a succeeded update
 * (a failed post-deploy verification fails the update), not a rollback (a rollback re-applies an older release because
 * a newer one failed), and its digests must not have been rejected since. A refusal names why.
 */
export function promotionSource(
  from: string,
  history: readonly ReleaseEntry[],
  rejected: readonly ReleaseDigests[],
  version?: number,
): ReleaseEntry {
  const deploy = `deploy the release to ${from} first (npm run rollout -- up --stack ${from})`;
  const entry =
    version !== undefined
      ? history.find((h) => h.version === version)
      : [...history].sort((a, b) => b.version - a.version).find((h) => h.kind === "update");
  if (entry === undefined) {
    throw new UserError(
      version !== undefined
        ? `Update ${version} is not in the history of stack ${from}; nothing was copied or pinned (see rollout history --stack ${from}).`
        : `Stack ${from} has no update to promote; nothing was copied or pinned: ${deploy}.`,
    );
  }
  const which = `${from} update ${entry.version}${entry.release !== "" ? ` (release ${entry.release})` : ""}`;
  const problem =
    targetProblem(entry, false, rejected) ??
    // History records project defaults too: an empty rollbackOf is none.
    (entry.rejects !== undefined || (entry.config["nova-rollout:rollbackOf"] ?? "") !== ""
      ? "it is a rollback: the stack went back to an older release because a newer one failed, so it verified no new release"
      : undefined);
  if (problem !== undefined) {
    throw new UserError(
      `Cannot promote ${which}: ${problem}. Nothing was copied or pinned. Fix the release, ${deploy}, then promote again.`,
      EXIT.notReady,
    );
  }
  return entry;
}

/** What a person does about a registry failure, by kind. */
function registryFix(e: RegistryError, registry: string): string {
  const host = splitRegistry(registry).host;
  switch (e.kind) {
    case "denied":
      return registryLoginFix(registry, true);
    case "not-found":
      return `the source image is gone from its registry: promote an update whose images still exist (rollout history --stack <from>)`;
    case "unreachable":
      return `check that ${host} is reachable from this machine`;
    default:
      return "see the message above";
  }
}

/** Promotes the source stack's verified release into the target stack (see the module comment). */
export async function promoteRelease(o: PromoteOptions): Promise<PromoteReport> {
  if (o.from === o.to) {
    throw new UserError(
      `--from and --to are both "${o.from}": promote copies one stack's release to another.`,
    );
  }
  const file = stackFilePath(o.projectDir, o.to);
  if (!fs.existsSync(file)) {
    throw new UserError(`No stack file ${file}: create the stack (pulumi stack init ${o.to}) first.`);
  }
  const target = { registry: stackRegistry(o.projectDir, o.to) };
  const { history, rejected } = await (
    o.source ??
    (async (s) => {
      const releases = await stackReleases(o.projectDir, s);
      return { history: releases.entries, rejected: releases.rejected };
    })
  )(o.from);
  const entry = promotionSource(o.from, history, rejected, o.update);
  const sourceRegistry = entry.config["nova-rollout:imageRegistry"];
  if (sourceRegistry === undefined || entry.release === "") {
    throw new UserError(
      `${o.from} update ${entry.version} records no image registry or release tag in its config; nothing was copied or pinned.`,
    );
  }
  const digests: Record<Service, string> = { api: entry.apiDigest, worker: entry.workerDigest };
  const images = SERVICES.map((service) => {
    const repository = IMAGE_REPOSITORIES[service];
    return {
      service,
      source: digestRef(sourceRegistry, repository, digests[service]),
      destination: tagRef(target.registry, repository, entry.release),
      digest: digests[service],
    };
  });
  const promotedFrom = `${o.from} update ${entry.version}`;
  const dryRun = o.dryRun === true;

  const copied: PromotedImage[] = [];
  if (!dryRun) {
    const run = o.skopeo ?? skopeoRunner();
    const progress = o.onProgress ?? (() => undefined);
    const problems: string[] = [];
    let userMistake = true;
    // One image after the other: each copy already runs its layers in parallel, and a refusal stops the second.
    for (const image of images) {
      progress(`copying ${image.service}: ${image.source} -> ${image.destination}`);
      const started = Date.now();
      let info: ManifestInfo;
      try {
        info = await copyByDigest(run, image.source, image.destination, image.digest);
      } catch (e) {
        if (!(e instanceof RegistryError)) throw e;
        if (e.kind === "missing-tool") throw new UserError(e.message);
        if (e.kind === "other" || e.kind === "unreachable") userMistake = false;
        problems.push(`${e.message}\n    Fix: ${registryFix(e, target.registry)}`);
        break;
      }
      progress(
        `copied ${image.service}: ${image.destination} is ${info.digest} (${describeMediaType(info.mediaType)}), ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      copied.push({ ...image, ...(info.mediaType !== undefined ? { mediaType: info.mediaType } : {}) });
    }
    if (problems.length > 0) {
      throw new UserError(
        `Cannot promote ${promotedFrom} (release ${entry.release}) into ${target.registry}; ${path.basename(file)} not changed:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        userMistake ? EXIT.usage : EXIT.failed,
      );
    }
  }
  const edit = editPins(file, entry.release, digests, promotedFrom, dryRun);
  return {
    from: o.from,
    to: o.to,
    update: entry.version,
    release: entry.release,
    promotedFrom,
    images: dryRun ? images : copied,
    file,
    diff: edit.diff,
    copied: !dryRun,
    written: edit.written,
    dryRun,
  };
}

/** The report for people: each image's copy, the stack file diff, and what was done. */
export function formatPromote(r: PromoteReport): string {
  const name = path.basename(r.file);
  const lines = [
    `${r.promotedFrom}: release ${r.release}, deployed and verified there, ${r.dryRun ? "would be promoted" : "promoted"} to stack ${r.to}:`,
    ...r.images.map(
      (i) =>
        `  ${i.service.padEnd(6)} ${i.source}\n         -> ${i.destination}${r.copied ? ` (digest verified${i.mediaType !== undefined ? `, ${describeMediaType(i.mediaType)}` : ""})` : ""}`,
    ),
  ];
  lines.push(
    ...stackFileChange(r.diff, r.written, {
      name,
      label: "promoted",
      unchanged: `${name} already pins this release; nothing to change.`,
      written: `wrote ${name}: review the change and commit it; then npm run rollout -- preflight --stack ${r.to}.`,
      dryRun: `dry run: nothing copied, ${name} not written (run without --dry-run to do both).`,
    }),
  );
  return lines.join("\n");
}
