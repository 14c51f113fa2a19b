/**
 * nova-api-route (resource policy, before anything changes): a production stack's post-deploy verification judges the
 * API where this stack routes users to it. On the gated types, a production stack must configure the API's public
 * entry (`nova-rollout:apiIngress`: the GKE load balancer on the platform stack's static address and managed
 * certificate), since its verification probes the API through that route; a stack in scope that configures one must
 * name that host in `nova-rollout:apiBaseUrl`. On every Ingress the stack renders that sends traffic to the API's
 * Service, the rules must serve the `apiBaseUrl` host. Either way a verification that would probe an address this
 * stack does not serve is refused. Production follows the target (`workloadScope`); sandbox and staging stacks may
 * serve no public entry.
 */
import { type PolicyConfigSchema, type ResourceValidationPolicy } from "@pulumi/policy";
import { apiIngressSetCommand, POLICY_NAMES } from "../../src/contract";
import { hostOf } from "../../src/util/url";
import {
  environmentsSchemaProperty,
  fix,
  type LocationConfig,
  locationSchemaProperties,
  policyContext,
  reportOnce,
  tryRead,
} from "./common";
import { gatedTypesSchemaProperty } from "./gate-support";
import { objectRef, workloadScope } from "./workload-safety";

export interface ApiRouteConfig extends LocationConfig {
  readonly environments: readonly string[];
  readonly gatedTypes: readonly string[];
  /** The API's Service name in the chart: an Ingress with a backend on it is the API's route. */
  readonly apiService: string;
}

const configSchema: PolicyConfigSchema = {
  properties: {
    environments: environmentsSchemaProperty(
      "Stack environments (nova-rollout:environment) the rule applies to; stacks aimed at a protected target always count as production.",
    ),
    gatedTypes: gatedTypesSchemaProperty,
    apiService: {
      type: "string",
      default: "nova-api",
      description: "The API's Service: an Ingress with a backend on it is the API's route.",
    },
    ...locationSchemaProperties,
  },
};

const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {};
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The hosts of an Ingress's rules and whether any of its backends is the named Service. */
export function ingressRoute(props: Obj, service: string): { hosts: string[]; routesTo: boolean } {
  const spec = asObj(props["spec"]);
  const backendIs = (b: unknown) => asObj(asObj(b)["service"])["name"] === service;
  const rules = asList(spec["rules"]).map(asObj);
  const paths = rules.flatMap((r) => asList(asObj(r["http"])["paths"]).map(asObj));
  return {
    hosts: rules.flatMap((r) => (typeof r["host"] === "string" ? [r["host"].toLowerCase()] : [])),
    routesTo: backendIs(spec["defaultBackend"]) || paths.some((p) => backendIs(p["backend"])),
  };
}

const HOW_BASE_URL = (host: string) =>
  `pulumi config set nova-rollout:apiBaseUrl https://${host} (the host the API's Ingress serves), then re-run pulumi preview`;

const HOW_INGRESS = (host: string | undefined) =>
  `${apiIngressSetCommand(host)} (the platform stack's static address and managed certificate), then re-run pulumi preview`;

export const apiRoute: ResourceValidationPolicy = {
  name: POLICY_NAMES.apiRoute,
  description:
    "Requires a production stack's post-deploy verification to reach the API through the route the stack serves: a production stack configures the API's public entry (nova-rollout:apiIngress), and nova-rollout:apiBaseUrl names the host of the API's Ingress.",
  enforcementLevel: "mandatory",
  configSchema,
  validateResource: (args, reportViolation) => {
    const { cfg, ctx } = policyContext<ApiRouteConfig>(args, configSchema);
    const gated = cfg.gatedTypes.includes(args.type);
    if (!gated && args.type !== INGRESS) return;
    if (ctx === undefined) {
      reportViolation(`Cannot read the stack name from URN ${args.urn}; the API route policy fails closed.`);
      return;
    }
    const settings = ctx.settings.ok ? ctx.settings.settings : undefined;
    const props = args.props as Obj;
    const { ref, namespace } = objectRef("Ingress", props, args.name);
    const scope = workloadScope(ctx, cfg.environments, gated ? settings?.namespace : namespace);
    if (!scope.applies) return;
    const baseHost = hostOf(settings?.apiBaseUrl);

    if (gated) {
      const lines: string[] = [];
      const entry = settings?.apiIngressHost;
      if (settings === undefined) {
        lines.push(
          `Cannot read the API address of stack ${ctx.stack} (${scope.label}); the API route policy fails closed.${fix("make the stack config readable (rollout preflight names its problems)")}`,
        );
      } else if (entry === undefined) {
        if (scope.production) {
          lines.push(
            `Stack ${ctx.stack} (${scope.label}) configures no public entry for the API (nova-rollout:apiIngress); threshold: production serves the API through its Ingress (the GKE load balancer on the platform stack's static address and managed certificate), and its verification probes it there.${fix(HOW_INGRESS(baseHost))}`,
          );
        }
      } else if (baseHost !== entry.toLowerCase()) {
        lines.push(
          `Stack ${ctx.stack} (${scope.label}): nova-rollout:apiBaseUrl names host ${baseHost ?? "(none)"}, but the API's Ingress serves ${entry}; threshold: the verification probes the host the stack routes to.${fix(HOW_BASE_URL(entry))}`,
        );
      }
      reportOnce(POLICY_NAMES.apiRoute, ctx.stack, args.urn, lines, reportViolation);
      return;
    }

    const read = tryRead(() => ingressRoute(props, cfg.apiService));
    if (read.unknown || read.value === undefined) {
      reportViolation(
        `${ref} (${scope.label}): its rules are unknown during preview, so the host it serves cannot be compared with nova-rollout:apiBaseUrl.`,
      );
      return;
    }
    const { hosts, routesTo } = read.value;
    if (!routesTo) return;
    if (baseHost === undefined || !hosts.includes(baseHost)) {
      reportViolation(
        `${ref} (${scope.label}) routes the API for [${hosts.join(", ")}], but nova-rollout:apiBaseUrl names ${baseHost === undefined ? "no host" : `host ${baseHost}`}; threshold: the verification probes a host this Ingress serves.${fix(HOW_BASE_URL(hosts[0] ?? "<api host>"))}`,
      );
    }
  },
};
