/**
 * `pin`: resolves a release tag of both images in the stack's registry to digests and writes `imageTag`,
 * `apiImageDigest` and `workerImageDigest` into `Pulumi.<stack>.yaml` as a change a person reviews (comments and key
 * order kept; `dryRun` only shows the diff). The digest pinned is the digest of what the tag points at: for a
 * multi-arch image the index, which is what the cluster's nodes pull before each picks its platform's manifest.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DIGEST_PATTERN, IMAGE_REPOSITORIES, SERVICES, tagRef, type Service } from "../../src/contract";
import {
  CONFIG_NAMESPACE,
  inspectStackConfig,
  projectKeys,
  readStackFile,
  stackFilePath,
  TAG_RE,
} from "../../src/config";
import { lineDiff, removeStackConfigKeys, setStackConfigValues } from "../../src/config/stack-file-edit";
import { describeMediaType, INDEX_MEDIA_TYPES } from "../../src/registry/media-types";
import {
  inspectManifest,
  RegistryError,
  registryLoginFix,
  skopeoRunner,
  type SkopeoRunner,
} from "../../src/registry/skopeo";
import { writeFileAtomic } from "../../src/util/atomic-file";
import { EXIT, UserError } from "../errors";

export interface PinOptions {
  readonly projectDir: string;
  readonly stack: string;
  /** The release tag both images were pushed with, e.g. `v1.4.2`. */
  readonly tag: string;
  /** Print the change only; write nothing. */
  readonly dryRun?: boolean;
  /** Default: skopeo on PATH (the registry's own auth flow, credentials of `skopeo login`/`docker login`). */
  readonly skopeo?: SkopeoRunner;
}

export interface PinnedImage {
  readonly service: Service;
  /** `registry/repository:tag`. */
  readonly ref: string;
  readonly digest: string;
  /** The manifest media type the registry reported for the tag. */
  readonly mediaType?: string;
  /** Whether the tag points at an index / manifest list (one manifest per platform). */
  readonly multiArch: boolean;
}

export interface PinReport {
  readonly stack: string;
  /** The stack file, absolute. */
  readonly file: string;
  readonly tag: string;
  readonly images: readonly PinnedImage[];
  /** The line diff of the stack file (empty when it already pins these values). */
  readonly diff: string;
  /** Whether the stack file was written (never on a dry run or when nothing changed). */
  readonly written: boolean;
  readonly dryRun: boolean;
}

/** The config keys `pin` writes, in the order they are inserted when missing. */
export const PIN_KEYS = {
  tag: `${CONFIG_NAMESPACE}:imageTag`,
  api: `${CONFIG_NAMESPACE}:apiImageDigest`,
  worker: `${CONFIG_NAMESPACE}:workerImageDigest`,
  /** Where a promoted release came from (`<stack> update <version>`), written by `rollout promote`. */
  promotedFrom: `${CONFIG_NAMESPACE}:promotedFrom`,
} as const;

/**
 * The registry a stack file names (`nova-rollout:imageRegistry`, checked by the program's schema). Only that key must be
 * valid: a stack whose secrets are set elsewhere (CI, a secret store) can still be pinned.
 */
export function stackRegistry(projectDir: string, stack: string): string {
  const file = readStackFile(projectDir, stack);
  const inspected = inspectStackConfig(projectKeys(file.config), { stack, projectDir });
  const registry = inspected.value("imageRegistry");
  if (registry === undefined) {
    const key = `${CONFIG_NAMESPACE}:imageRegistry`;
    const problem = inspected.problems.find((p) => p.key === key);
    throw new UserError(
      `${key} ${problem === undefined ? "is not set" : problem.message} in ${path.basename(stackFilePath(projectDir, stack))}: set it with pulumi config set ${key} <registry> --stack ${stack}`,
    );
  }
  return registry;
}

/**
 * Resolves `tag` in both repositories of the stack's registry and pins the digests in its stack file. Nothing is
 * written unless both resolve: a missing tag, a refused request or an unusable answer is a {@link UserError} naming
 * every repository that failed.
 */
