/**
 * nova-platform-iam-grants: the platform grants access one member at a time (`*IamMember`), on one resource, with
 * the one role that resource needs: Secret Manager secrets only `secretAccessor`, the dump bucket only
 * `objectCreator` (create, no read, no delete), registries reader or writer, the workloads' Google account only
 * `workloadIdentityUser` for one Kubernetes service account, the project only the nodes' agent role. No grant goes
 * to `allUsers` or `allAuthenticatedUsers`, and no authoritative binding or policy replaces grants made elsewhere.
 */
import { type PolicyConfigSchema, type ResourceValidationArgs } from "@pulumi/policy";
import { platformPolicy, read, show, UNKNOWN_VALUE } from "./common";

/** The IAM member resource types the platform registers, and the roles each may grant. */
export const DEFAULT_ALLOWED_ROLES: Readonly<Record<string, readonly string[]>> = {
  "gcp:secretmanager/secretIamMember:SecretIamMember": ["roles/secretmanager.secretAccessor"],
  "gcp:storage/bucketIAMMember:BucketIAMMember": ["roles/storage.objectCreator"],
  "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": [
    "roles/artifactregistry.reader",
    "roles/artifactregistry.writer",
  ],
  "gcp:serviceaccount/iAMMember:IAMMember": ["roles/iam.workloadIdentityUser"],
  "gcp:projects/iAMMember:IAMMember": ["roles/container.defaultNodeServiceAccount"],
};

const PUBLIC_MEMBERS = ["allUsers", "allAuthenticatedUsers"];
/** A Workload Identity principal for exactly one Kubernetes service account (no wildcard). */
const WORKLOAD_PRINCIPAL_RE =
  /^serviceAccount:[a-z][-a-z0-9]{4,28}[a-z0-9]\.svc\.id\.goog\[[a-z0-9-]+\/[a-z0-9-]+\]$/;

export interface IamGrantsConfig {
  readonly allowedRoles: Readonly<Record<string, readonly string[]>>;
}

const configSchema: PolicyConfigSchema = {
  properties: {
    allowedRoles: {
      type: "object",
      additionalProperties: { type: "array", items: { type: "string" } },
      default: DEFAULT_ALLOWED_ROLES,
      description: "IAM member resource types the platform may register, and the roles each may grant.",
    },
  },
};

/** Whether a type token is a GCP IAM resource (member, binding or policy). */
export function isIamType(type: string): boolean {
  return /^gcp:[^:]+:[A-Za-z]*(Iam|IAM)(Member|Binding|Policy)$/.test(type);
}

/** Every problem with an IAM resource's props; empty when the grant is one the platform may make. */
export function iamProblems(args: ResourceValidationArgs, cfg: IamGrantsConfig): string[] {
  const out: string[] = [];
  const members = [read(args.props, "member"), read(args.props, "members")].flat();
  const policyData = read(args.props, "policyData");
  const named = members.filter((m): m is string => typeof m === "string");
  const text = typeof policyData === "string" ? policyData : "";
  const publicOnes = PUBLIC_MEMBERS.filter((p) => named.includes(p) || text.includes(`"${p}"`));
  if (publicOnes.length > 0) {
    out.push(`grants to ${publicOnes.join(" and ")}; platform resources are never public`);
  }
  const roles = cfg.allowedRoles[args.type];
  if (roles === undefined) {
    out.push(
      `${args.type} is not a grant the platform makes; grant one member one role with a *IamMember resource (an authoritative binding or policy removes grants made elsewhere)`,
    );
    return out;
  }
  const role = read(args.props, "role");
  if (role !== UNKNOWN_VALUE && (typeof role !== "string" || !roles.includes(role))) {
    out.push(`role is ${show(role)}; this resource may grant only ${roles.join(" or ")}`);
  }
  const member = read(args.props, "member");
  if (
    args.type === "gcp:serviceaccount/iAMMember:IAMMember" &&
    member !== UNKNOWN_VALUE &&
    (typeof member !== "string" || !WORKLOAD_PRINCIPAL_RE.test(member))
  ) {
    out.push(
      `member is ${show(member)}; workloadIdentityUser goes only to one Kubernetes service account, serviceAccount:<project>.svc.id.goog[<namespace>/<name>]`,
    );
  }
  return out;
}

export const iamGrants = platformPolicy<IamGrantsConfig>({
  name: "nova-platform-iam-grants",
  description:
    "Requires every IAM grant of the platform to give one member one allowed role on one resource (Secret Manager: secretAccessor only), never to allUsers or allAuthenticatedUsers, and never through an authoritative binding or policy.",
  configSchema,
  // The IAM types are open-ended (every GCP service has its own): judged by pattern, not by a list.
  types: isIamType,
  label: (args) => `IAM grant ${args.name} (${args.type})`,
  problems: iamProblems,
  fix: "grant through the platform components (platform/components) with the role they use, to a named member, and re-run pulumi preview in platform/.",
});
