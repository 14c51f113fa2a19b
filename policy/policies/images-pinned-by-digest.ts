/**
 * nova-images-pinned-by-digest: every container image of a workload is `<registry>/<name>@sha256:<digest>`, from an
 * allowed registry, and the Nova images carry exactly the digests the stack expects.
 */
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import {
  DIGEST_PATTERN,
  parseImageRef,
  repositoryOf,
  serviceOfRepository,
  POLICY_NAMES,
} from "../../src/contract";
import { fix, type LocationConfig, locationSchemaProperties, policyContext, tryRead } from "./common";

export interface ImagesPinnedConfig extends LocationConfig {
  /** Registry prefixes images may come from; empty means the stack's `imageRegistry` only. */
  readonly allowedRegistries: readonly string[];
}

const configSchema: PolicyConfigSchema = {
  properties: {
    allowedRegistries: {
      type: "array",
      items: { type: "string" },
      default: [],
      description: "Registry prefixes images may come from; empty means the stack's imageRegistry only.",
    },
    ...locationSchemaProperties,
  },
};

const WORKLOAD_TYPES: Record<string, (props: Record<string, unknown>) => unknown> = {
  "kubernetes:apps/v1:Deployment": (p) => (p["spec"] as Spec | undefined)?.template?.spec,
  "kubernetes:apps/v1:StatefulSet": (p) => (p["spec"] as Spec | undefined)?.template?.spec,
  "kubernetes:apps/v1:DaemonSet": (p) => (p["spec"] as Spec | undefined)?.template?.spec,
  "kubernetes:batch/v1:Job": (p) => (p["spec"] as Spec | undefined)?.template?.spec,
  "kubernetes:batch/v1:CronJob": (p) =>
    (p["spec"] as { jobTemplate?: { spec?: Spec } } | undefined)?.jobTemplate?.spec?.template?.spec,
  "kubernetes:core/v1:Pod": (p) => p["spec"],
};

interface Spec {
  template?: { spec?: unknown };
}

interface Container {
  name?: unknown;
  image?: unknown;
}

/** Every container (init, regular, ephemeral) of a pod spec. */
export function containersOf(podSpec: unknown): Container[] {
  const spec = (podSpec ?? {}) as Record<string, unknown>;
  return ["initContainers", "containers", "ephemeralContainers"].flatMap((k) =>
    Array.isArray(spec[k]) ? (spec[k] as Container[]) : [],
  );
}

/** Splits `registry/path/name[:tag]@sha256:…` into repository path, image name and digest. */
function imageOf(image: string): { repository: string; name: string; digest?: string | undefined } {
  const ref = parseImageRef(image);
  return { repository: ref.name, name: repositoryOf(ref.name), digest: ref.digest };
}

export const imagesPinnedByDigest: ResourceValidationPolicy = {
  name: POLICY_NAMES.imagesPinnedByDigest,
  description:
    "Requires every container image of a Deployment, CronJob or Pod to be pinned by sha256 digest, from an allowed registry, with the Nova images at exactly the digests the stack expects.",
  enforcementLevel: "mandatory",
  configSchema,
  validateResource: (args, reportViolation) => {
    const extract = WORKLOAD_TYPES[args.type];
    if (extract === undefined) {
      return;
    }
    const { cfg, ctx } = policyContext<ImagesPinnedConfig>(args, configSchema);
    const settings = ctx?.settings.ok ? ctx.settings.settings : undefined;
    const stack = ctx?.stack ?? "<stack>";
    const allowed =
      cfg.allowedRegistries.length > 0
        ? cfg.allowedRegistries
        : settings?.imageRegistry
          ? [settings.imageRegistry]
          : [];
    const read = tryRead(() =>
      containersOf(extract(args.props)).map((c) => ({ name: c.name, image: c.image })),
    );
    if (read.unknown || read.value === undefined) {
      reportViolation(
        `Container images of ${args.name} are unknown during preview; digests must come from stack config.${fix(`set nova-rollout:apiImageDigest / workerImageDigest for stack ${stack}`)}`,
      );
      return;
    }
    for (const c of read.value) {
      const cname = typeof c.name === "string" ? c.name : "?";
      if (typeof c.image !== "string" || c.image.length === 0) {
        reportViolation(`Container "${cname}" of ${args.name} has no image.`);
        continue;
      }
      const ref = imageOf(c.image);
      if (ref.digest === undefined || !DIGEST_PATTERN.test(ref.digest)) {
        reportViolation(
          `Container "${cname}" of ${args.name} uses image ${c.image}, which is not pinned by digest; threshold: <registry>/<name>@sha256:<64 hex>.${fix("set the image digest in stack config (nova-rollout:apiImageDigest / workerImageDigest) instead of a tag")}`,
        );
      }
      if (allowed.length === 0) {
        reportViolation(
          `No registry allow-list for stack ${stack}: image ${c.image} cannot be checked.${fix(`pulumi config set nova-rollout:imageRegistry <registry/prefix> --stack ${stack}`)}`,
        );
      } else if (!allowed.some((prefix) => ref.repository.startsWith(`${prefix.replace(/\/+$/, "")}/`))) {
        reportViolation(
          `Container "${cname}" of ${args.name} pulls ${c.image} from a registry outside the allow-list [${allowed.join(", ")}].${fix("push the image to the release registry and reference it there")}`,
        );
      }
      const svc = serviceOfRepository(ref.name);
      if (svc !== undefined && ref.digest !== undefined) {
        if (settings === undefined) {
          reportViolation(
            `Cannot check the ${ref.name} digest of ${args.name}: the stack's expected digests are unknown (${ctx && !ctx.settings.ok ? ctx.settings.problems.join("; ") : "no stack"}).${fix(`set nova-rollout:${svc}ImageDigest for stack ${stack}`)}`,
          );
        } else if (ref.digest !== settings.digests[svc]) {
          reportViolation(
            `Container "${cname}" of ${args.name} runs ${ref.name}@${ref.digest}; the stack expects ${settings.digests[svc]}.${fix(`pulumi config set nova-rollout:${svc}ImageDigest <digest> --stack ${stack} and npm run preflight -- --stack ${stack}`)}`,
          );
        }
      }
    }
  },
};
