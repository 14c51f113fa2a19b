/**
 * The one evidence model shared by the preflight collector, the rollout CLI and the CrossGuard policy pack.
 *
 * A bundle (`<evidenceDir>/<stack>/<timestamp>-preflight.json`) records, for one stack and one release, every
 * readiness check computed from artifacts, each artifact's sha256, and the bundle's own content hash. Records
 * (freeze windows, leadership approvals, break-glass overrides) live under `<evidenceDir>/<stack>/records/`.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { DIGEST_PATTERN } from "../contract";
import { canonicalJson } from "../util/canonical-json";

/** Version of the bundle format; bump when a field changes meaning. */
export const BUNDLE_SCHEMA_VERSION = 2;

/** The check identifiers the collector produces, in report order. */
export const CHECK_IDS = [
  "coverage",
  "e2e-smoke",
  "billing-drill",
  "sample-data",
  "runbooks-updated",
  "status-updated",
  "todo-updated",
  "kubeconfig",
  "registry-digests",
  "registry-push",
  "staging-stack",
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex characters");
/** An image digest as Kubernetes and registries write it: `sha256:<64 hex>`. */
export const imageDigestSchema = z.string().regex(DIGEST_PATTERN, "must be sha256:<64 hex>");
const isoTimestamp = z.iso.datetime({ offset: true });
const stackName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9_.\-/]+$/, "must be a Pulumi stack name");

export const artifactRefSchema = z
  .object({
    /** Path relative to the project directory, with forward slashes. */
    path: z.string().min(1),
    sha256: sha256Hex,
  })
  .strict();
export type ArtifactRef = z.infer<typeof artifactRefSchema>;

export const verdictSchema = z.enum(["pass", "fail", "waived"]);
export type Verdict = z.infer<typeof verdictSchema>;

export const checkResultSchema = z
  .object({
    id: z.enum(CHECK_IDS),
    title: z.string().min(1),
    verdict: verdictSchema,
    /** What the collector found, e.g. `statements 59.0%`. */
    found: z.string(),
    /** What the check requires, e.g. `statements >= 60%`. */
    threshold: z.string(),
    artifact: artifactRefSchema.nullable(),
    /** The command that fixes a failure. */
    remedy: z.string().min(1),
  })
  .strict();
export type CheckResult = z.infer<typeof checkResultSchema>;

export const waiverSchema = z
  .object({
    checkId: z.enum(CHECK_IDS),
    /** The override record (path relative to the project directory) that waived the check. */
    overridePath: z.string().min(1),
    incidentCommander: z.string().min(1),
    expiresAt: isoTimestamp,
  })
  .strict();
export type Waiver = z.infer<typeof waiverSchema>;

export const digestsSchema = z.object({ api: imageDigestSchema, worker: imageDigestSchema }).strict();
export type ImageDigests = z.infer<typeof digestsSchema>;

/**
 * The thresholds and inputs the collector judged the checks with. The gate compares them with the committed
 * enforcement, so a bundle made with weaker options (`--min-branches 0`, another staging stack, an old release cut)
 * is blocked and the finding names the weakened threshold.
 */
export const judgedWithSchema = z
  .object({
    coverage: z
      .object({ statements: z.number(), branches: z.number(), functions: z.number(), lines: z.number() })
      .strict(),
    drillMaxAgeDays: z.number(),
    /** Maximum age in hours of the staging stack's newest successful update. */
    stagingMaxAgeHours: z.number(),
    /** Maximum age in days of the newest seed (sample-data) log. */
    sampleDataMaxAgeDays: z.number(),
    stagingStack: z.string().min(1),
    /** When the release was cut (docs must be updated after it); null when unknown (the docs checks fail). */
    releaseCut: isoTimestamp.nullable(),
    /** The registry the digests were checked in; null when not configured (the registry check fails). */
    imageRegistry: z.string().min(1).nullable(),
  })
  .strict();
export type JudgedWith = z.infer<typeof judgedWithSchema>;

/** The bundle body: everything except its own content hash. */
export const bundleBodySchema = z
  .object({
    schemaVersion: z.literal(BUNDLE_SCHEMA_VERSION),
    stack: stackName,
    project: z.string().min(1),
    /** The release id, i.e. the image tag. */
    release: z.string().min(1),
    imageDigests: digestsSchema,
    createdAt: isoTimestamp,
    judgedWith: judgedWithSchema,
    checks: z.array(checkResultSchema).min(1),
    waivers: z.array(waiverSchema),
    /** Who ran the preflight (a roster name); the approver of the release must be someone else. */
    ranBy: z.string().min(1).optional(),
  })
  .strict();
export type BundleBody = z.infer<typeof bundleBodySchema>;

export const bundleSchema = bundleBodySchema.extend({ contentSha256: sha256Hex }).strict();
export type EvidenceBundle = z.infer<typeof bundleSchema>;

/** Refinement of a record whose `end` timestamp must come strictly after its `start` timestamp. */
function endsAfter<S extends string, E extends string>(
  start: S,
  end: E,
): [check: (r: Readonly<Record<S | E, string>>) => boolean, params: { message: string; path: string[] }] {
  return [
    (r) => Date.parse(r[end]) > Date.parse(r[start]),
    { message: `${end} must be after ${start}`, path: [end] },
  ];
}

export const freezeRecordSchema = z
  .object({
    kind: z.literal("freeze"),
    stack: stackName,
    start: isoTimestamp,
    end: isoTimestamp,
    reason: z.string().min(1),
    declaredBy: z.string().min(1),
  })
  .strict()
  .refine(...endsAfter("start", "end"));
