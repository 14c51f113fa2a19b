import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { verificationSpecs } from "../src/verify/checks";
import type { GrafanaPanelsConfig } from "../src/verify/grafana-panels";
import { grafanaPanelSpecs } from "../src/verify/grafana-probe";
import {
  AUTHORIZATION_ENV,
  KUBECONFIG_ENV,
  probeCommand,
  type MetricCheckSpec,
  type ProbeBudget,
  type ProbeSpec,
} from "../src/verify/probe-command";
import { type CheckResult, parseCheckResult } from "../src/verify/check-result";
import { forwardDependsOn } from "./depends-on";

export { type CheckResult, parseCheckResult };

export interface PostDeployVerificationArgs {
  /** Compiled probe script (`dist/src/verify/probe.js`). */
  readonly probeScript: string;
  /** Base URL of the API; `/v1/health` and `/v1/metrics` are checked. */
  readonly apiBaseUrl: string;
  /**
   * The API's Ingress in {@link PostDeployVerificationArgs.namespace}, when the stack serves one: the API's URLs are
   * asked at the address it publishes (read with {@link PostDeployVerificationArgs.kubeconfig}), the route users take.
   */
  readonly apiIngress?: string;
  /**
   * Base URL of the worker, where `/readyz` is checked. Not set: `/readyz` is checked through a port-forward to
   * `deploy/nova-worker` port 3001 in {@link PostDeployVerificationArgs.namespace}, made through the cluster's API
   * server with {@link PostDeployVerificationArgs.kubeconfig} (the playbook's `kubectl port-forward`).
   */
  readonly workerBaseUrl?: string;
  /** The release's namespace. */
  readonly namespace: string;
  /**
   * Kubeconfig contents for the port-forward and the Ingress's address (a secret: it reaches the probe through the command resource's secret
   * environment, never its command line). Default: kubectl's own default.
   */
  readonly kubeconfig?: pulumi.Input<string>;
  /** The context inside {@link PostDeployVerificationArgs.kubeconfig}; its current context when not set. */
  readonly kubeContext?: string;
  /**
   * Alertmanager base URL; an active, unsilenced, uninhibited alert selected by {@link PostDeployVerificationArgs.alertMatchers} fails
   * verification. When Alertmanager gives no usable answer the check is inconclusive (see `inconclusiveFails`).
   */
  readonly alertmanagerUrl: string;
  /**
   * Matchers selecting this release's alerts, in Alertmanager's filter syntax (`namespace="nova-prod"`,
   * `service=~"nova-.*"`); each is sent as a `filter=` parameter. Default: none (every firing alert counts).
   */
  readonly alertMatchers?: readonly string[];
  /**
   * `Authorization` header for Alertmanager (`Bearer …`, `Basic …`). A secret: it reaches the probe through the
   * command resource's secret environment only, never its command line. Default: none.
   */
  readonly alertmanagerAuthorization?: pulumi.Input<string>;
  /** `Authorization` header for Prometheus (the metric checks); handled like `alertmanagerAuthorization`. */
  readonly prometheusAuthorization?: pulumi.Input<string>;
  /**
   * Optional synthetic end-to-end command (exit code 0 = pass). It runs with an allow-listed environment only
   * (`COMMAND_ENV_ALLOWLIST` of `src/verify/probe.ts`, plus {@link PostDeployVerificationArgs.commandEnvironment}).
   */
  readonly syntheticE2eCommand?: string;
  /** Optional billing-drill dry-run command (exit code 0 = pass); same environment as the synthetic E2E. */
  readonly billingDrillDryRunCommand?: string;
  /**
   * Extra environment for the synthetic E2E and billing-drill commands only (never the HTTP probes), e.g. a token the
   * E2E suite needs. Every value is handled as a secret: sent in the command resource's secret environment, passed to
   * the command by name, and redacted from its output (the probe's and the command provider's). Default: none.
   */
  readonly commandEnvironment?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Directory the synthetic E2E and billing-drill commands run in: the app checkout (`nova-rollout:appDir`). Both also
   * receive the API's address as `NOVA_API_BASE_URL`. Default: the deploying process's directory.
   */
  readonly commandDir?: string;
  /**
   * Where the files the commands leave (Playwright report and screenshots, drill log) are copied, redacted, under
   * content-addressed names; the results list them. Default: nothing is kept.
   */
  readonly keptFilesDir?: string;
  /** Prometheus base URL the metric checks query; required when `metricChecks` is not empty. */
  readonly prometheusUrl?: string;
  /** Metric checks (PromQL queries with a condition, evaluated over a window). Default: none. */
  readonly metricChecks?: readonly MetricCheckSpec[];
  /**
   * Dashboard panels read through Grafana's query API over the verification window, one check `grafana-<panel>` each
   * (`src/verify/grafana-panels.ts`): no data is inconclusive, a value missing the panel's conditions fails. Default:
   * none.
   */
  readonly grafanaPanels?: GrafanaPanelsConfig;
  /** `Authorization` header for Grafana (a service account token); handled like `alertmanagerAuthorization`. */
  readonly grafanaAuthorization?: pulumi.Input<string>;
  /**
   * Whether an inconclusive check fails verification: a metric check or a Grafana panel without data, or an alerts
   * check Alertmanager gave no usable answer to; production sets it. Default false.
   */
  readonly inconclusiveFails?: boolean;
  /** Attempts, timeout and backoff of every check. */
  readonly budget: ProbeBudget;
  /**
   * Values that identify what was deployed (image digests, secrets checksum): when any changes, every check runs
   * again. Unknown at preview is fine.
   */
  readonly triggers: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * The checks this component runs, by child name suffix: the checks of `src/verify/checks.ts` (shared with the policy
 * pack and the CLI's `verify`), then the stack's metric checks and Grafana panels. Pure. The exec checks name the
 * variables of `commandEnvironment` (as secret variables) and nothing else beyond the allow-list.
 */
export function verificationChecks(
  args: Omit<PostDeployVerificationArgs, "triggers" | "probeScript" | "budget" | "kubeconfig">,
): [string, ProbeSpec][] {
  const secretEnv = Object.keys(args.commandEnvironment ?? {}).sort();
  const checks = verificationSpecs(args, {
    secretEnv,
    ...(args.keptFilesDir !== undefined ? { keepInto: args.keptFilesDir } : {}),
  }).map(([name, spec]): [string, ProbeSpec] =>
    spec.kind === "alerts" && args.inconclusiveFails === true
      ? [name, { ...spec, inconclusiveFails: true }]
      : [name, spec],
  );
  for (const metric of args.metricChecks ?? []) {
    if (args.prometheusUrl === undefined) {
      throw new pulumi.InputPropertiesError({
        message: "PostDeployVerification: metric checks need a Prometheus URL",
        errors: [{ propertyPath: "prometheusUrl", reason: `required for metric check "${metric.name}"` }],
      });
    }
    checks.push([
      `metric-${metric.name}`,
      { kind: "metric", url: args.prometheusUrl, metric, inconclusiveFails: args.inconclusiveFails ?? false },
    ]);
  }
  checks.push(...grafanaPanelSpecs(args.grafanaPanels, args.inconclusiveFails ?? false));
  return checks;
}

/**
 * Post-deploy verification: API health and metrics, worker readiness, quiet alerts, and the optional synthetic E2E
 * and billing-drill dry-run commands. Each is a command resource with retries, backoff and a timeout; any failure
 * fails the update (the workloads keep what Kubernetes rolled out; see the rollback runbook).
 */
export class PostDeployVerification extends pulumi.ComponentResource {
  /** One command resource per check, in {@link verificationChecks} order. */
  public readonly checks: command.local.Command[];
  /** One structured result per check. */
  public readonly results: pulumi.Output<CheckResult[]>;

  constructor(name: string, args: PostDeployVerificationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:verify:PostDeployVerification", name, {}, opts);
    if (!Number.isInteger(args.budget.attempts) || args.budget.attempts < 1) {
      throw new pulumi.InputPropertiesError({
        message: "PostDeployVerification: invalid retry budget",
        errors: [{ propertyPath: "budget.attempts", reason: "must be a whole number ≥ 1" }],
      });
    }
    const specs = verificationChecks(args);
    const environment =
      args.commandEnvironment !== undefined && Object.keys(args.commandEnvironment).length > 0
        ? pulumi.secret(pulumi.output(args.commandEnvironment))
        : undefined;
    // Each authorization reaches only the probes of its own service, as a secret variable.
    const authorizationEnv = (variable: string, value: pulumi.Input<string> | undefined) =>
      value !== undefined ? pulumi.secret(pulumi.output({ [variable]: value })) : undefined;
    const environments: Partial<Record<ProbeSpec["kind"], pulumi.Output<Record<string, string>>>> = {
      ...(environment !== undefined ? { exec: environment } : {}),
    };
    const alertsEnv = authorizationEnv(AUTHORIZATION_ENV.alertmanager, args.alertmanagerAuthorization);
    if (alertsEnv !== undefined) environments.alerts = alertsEnv;
    const metricEnv = authorizationEnv(AUTHORIZATION_ENV.prometheus, args.prometheusAuthorization);
    if (metricEnv !== undefined) environments.metric = metricEnv;
    const grafanaEnv = authorizationEnv(AUTHORIZATION_ENV.grafana, args.grafanaAuthorization);
    if (grafanaEnv !== undefined) environments.grafana = grafanaEnv;
    const forwardEnv = authorizationEnv(KUBECONFIG_ENV, args.kubeconfig);
    if (forwardEnv !== undefined) {
      environments.forward = forwardEnv;
      environments.route = forwardEnv;
    }
    this.checks = specs.map(
      ([suffix, spec]) =>
        new command.local.Command(
          `${name}-${suffix}`,
          {
            create: probeCommand(args.probeScript, suffix, spec, args.budget),
            ...(environments[spec.kind] !== undefined ? { environment: environments[spec.kind] } : {}),
            triggers: args.triggers,
            logging: "stderr",
          },
          { parent: this, ...forwardDependsOn(opts) },
        ),
    );
    // The command provider marks every output of a command with a secret input (an authorization, a credential) as
    // secret. The probe redacts those values from all it prints, so the parsed results are plain: the launch log and
    // the stack outputs read them.
    this.results = pulumi.all(
      this.checks.map((c, i) =>
        pulumi.unsecret(c.stdout).apply((out) => parseCheckResult(specs[i]?.[0] ?? "check", out)),
      ),
    );
    this.registerOutputs({ results: this.results });
  }
}
