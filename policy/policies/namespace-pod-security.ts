/**
 * nova-namespace-pod-security: every Namespace a production stack registers carries the Pod Security Admission label
 * `pod-security.kubernetes.io/enforce: restricted`, at the newest version of the standard (`enforce-version` unset or
 * `latest`; a pinned older version leaves out the checks added since). The pack refuses at preview what the
 * restricted standard refuses (nova-workload-safety); this label makes the API server refuse it too, whoever
 * creates the pod (`kubectl run`, a controller, a rollback by hand).
 *
 * Production follows the target, as in nova-workload-safety: a stack aimed at a protected target, or a protected
 * namespace, is judged whatever its `environment` label; other stacks when their label is listed in `environments`.
 */
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import { POD_SECURITY_LABELS, POLICY_NAMES, RELEASE_NAMESPACE_TYPES } from "../../src/contract";
import {
  environmentsSchemaProperty,
  fix,
  type LocationConfig,
  locationSchemaProperties,
  policyContext,
  tryRead,
} from "./common";
import { workloadScope } from "./workload-safety";

export interface NamespacePodSecurityConfig extends LocationConfig {
  readonly environments: readonly string[];
}

const configSchema: PolicyConfigSchema = {
  properties: {
    environments: environmentsSchemaProperty(
      "Stack environments (nova-rollout:environment) whose Namespaces must enforce the restricted Pod Security Standard; stacks aimed at a protected target always count as production.",
    ),
    ...locationSchemaProperties,
  },
};

const ENFORCE = "pod-security.kubernetes.io/enforce";
const ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version";

/** What is wrong with a namespace's labels for the restricted standard; empty when it enforces it at `latest`. */
export function podSecurityLabelProblems(labels: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  const enforce = labels[ENFORCE];
  if (enforce !== POD_SECURITY_LABELS[ENFORCE]) {
    out.push(
      `label ${ENFORCE} is ${JSON.stringify(enforce ?? "unset")}; set it to "restricted" (the API server then refuses pods that break the restricted Pod Security Standard)`,
    );
  }
  const version = labels[ENFORCE_VERSION];
  if (version !== undefined && version !== POD_SECURITY_LABELS[ENFORCE_VERSION]) {
    out.push(
      `label ${ENFORCE_VERSION} is ${JSON.stringify(version)}; set it to "latest" or remove it (a pinned version leaves out the checks added since)`,
    );
  }
  return out;
}

export const namespacePodSecurity: ResourceValidationPolicy = {
  name: POLICY_NAMES.namespacePodSecurity,
  description:
    "Requires every Namespace of a production stack to carry the label pod-security.kubernetes.io/enforce: restricted at the latest version, so the API server refuses pods that break the restricted Pod Security Standard.",
  enforcementLevel: "mandatory",
  configSchema,
  validateResource: (args, reportViolation) => {
    if (!(RELEASE_NAMESPACE_TYPES as readonly string[]).includes(args.type)) {
      return;
    }
    const { cfg, ctx } = policyContext<NamespacePodSecurityConfig>(args, configSchema);
    const props = args.props as Record<string, unknown>;
    // A Namespace's name is its metadata.name (else, unknown or auto-named, the Pulumi name).
    const metaName = tryRead(() => (props["metadata"] as { name?: unknown } | undefined)?.name).value;
    const name = typeof metaName === "string" ? metaName : args.name;
    const scope = workloadScope(ctx, cfg.environments, name);
    if (!scope.applies) {
      return;
    }
    const where = `Namespace ${name} (${scope.label})`;
    const componentFix = fix(
      "give the namespace the POD_SECURITY_LABELS of src/contract (components/release-namespace.ts does) and re-run pulumi preview",
    );
    const read = tryRead(() => {
      const metadata = props["metadata"];
      const labels =
        metadata !== null && typeof metadata === "object"
          ? (metadata as Record<string, unknown>)["labels"]
          : undefined;
      const out: Record<string, unknown> = {};
      if (labels !== null && typeof labels === "object") {
        for (const k of [ENFORCE, ENFORCE_VERSION]) {
          const v = (labels as Record<string, unknown>)[k];
          if (v !== undefined) out[k] = v;
        }
      }
      return out;
    });
    if (read.unknown || read.value === undefined) {
      reportViolation(
        `${where}: its labels are unknown during preview, so the Pod Security Admission level cannot be checked.${componentFix}`,
      );
      return;
    }
    const problems = podSecurityLabelProblems(read.value);
    if (problems.length > 0) {
      reportViolation(
        `${where}: ${problems.join("; ")}; threshold: pod-security.kubernetes.io/enforce: restricted at latest.${componentFix}`,
      );
    }
  },
};