export async function pinRelease(o: PinOptions): Promise<PinReport> {
  if (!TAG_RE.test(o.tag)) {
    throw new UserError(
      `--tag "${o.tag}" is not an image tag (letters, digits, '_', '.', '-'; at most 128; e.g. v1.4.2)`,
    );
  }
  const file = stackFilePath(o.projectDir, o.stack);
  if (!fs.existsSync(file)) {
    throw new UserError(`No stack file ${file}: create the stack (pulumi stack init ${o.stack}) first.`);
  }
  const registry = stackRegistry(o.projectDir, o.stack);
  const run = o.skopeo ?? skopeoRunner();

  const lookups = await Promise.all(
    SERVICES.map(async (service) => {
      const repository = IMAGE_REPOSITORIES[service];
      const ref = tagRef(registry, repository, o.tag);
      try {
        return { service, repository, ref, found: await inspectManifest(run, ref) };
      } catch (e) {
        if (!(e instanceof RegistryError)) throw e;
        return { service, repository, ref, error: e };
      }
    }),
  );

  const problems: string[] = [];
  let userMistake = true;
  const images: PinnedImage[] = [];
  for (const { service, repository, ref, found, error } of lookups) {
    if (error !== undefined) {
      if (error.kind === "missing-tool") throw new UserError(error.message);
      if (error.kind === "not-found") {
        problems.push(`tag ${o.tag} not found in repository ${registry}/${repository}`);
      } else if (error.kind === "denied") {
        problems.push(`${error.message}\n    Fix: ${registryLoginFix(registry)}`);
      } else {
        userMistake = false;
        problems.push(error.message);
      }
      continue;
    }
    if (!DIGEST_PATTERN.test(found.digest)) {
      userMistake = false;
      problems.push(`${ref}: the registry answered "${found.digest}", not a sha256 digest`);
      continue;
    }
    images.push({
      service,
      ref,
      digest: found.digest,
      ...(found.mediaType !== undefined ? { mediaType: found.mediaType } : {}),
      multiArch: found.mediaType !== undefined && INDEX_MEDIA_TYPES.includes(found.mediaType),
    });
  }
  if (problems.length > 0) {
    throw new UserError(
      `Cannot pin ${o.tag} into ${path.basename(file)}; nothing written:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      userMistake ? EXIT.usage : EXIT.failed,
    );
  }

  const digestOf = (service: Service) => images.find((i) => i.service === service)?.digest ?? "";
  const edit = editPins(
    file,
    o.tag,
    { api: digestOf("api"), worker: digestOf("worker") },
    undefined,
    o.dryRun,
  );
  return { stack: o.stack, file, tag: o.tag, images, ...edit };
}

/**
 * Sets the release tag and both digests in a stack file (and `promotedFrom` when given; a pin of a tag removes a
 * stale one), keeping every other byte; writes it unless `dryRun`. Returns the line diff and whether it was written.
 */
export function editPins(
  file: string,
  tag: string,
  digests: Readonly<Record<Service, string>>,
  promotedFrom: string | undefined,
  dryRun: boolean | undefined,
): { diff: string; written: boolean; dryRun: boolean } {
  const before = fs.readFileSync(file, "utf8");
  let after: string;
  try {
    after = setStackConfigValues(
      before,
      file,
      [
        { key: PIN_KEYS.tag, value: tag },
        { key: PIN_KEYS.api, value: digests.api },
        { key: PIN_KEYS.worker, value: digests.worker },
        ...(promotedFrom !== undefined ? [{ key: PIN_KEYS.promotedFrom, value: promotedFrom }] : []),
      ],
      [`${CONFIG_NAMESPACE}:imageRegistry`],
    );
    if (promotedFrom === undefined) after = removeStackConfigKeys(after, file, [PIN_KEYS.promotedFrom]);
  } catch (err) {
    throw new UserError(err instanceof Error ? err.message : String(err));
  }
  const diff = lineDiff(before, after);
  const written = dryRun !== true && diff !== "";
  if (written) writeFileAtomic(file, after);
  return { diff, written, dryRun: dryRun === true };
}

/** The report for people: what each tag resolved to (with the manifest kind), the diff, and what was done. */
export function formatPin(report: PinReport): string {
  const name = path.basename(report.file);
  const width = Math.max(...report.images.map((i) => i.ref.length));
  const lines = [
    `${report.tag} in the registry of stack ${report.stack}:`,
    ...report.images.map(
      (i) =>
        `  ${i.service.padEnd(6)} ${i.ref.padEnd(width)}  ${i.digest}  ${describeMediaType(i.mediaType)}` +
        (i.multiArch ? ": pinned the index, each node pulls its platform's image from it" : ""),
    ),
  ];
  return [
    ...lines,
    ...stackFileChange(report.diff, report.written, {
      name,
      label: "pinned",
      unchanged: `${name} already pins these digests; nothing to change.`,
      written: `wrote ${name}: review the change and commit it.`,
      dryRun: `dry run: ${name} not written (run without --dry-run to write it).`,
    }),
  ].join("\n");
}

/** The lines that report a stack file edit: the one line when nothing changed, else the diff and what was done. */
export function stackFileChange(
  diff: string,
  written: boolean,
  says: { name: string; label: string; unchanged: string; written: string; dryRun: string },
): string[] {
  if (diff === "") return [says.unchanged];
  return [`--- ${says.name}`, `+++ ${says.name} (${says.label})`, diff, written ? says.written : says.dryRun];
}
