/**
 * nova-platform-workload-namespace: the release namespace the platform owns enforces the restricted Pod Security
 * Standard at its latest version (the API server refuses a pod that breaks it, whoever creates it), and the workloads'
 * service account mounts no API token unless a pod asks for one.
 */
import { type ResourceValidationArgs } from "@pulumi/policy";
import { POD_SECURITY_LABELS } from "../../../src/contract";
import { nameOf, platformPolicy, read, show, UNKNOWN_VALUE } from "./common";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount";
const ENFORCE = "pod-security.kubernetes.io/enforce";
const ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version";

/** Every problem with the namespace's labels or the service account; empty when both keep the baseline. */
export function workloadNamespaceProblems(args: ResourceValidationArgs): string[] {
  const out: string[] = [];
  if (args.type === NAMESPACE) {
    const enforce = read(args.props, "metadata", "labels", ENFORCE);
    if (enforce !== UNKNOWN_VALUE && enforce !== POD_SECURITY_LABELS[ENFORCE]) {
      out.push(`label ${ENFORCE} is ${show(enforce)}; set it to "restricted"`);
    }
    const version = read(args.props, "metadata", "labels", ENFORCE_VERSION);
    if (
      version !== undefined &&
      version !== UNKNOWN_VALUE &&
      version !== POD_SECURITY_LABELS[ENFORCE_VERSION]
    ) {
      out.push(`label ${ENFORCE_VERSION} is ${show(version)}; set it to "latest" or remove it`);
    }
  } else if (args.type === SERVICE_ACCOUNT) {
    const automount = read(args.props, "automountServiceAccountToken");
    if (automount !== false && automount !== UNKNOWN_VALUE) {
      out.push(`automountServiceAccountToken is ${show(automount)}; set it to false`);
    }
  }
  return out;
}

export const workloadNamespace = platformPolicy({
  name: "nova-platform-workload-namespace",
  description:
    "Requires the platform's namespaces to enforce the restricted Pod Security Standard at its latest version, and its service accounts not to mount an API token by default.",
  types: [NAMESPACE, SERVICE_ACCOUNT],
  label: (args) =>
    `${args.type === NAMESPACE ? "Namespace" : "ServiceAccount"} ${nameOf(args, "metadata", "name")}`,
  problems: workloadNamespaceProblems,
  fix: "restore platform/components/workload-identity.ts (POD_SECURITY_LABELS, automountServiceAccountToken: false) and re-run pulumi preview in platform/.",
});
