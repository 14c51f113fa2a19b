/**
 * nova-readiness-gate: the first resources of a rollout (the root stack, the Kubernetes provider, the GKE cluster and
 * the namespace carrying the release record) are only touched when the newest preflight bundle of this stack is fresh,
 * bound to the release and digests the stack deploys, its artifacts are unchanged and every check passed. For a
 * production stack the bundle must also have been judged with the committed thresholds (`src/evidence/gate.ts`).
 */
import * as path from "node:path";
import { type PolicyConfigSchema, type ResourceValidationArgs } from "@pulumi/policy";
import {
  type ExpectedRelease,
  type ImageDigests,
  imageDigestSchema,
  isSandboxPath,
  readinessFindings,
  readRosterSource,
  type RosterSource,
} from "../../src/evidence";
import {
  DEFAULT_GATE_THRESHOLDS,
  RELEASE_ANNOTATIONS as ANNOTATIONS,
  POLICY_NAMES,
  RELEASE_NAMESPACE_TYPES,
} from "../../src/contract";
import { fix, locationSchemaProperties, type StackContext, tryRead } from "./common";
import { type GatedConfig, gatePolicy, gatedTypesSchemaProperty } from "./gate-support";

export interface ReadinessGateConfig extends GatedConfig {
  readonly maxAgeHours: number;
  readonly trustRoster?: string;
}

const configSchema: PolicyConfigSchema = {
  properties: {
    maxAgeHours: {
      type: "number",
      minimum: 0,
      default: DEFAULT_GATE_THRESHOLDS.maxAgeHours,
      description: "Maximum age of the preflight bundle in hours.",
    },
    coverage: {
      type: "object",
      description:
        "Coverage thresholds in percent (statements, branches, functions, lines) a production bundle must have been judged with.",
    },
    drillMaxAgeDays: {
      type: "number",
      description: "Maximum billing-drill age in days a production bundle must have been judged with.",
    },
    stagingMaxAgeHours: {
      type: "number",
      description:
        "Maximum age in hours of the staging stack's newest successful update a production bundle must have been judged with.",
    },
    sampleDataMaxAgeDays: {
      type: "number",
      description:
        "Maximum seed-log (sample-data) age in days a production bundle must have been judged with.",
    },
    stagingStack: {
      type: "string",
      description: "The staging stack a production bundle must have been judged against.",
    },
    releaseCutMaxAgeDays: {
      type: "number",
      description: "How many days before the preflight the release cut may lie.",
    },
    trustRoster: {
      type: "string",
      description:
        "The trust roster (people with roles and SSH keys, preflight signing keys), relative to the project directory. Production trusts only the committed roster of policy/config/production.json; the sandbox enforcement names the sandbox's own roster (.sandbox/trust/roster.json, throwaway keys made by npm run sandbox:up), and a sandbox stack's bundle must then be signed by one of its preflight keys.",
    },
    rollbackRoles: {
      type: "array",
      items: { type: "string" },
      description:
        "Roster roles that may request a production rollback (on-call/SRE, incident commander, release manager, leadership); read from the committed production config.",
    },
    updateRequestMaxAgeMinutes: {
      type: "number",
      description:
        "How old the deployer's signed update request may be when a real production update starts, in minutes; read from the committed production config.",
    },
    gatedTypes: gatedTypesSchemaProperty,
    ...locationSchemaProperties,
  },
};

/** The sandbox roster the config names: only a roster inside `.sandbox/` (production's is never read from here). */
function sandboxRosterOf(
  projectDir: string,
  configured: string | undefined,
): { sandboxRoster?: RosterSource } {
  if (configured === undefined || !isSandboxPath(projectDir, configured)) return {};
  return { sandboxRoster: readRosterSource(path.resolve(projectDir, configured)) };
}

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

/** The namespace's own problems: its release record incomplete, or not the release the stack config names. */
function releaseRecordLines(args: ResourceValidationArgs, ctx: StackContext): string[] {
  if (!(RELEASE_NAMESPACE_TYPES as readonly string[]).includes(args.type)) return [];
  const lines: string[] = [];
  const record = releaseRecordOf(args.props);
  for (const p of record.problems) {
    lines.push(
      `Namespace release record is incomplete: ${p}; threshold: release, api-digest and worker-digest annotations set from stack config.${fix("set nova-rollout:imageTag / apiImageDigest / workerImageDigest and re-run pulumi preview")}`,
    );
  }
  const rec = record.expected;
  if (rec !== undefined && ctx.settings.ok) {
    const expected = ctx.settings.settings;
    if (
      rec.release !== expected.release ||
      rec.digests.api !== expected.digests.api ||
      rec.digests.worker !== expected.digests.worker
    ) {
      lines.push(
        `Namespace release record (release ${rec.release}, api ${rec.digests.api}, worker ${rec.digests.worker}) differs from the stack config (release ${expected.release}, api ${expected.digests.api}, worker ${expected.digests.worker}).${fix("rebuild (npm run build) so the program and Pulumi." + ctx.stack + ".yaml agree")}`,
      );
    }
  }
  return lines;
}

export const readinessGate = gatePolicy<ReadinessGateConfig>({
  name: POLICY_NAMES.readinessGate,
  description:
    "Blocks the first resources of a rollout unless a fresh preflight evidence bundle for this stack, bound to the same release and image digests, judged with the committed thresholds, with unchanged artifacts and every check passed, is on file.",
  enforcementLevel: "mandatory",
  configSchema,
  section: {
    check: "the gate",
    restore: "restore policy/config/production.json from the repository",
    knobs: (cfg, input) => ({
      maxAgeHours: cfg.maxAgeHours,
      ...sandboxRosterOf(input.projectDir, cfg.trustRoster),
    }),
    findings: (input) => readinessFindings(input),
    format: (f) => `Readiness gate [${f.checkId}]: ${f.message}${fix(f.remedy)}`,
    resourceLines: releaseRecordLines,
  },
});
