/**
 * nova-platform-cluster-marker: the marker the release gate reads to recognise the cluster (`CLUSTER_MARKER`) says
 * sandbox, staging or production, and whoever may read it may do nothing else: its Role grants only `get` on that
 * one ConfigMap, and its RoleBinding binds that Role to the authenticated users only (never `system:unauthenticated`
 * or a wider role).
 */
import { type ResourceValidationArgs } from "@pulumi/policy";
import { CLUSTER_MARKER } from "../../../src/contract";
import { platformPolicy, read, show, UNKNOWN_VALUE } from "./common";

const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
export const MARKER_ENVIRONMENTS = ["sandbox", "staging", "production"] as const;
const READER = `${CLUSTER_MARKER.name}-reader`;

function isMarkerObject(args: ResourceValidationArgs, name: string): boolean {
  return (
    read(args.props, "metadata", "namespace") === CLUSTER_MARKER.namespace &&
    read(args.props, "metadata", "name") === name
  );
}

/** Every problem with the marker, its Role or its RoleBinding; empty for anything else. */
export function markerProblems(args: ResourceValidationArgs): string[] {
  const out: string[] = [];
  if (args.type === CONFIG_MAP && isMarkerObject(args, CLUSTER_MARKER.name)) {
    const env = read(args.props, "data", CLUSTER_MARKER.environmentKey);
    if (typeof env !== "string" || !(MARKER_ENVIRONMENTS as readonly string[]).includes(env)) {
      out.push(
        `data.${CLUSTER_MARKER.environmentKey} is ${show(env)}; it must be sandbox, staging or production`,
      );
    }
  } else if (args.type === ROLE && isMarkerObject(args, READER)) {
    const rules = read(args.props, "rules");
    const ok =
      Array.isArray(rules) &&
      rules.length > 0 &&
      rules.every((r: unknown) => {
        const verbs = read(r, "verbs");
        const resources = read(r, "resources");
        const names = read(r, "resourceNames");
        return (
          JSON.stringify(verbs) === JSON.stringify(["get"]) &&
          JSON.stringify(resources) === JSON.stringify(["configmaps"]) &&
          JSON.stringify(names) === JSON.stringify([CLUSTER_MARKER.name])
        );
      });
    if (rules !== UNKNOWN_VALUE && !ok) {
      out.push(
        `rules are ${show(rules)}; the reader Role grants only get on configmaps/${CLUSTER_MARKER.name}`,
      );
    }
  } else if (args.type === ROLE_BINDING && isMarkerObject(args, READER)) {
    const kind = read(args.props, "roleRef", "kind");
    const subjects = read(args.props, "subjects");
    if (kind !== "Role")
      out.push(`roleRef.kind is ${show(kind)}; bind the marker's reader Role, not a ClusterRole`);
    const allowed =
      Array.isArray(subjects) &&
      subjects.every(
        (s: unknown) => read(s, "kind") === "Group" && read(s, "name") === "system:authenticated",
      );
    if (subjects !== UNKNOWN_VALUE && !allowed) {
      out.push(`subjects are ${show(subjects)}; only the group system:authenticated may read the marker`);
    }
  }
  return out;
}

export const clusterMarker = platformPolicy({
  name: "nova-platform-cluster-marker",
  description:
    "Requires the cluster marker to name the cluster's environment (sandbox, staging or production) and its readers to get only that one ConfigMap, as authenticated users.",
  types: [CONFIG_MAP, ROLE, ROLE_BINDING],
  label: (args) =>
    `${String(args.type.split(":").pop())} ${CLUSTER_MARKER.namespace}/${String(read(args.props, "metadata", "name"))}`,
  problems: markerProblems,
  fix: "restore platform/components/cluster-marker.ts and re-run pulumi preview in platform/.",
});
