/**
 * The platform stack's config (namespace `nova-platform`): a zod schema, every problem reported at once, and the
 * typed {@link PlatformSettings} the program is built from. Values arrive as config text (`pulumi config set` stores
 * strings; lists are JSON) or typed values; both are accepted.
 */
import * as path from "node:path";
import { z } from "zod";
import { HOSTNAME_PATTERN, SECRET_KEYS } from "../src/contract";
import { boolean, fromJsonText, integer, nonEmpty } from "../src/config/values";
import { PLATFORM_CONFIG_NAMESPACE } from "../src/contract";
import { kebab } from "../src/util/text";

export const PLATFORM_ENVIRONMENTS = ["sandbox", "staging", "production"] as const;
export type PlatformEnvironment = (typeof PLATFORM_ENVIRONMENTS)[number];
export const PLATFORM_CLUSTER_MODES = ["kubeconfig", "gke"] as const;
export const RELEASE_CHANNELS = ["RAPID", "REGULAR", "STABLE"] as const;
export type ReleaseChannel = (typeof RELEASE_CHANNELS)[number];

const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
/** RFC 3339 UTC time, as GKE's recurring maintenance window takes it. */
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** A GCS bucket name (lowercase, digits, '-', '_', '.'; 3–63 characters; no "goog" prefix). */
const BUCKET_RE = /^(?!goog)[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;
/** An IAM member: `serviceAccount:…`, `user:…`, `group:…` or `principalSet://…`. */
const MEMBER_RE = /^(serviceAccount|user|group):[^\s@]+@[^\s@]+$|^principal(Set)?:\/\/\S+$/;
/** A GCP service account id: 6–30 characters, lowercase, starts with a letter. */
const ACCOUNT_ID_RE = /^[a-z]([-a-z0-9]{4,28}[a-z0-9])$/;

const list = <T extends z.ZodType<string>>(entry: T) =>
  z.preprocess(fromJsonText, z.array(entry, { error: 'expected a list of strings, e.g. ["a","b"]' }));

const dnsLabel = (what: string) =>
  z
    .string({ error: `expected ${what}` })
    .regex(DNS_LABEL_RE, { error: `expected ${what} (a DNS-1123 label)` });

const cidr = () =>
  z.string().refine(
    (v) => {
      const m = CIDR_RE.exec(v);
      return m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
    },
    { error: "expected an IPv4 CIDR block, e.g. 203.0.113.0/24" },
  );

const member = () =>
  z.string().regex(MEMBER_RE, {
    error: "expected an IAM member, e.g. serviceAccount:ci-rollout@PROJECT.iam.gserviceaccount.com",
  });

/** The raw platform config after parsing (before cross-key rules turn it into settings). */
export const platformConfigSchema = z
  .strictObject({
    environment: z.enum(PLATFORM_ENVIRONMENTS, { error: "expected sandbox, staging or production" }),
    clusterMode: z
      .enum(PLATFORM_CLUSTER_MODES, { error: "expected kubeconfig or gke" })
      .default("kubeconfig"),
    kubeconfigPath: nonEmpty("a kubeconfig file").optional(),
    kubeconfigContext: nonEmpty("a kubeconfig context").optional(),

    gcpProject: z
      .string()
      .regex(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, { error: "expected a GCP project id" })
      .optional(),
    gcpRegion: z
      .string()
      .regex(/^[a-z]+-[a-z]+[0-9]$/, { error: "expected a GCP region, e.g. us-central1" })
      .optional(),
    clusterName: dnsLabel("a cluster name").optional(),
    releaseChannel: z
      .enum(RELEASE_CHANNELS, { error: "expected RAPID, REGULAR or STABLE" })
      .default("REGULAR"),
    maintenanceStart: z
      .string()
      .regex(RFC3339_RE, { error: "expected an RFC 3339 UTC time, e.g. 2026-01-03T03:00:00Z" })
      .default("2026-01-03T03:00:00Z"),
    maintenanceEnd: z
      .string()
      .regex(RFC3339_RE, { error: "expected an RFC 3339 UTC time, e.g. 2026-01-03T07:00:00Z" })
      .default("2026-01-03T07:00:00Z"),
    maintenanceRecurrence: z
      .string()
      .regex(/^FREQ=(DAILY|WEEKLY)(;[A-Z]+=[A-Z0-9,]+)*$/, {
        error: "expected an RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=SA,SU",
      })
      .default("FREQ=WEEKLY;BYDAY=SA,SU"),
    masterCidr: cidr().default("172.16.0.0/28"),
    authorizedNetworks: list(cidr()).default([]),
    nodeMachineType: nonEmpty("a machine type").default("e2-standard-4"),
    nodeMinCount: integer(1, 100).default(1),
    nodeMaxCount: integer(1, 100).default(3),

    registryLocation: z
      .string()
      .regex(/^[a-z]+(-[a-z]+[0-9])?$/, { error: "expected an Artifact Registry location, e.g. us" })
      .default("us"),
    registryRepositories: list(dnsLabel("a repository id")).default(["nova"]),
    registryReaders: list(member()).default([]),
    registryWriters: list(member()).default([]),

    secretPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]*$/, { error: "expected letters, digits, '_' or '-'" })
      .default("nova-"),
    secretAccessors: list(member()).default([]),

    dumpBucket: z
      .string()
      .regex(BUCKET_RE, { error: "expected a bucket name (lowercase letters, digits, '-', '_', '.')" })
      .optional(),
    dumpBucketLocation: nonEmpty("a bucket location, e.g. US").default("US"),
    dumpRetentionDays: integer(1, 3650).default(30),
    dumpWriters: list(member()).default([]),

    apiHost: z
      .string()
      .regex(HOSTNAME_PATTERN, { error: "expected a fully qualified host name, e.g. api.nova-rms.example" })
      .optional(),

    namespace: dnsLabel("the release namespace"),
    workloadServiceAccount: dnsLabel("a Kubernetes service account name").default("nova-rms"),
    workloadGoogleAccount: z
      .string()
      .regex(ACCOUNT_ID_RE, { error: "expected a service account id (6–30 characters, a-z, 0-9, '-')" })
      .default("nova-rms-workload"),

    protect: boolean().default(true),
  })
  .superRefine((c, ctx) => {
    const need = (key: keyof typeof c, why: string) => {
      if (c[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: `required ${why}` });
    };
    if (c.clusterMode === "kubeconfig") {
      need("kubeconfigPath", "with clusterMode kubeconfig");
      need("kubeconfigContext", "with clusterMode kubeconfig");
    } else {
      for (const key of ["gcpProject", "gcpRegion", "clusterName", "dumpBucket", "apiHost"] as const) {
        need(key, "with clusterMode gke");
      }
      if (c.nodeMaxCount < c.nodeMinCount) {
        ctx.addIssue({ code: "custom", path: ["nodeMaxCount"], message: "must be ≥ nodeMinCount" });
      }
      if (c.maintenanceEnd <= c.maintenanceStart) {
        ctx.addIssue({ code: "custom", path: ["maintenanceEnd"], message: "must be after maintenanceStart" });
      }
    }
    if (c.environment === "production" && !c.protect) {
      ctx.addIssue({
        code: "custom",
        path: ["protect"],
        message: "production platform resources are always protected (remove the key or set it to true)",
      });
    }
  });