export type FreezeRecord = z.infer<typeof freezeRecordSchema>;

export const approvalRecordSchema = z
  .object({
    kind: z.literal("approval"),
    stack: stackName,
    release: z.string().min(1),
    approvedBy: z.string().min(1),
    /** Informational only: the role that counts is the approver's role in the committed roster. */
    role: z.string().min(1).optional(),
    /** Who will run the release (a roster name); must not be the approver. */
    deployer: z.string().min(1).optional(),
    /** The release's digests and the bundle's contentSha256 the approval is bound to (required in production). */
    imageDigests: digestsSchema.optional(),
    bundleSha256: sha256Hex.optional(),
    approvedAt: isoTimestamp,
    expiresAt: isoTimestamp,
  })
  .strict()
  .refine(...endsAfter("approvedAt", "expiresAt"));
export type ApprovalRecord = z.infer<typeof approvalRecordSchema>;

export const overrideRecordSchema = z
  .object({
    kind: z.literal("override"),
    stack: stackName,
    release: z.string().min(1),
    hotfix: z.literal(true),
    incidentCommander: z.string().min(1),
    reason: z.string().min(1),
    waivedChecks: z.array(z.enum(CHECK_IDS)).min(1),
    /** Who runs the hotfix release (a roster name); must not be the incident commander. */
    deployer: z.string().min(1).optional(),
    /** The release's digests and the bundle's contentSha256 the override is bound to (required in production). */
    imageDigests: digestsSchema.optional(),
    bundleSha256: sha256Hex.optional(),
    createdAt: isoTimestamp,
    expiresAt: isoTimestamp,
  })
  .strict();
export type OverrideRecord = z.infer<typeof overrideRecordSchema>;

/**
 * A rollback record: who restores which earlier release of a stack, why, and until when the record admits it. The
 * release is admitted by what admitted it then (the bundle named by `bundleSha256`, recorded in stack history), so
 * bundle freshness and the change freeze do not block it; the record itself is short-lived.
 */
export const rollbackRecordSchema = z
  .object({
    kind: z.literal("rollback"),
    stack: stackName,
    release: z.string().min(1),
    imageDigests: digestsSchema,
    /** contentSha256 of the bundle that admitted the release being restored. */
    bundleSha256: sha256Hex,
    /**
     * sha256 of the approval record that admitted the release being restored (from its admission in stack history).
     * Production requires it: the gate checks that this approval is still on file, signed by a leader and bound to
     * the same bundle and digests.
     */
    approvalSha256: sha256Hex.optional(),
    /** The history version of the update being restored. */
    targetVersion: z.number().int().min(1),
    reason: z.string().min(1),
    requestedBy: z.string().min(1),
    createdAt: isoTimestamp,
    expiresAt: isoTimestamp,
  })
  .strict()
  .refine(...endsAfter("createdAt", "expiresAt"));
export type RollbackRecord = z.infer<typeof rollbackRecordSchema>;

/**
 * An update request: the deployer named by the release's approval asks, with their own signature, to roll out exactly
 * this release (stack, release, both digests, bundle) now. The program guard requires one, recent and signed by the
 * approval's deployer, before a real update of a production stack, so the deployer is the identity the deploy itself
 * presents (a roster person's SSH key, or the CI identity's), not a name typed into the approval. Kept under
 * `records/update-requests/`.
 */
export const updateRequestRecordSchema = z
  .object({
    kind: z.literal("update-request"),
    stack: stackName,
    release: z.string().min(1),
    imageDigests: digestsSchema,
    /** contentSha256 of the signed bundle the release is rolled out with. */
    bundleSha256: sha256Hex,
    /** Who runs the update (a roster name); must be the approval's deployer and sign the request. */
    requestedBy: z.string().min(1),
    createdAt: isoTimestamp,
  })
  .strict();
export type UpdateRequestRecord = z.infer<typeof updateRequestRecordSchema>;

/** Checks no break-glass override can ever waive: the image digests in the registry and the staging proof. */
export const NEVER_WAIVABLE: readonly CheckId[] = ["registry-digests", "staging-stack"];

/** The longest a rollback record may admit a rollback, in hours. */
export const ROLLBACK_RECORD_MAX_HOURS = 2;

export type RecordKind = "freeze" | "approval" | "override" | "rollback";

/** A finding of the verifier: one reason the stack is not ready. */
export interface Finding {
  /** A check id, or one of the bundle-level ids (`bundle`, `fresh`, `stack`, `release`, `digests`). */
  readonly checkId: string;
  readonly message: string;
  /** The command that fixes it. */
  readonly remedy: string;
}

/** sha256 of bytes, lowercase hex. */
export function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The content hash of a bundle body (the canonical JSON of everything but `contentSha256`). */
export function bundleContentHash(body: BundleBody): string {
  return sha256(canonicalJson(body));
}

/** Seals a bundle body with its content hash. */
export function sealBundle(body: BundleBody): EvidenceBundle {
  const parsed = bundleBodySchema.parse(body);
  return { ...parsed, contentSha256: bundleContentHash(parsed) };
}

/** The exact bytes a bundle is written as; the verifier requires the file to be byte-identical to this. */
export function serializeBundle(bundle: EvidenceBundle): string {
  return canonicalJson(bundle);
}

/** Renders zod issues as one line per problem with its path. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
}
