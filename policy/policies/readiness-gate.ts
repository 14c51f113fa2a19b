/**
 * nova-readiness-gate: the first resources of a rollout (the root stack, the Kubernetes provider, the GKE cluster and
 * the namespace carrying the release record) are only touched when the newest preflight bundle of this stack is fresh,
 * bound to the release and digests the stack deploys, its artifacts are unchanged and every check passed.
 */
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import {
  type ExpectedRelease,
  type ImageDigests,
  imageDigestSchema,
  preflightRemedy,
  projectFileReader,
  readNewestBundle,
  readRecords,
  verifyReadiness,
} from "../../src/evidence";
import { ANNOTATIONS, fix, locationSchemaProperties, policyRuntime, tryRead } from "./common";
import { type GatedConfig, gatedContext, gatedTypesSchemaProperty } from "./gate-support";

export interface ReadinessGateConfig extends GatedConfig {
  readonly maxAgeHours: number;
}

const configSchema: PolicyConfigSchema = {
  properties: {
    maxAgeHours: {
      type: "number",
      minimum: 0,
      default: 24,
      description: "Maximum age of the preflight bundle in hours.",
    },
    gatedTypes: gatedTypesSchemaProperty,
    ...locationSchemaProperties,
  },
};

/** Reads the release record annotations of a Namespace's inputs. */
export function releaseRecordOf(props: Record<string, unknown>): {
  expected?: ExpectedRelease & { environment?: string };
  problems: string[];
} {
  const read = tryRead(() => {
    const metadata = props["metadata"] as { annotations?: Record<string, unknown> } | undefined;
    const a = metadata?.annotations ?? {};
    return {
      release: a[ANNOTATIONS.release],
      api: a[ANNOTATIONS.apiDigest],
      worker: a[ANNOTATIONS.workerDigest],
      environment: a[ANNOTATIONS.environment],
    };
  });
  if (read.unknown || read.value === undefined) {
    return {
      problems: [
        "the release record annotations are unknown during preview; they must come from stack config",
      ],
    };
  }
  const v = read.value;
  const problems: string[] = [];
  if (typeof v.release !== "string" || v.release.length === 0) {
    problems.push(`annotation ${ANNOTATIONS.release} is missing`);
  }
  for (const [key, value] of [
    [ANNOTATIONS.apiDigest, v.api],
    [ANNOTATIONS.workerDigest, v.worker],
  ] as const) {
    if (!imageDigestSchema.safeParse(value).success) {
      problems.push(
        `annotation ${key} must be sha256:<64 hex> (found ${typeof value === "string" ? value : "nothing"})`,
      );
    }
  }
  if (problems.length > 0) {
    return { problems };
  }
  return {
    problems,
    expected: {
      stack: "",
      release: v.release as string,
      digests: { api: v.api, worker: v.worker } as ImageDigests,
      environment: typeof v.environment === "string" ? v.environment : undefined,
    },
  };
}

export const readinessGate: ResourceValidationPolicy = {
  name: "nova-readiness-gate",
  description:
    "Blocks the first resources of a rollout unless a fresh preflight evidence bundle for this stack, bound to the same release and image digests, with unchanged artifacts and every check passed, is on file.",
  enforcementLevel: "mandatory",
  configSchema,
  validateResource: (args, reportViolation) => {
    const gated = gatedContext<ReadinessGateConfig>(args, configSchema, reportViolation, "the gate");
    if (gated === undefined) {
      return;
    }
    const { cfg, ctx } = gated;
    const remedy = preflightRemedy(ctx.stack);
    let expected: ExpectedRelease | undefined;
    if (ctx.settings.ok) {
      expected = {
        stack: ctx.stack,
        release: ctx.settings.settings.release,
        digests: ctx.settings.settings.digests,
      };
    }
    if (args.type === "kubernetes:core/v1:Namespace") {
      const record = releaseRecordOf(args.props);
      for (const p of record.problems) {
        reportViolation(
          `Namespace release record is incomplete: ${p}; threshold: release, api-digest and worker-digest annotations set from stack config.${fix("set nova-rollout:imageTag / apiImageDigest / workerImageDigest and re-run pulumi preview")}`,
        );
      }
      if (record.expected !== undefined) {
        if (expected === undefined) {
          expected = { ...record.expected, stack: ctx.stack };
        } else {
          const rec = record.expected;
          if (
            rec.release !== expected.release ||
            rec.digests.api !== expected.digests.api ||
            rec.digests.worker !== expected.digests.worker
          ) {
            reportViolation(
              `Namespace release record (release ${rec.release}, api ${rec.digests.api}, worker ${rec.digests.worker}) differs from the stack config (release ${expected.release}, api ${expected.digests.api}, worker ${expected.digests.worker}).${fix("rebuild (npm run build) so the program and Pulumi." + ctx.stack + ".yaml agree")}`,
            );
          }
        }
      }
    }
    if (expected === undefined) {
      const problems = ctx.settings.ok ? [] : ctx.settings.problems;
      reportViolation(
        `Cannot determine the release this stack deploys (${problems.join("; ")}); the gate fails closed.${fix(`pulumi config set nova-rollout:imageTag <tag> --stack ${ctx.stack} and the digests, then ${remedy}`)}`,
      );
      return;
    }
    const now = policyRuntime().now();
    const records = readRecords(ctx.evidenceDir, ctx.stack);
    const findings = verifyReadiness({
      bundle: readNewestBundle(ctx.evidenceDir, ctx.stack),
      expected,
      now,
      maxAgeHours: cfg.maxAgeHours,
      override: records.overrides,
      readFile: projectFileReader(ctx.projectDir ?? process.cwd()),
    });
    for (const f of findings) {
      reportViolation(`Readiness gate [${f.checkId}]: ${f.message}${fix(f.remedy)}`);
    }
  },
};