export type RawPlatformConfig = z.output<typeof platformConfigSchema>;

/** One problem in the platform config: the full key and what is expected there. */
export interface PlatformConfigProblem {
  readonly key: string;
  readonly message: string;
}

/** Thrown for a malformed platform config; its message names every problem, one per line, and how to fix them. */
export class PlatformConfigError extends Error {
  override readonly name = "PlatformConfigError";
  constructor(
    readonly stackName: string,
    readonly problems: readonly PlatformConfigProblem[],
  ) {
    const noun = problems.length === 1 ? "problem" : "problems";
    super(
      [
        `Platform config of "${stackName}" has ${problems.length} ${noun}:`,
        ...problems.map((p) => `  - ${p.key}: ${p.message}`),
        `Fix each with \`pulumi config set <key> <value> --stack ${stackName}\` in platform/, then run again.`,
      ].join("\n"),
    );
  }
}

/** The Secret Manager secret id of one application secret: the same name the release's `AppSecrets` reads. */
export function secretIdOf(prefix: string, key: string): string {
  return `${prefix}${kebab(key)}`;
}

/** What the GKE parts of the platform are built from. */
export interface GkeSettings {
  readonly project: string;
  readonly region: string;
  readonly clusterName: string;
  readonly releaseChannel: ReleaseChannel;
  readonly maintenance: { readonly startTime: string; readonly endTime: string; readonly recurrence: string };
  readonly masterCidr: string;
  readonly authorizedNetworks: readonly string[];
  readonly nodes: { readonly machineType: string; readonly minCount: number; readonly maxCount: number };
  readonly registry: {
    readonly location: string;
    readonly repositories: readonly string[];
    /** Who pulls or reads digests besides the nodes (the release deployer). */
    readonly readers: readonly string[];
    readonly writers: readonly string[];
  };
  readonly secrets: {
    readonly prefix: string;
    /** Secret Manager secret ids by application secret key. */
    readonly ids: Readonly<Record<string, string>>;
    readonly accessors: readonly string[];
  };
  readonly dump: {
    readonly bucket: string;
    readonly location: string;
    readonly retentionDays: number;
    readonly writers: readonly string[];
  };
  readonly apiHost: string;
  readonly workloadGoogleAccount: string;
}

/** The validated platform settings. */
export interface PlatformSettings {
  readonly stack: string;
  readonly environment: PlatformEnvironment;
  readonly namespace: string;
  readonly workloadServiceAccount: string;
  readonly protect: boolean;
  readonly cluster:
    | { readonly mode: "kubeconfig"; readonly kubeconfigPath: string; readonly context: string }
    | ({ readonly mode: "gke" } & GkeSettings);
}

/** Keeps the `nova-platform:` keys of a flat config map, without the namespace. */
export function platformKeys(flat: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const prefix = `${PLATFORM_CONFIG_NAMESPACE}:`;
  for (const [key, value] of Object.entries(flat)) {
    if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
  }
  return out;
}

/**
 * Validates the platform config (the `nova-platform:` keys) and returns typed settings; throws
 * {@link PlatformConfigError} naming every bad key. Relative kubeconfig paths resolve against `projectDir`.
 */
export function parsePlatformSettings(
  raw: Readonly<Record<string, unknown>>,
  options: { readonly stack: string; readonly projectDir: string },
): PlatformSettings {
  const present = Object.fromEntries(
    Object.entries(raw).filter(([, v]) => v !== undefined && !(typeof v === "string" && v.trim() === "")),
  );
  const result = platformConfigSchema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue): PlatformConfigProblem[] => {
      if (issue.code === "unrecognized_keys") {
        return issue.keys.map((k) => ({
          key: `${PLATFORM_CONFIG_NAMESPACE}:${k}`,
          message: "unknown key (check the spelling)",
        }));
      }
      const [head, ...rest] = issue.path.map(String);
      const key = head === undefined ? PLATFORM_CONFIG_NAMESPACE : `${PLATFORM_CONFIG_NAMESPACE}:${head}`;
      const where = rest.length > 0 ? `[${rest.join("][")}] ` : "";
      const message =
        issue.code === "invalid_type" && issue.input === undefined ? "required, but not set" : issue.message;
      return [{ key, message: `${where}${message}` }];
    });
    throw new PlatformConfigError(options.stack, problems);
  }
  return toSettings(result.data, options);
}

function toSettings(c: RawPlatformConfig, options: { stack: string; projectDir: string }): PlatformSettings {
  const req = <T>(value: T | undefined): T => value as T; // presence is guaranteed by the schema's refinements
  const common = {
    stack: options.stack,
    environment: c.environment,
    namespace: c.namespace,
    workloadServiceAccount: c.workloadServiceAccount,
    protect: c.protect,
  };
  if (c.clusterMode === "kubeconfig") {
    const file = req(c.kubeconfigPath);
    return {
      ...common,
      cluster: {
        mode: "kubeconfig",
        kubeconfigPath: path.isAbsolute(file) ? file : path.resolve(options.projectDir, file),
        context: req(c.kubeconfigContext),
      },
    };
  }
  return {
    ...common,
    cluster: {
      mode: "gke",
      project: req(c.gcpProject),
      region: req(c.gcpRegion),
      clusterName: req(c.clusterName),
      releaseChannel: c.releaseChannel,
      maintenance: {
        startTime: c.maintenanceStart,
        endTime: c.maintenanceEnd,
        recurrence: c.maintenanceRecurrence,
      },
      masterCidr: c.masterCidr,
      authorizedNetworks: c.authorizedNetworks,
      nodes: { machineType: c.nodeMachineType, minCount: c.nodeMinCount, maxCount: c.nodeMaxCount },
      registry: {
        location: c.registryLocation,
        repositories: c.registryRepositories,
        readers: c.registryReaders,
        writers: c.registryWriters,
      },
      secrets: {
        prefix: c.secretPrefix,
        ids: Object.fromEntries(SECRET_KEYS.map((k) => [k, secretIdOf(c.secretPrefix, k)])),
        accessors: c.secretAccessors,
      },
      dump: {
        bucket: req(c.dumpBucket),
        location: c.dumpBucketLocation,
        retentionDays: c.dumpRetentionDays,
        writers: c.dumpWriters,
      },
      apiHost: req(c.apiHost),
      workloadGoogleAccount: c.workloadGoogleAccount,
    },
  };
}
