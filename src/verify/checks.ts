/**
 * The post-deploy verification checks, defined once: each check's name, what it probes (a URL path under one of the
 * stack's base URLs, or one of the stack's commands) and how it is judged. Three readers map this table:
 *
 * - the program (`components/post-deploy-verification.ts`) turns it into probe command resources
 *   ({@link verificationSpecs}), named `<verification component>-<check name>`;
 * - the policy pack (`nova-rollout-ordering`) requires the commands of the checks marked `requiredByPolicy`
 *   ({@link REQUIRED_VERIFICATION_SUFFIXES});
 * - the CLI's `verify` runs the same checks in process ({@link verificationAttempts}).
 *
 * Metric checks (PromQL, `nova-rollout:metricChecks`) are configured per stack, not defined here; only the program
 * runs them (see `PostDeployVerification`).
 */
import { SERVICE_DEPLOYMENTS } from "../contract/release";
import { joinUrl } from "../util/url";
import { httpAttempt } from "./http-check";
import { routedHttpAttempt, type RouteTarget } from "./ingress-route";
import { forwardedHttpAttempt, podRunningTimeout, type ForwardTarget } from "./port-forward";
import { alertsAttempt, execAttempt, type Attempt } from "./probe";
import { API_BASE_URL_ENV, type ProbeSpec } from "./probe-command";

/** The stack's verification settings the checks read (`StackSettings["verification"]` fits). */
export interface VerificationTargets {
  /** Base URL of the API. */
  readonly apiBaseUrl: string;
  /**
   * The API's Ingress (its name in {@link VerificationTargets.namespace}), when the stack serves one: the API checks
   * then ask their URLs at the address it publishes (`./ingress-route`), through the route users take.
   */
  readonly apiIngress?: string;
  /**
   * Base URL of the worker, checked directly. Not set (production: never): the worker is checked as the playbook
   * does, through a port-forward to its Deployment in {@link VerificationTargets.namespace}.
   */
  readonly workerBaseUrl?: string;
  /** The release's namespace (where the port-forwarded workloads run). */
  readonly namespace: string;
  /** The kubeconfig context the port-forwards use; the kubeconfig's current context when not set. */
  readonly kubeContext?: string;
  /** Seconds each attempt of a check may take (the in-process checks bound a port-forward's pod wait by it). */
  readonly timeoutSeconds?: number;
  /** Alertmanager base URL. */
  readonly alertmanagerUrl: string;
  /**
   * Matchers selecting the stack's alerts (Alertmanager filter syntax, `src/verify/alert-matchers.ts`); only firing
   * alerts they select fail the check. Absent or empty: every firing alert counts.
   */
  readonly alertMatchers?: readonly string[];
  /** Optional synthetic end-to-end command (exit code 0 = pass). */
  readonly syntheticE2eCommand?: string;
  /** Optional billing-drill dry-run command (exit code 0 = pass). */
  readonly billingDrillDryRunCommand?: string;
  /** Where the commands run: the app checkout (`nova-rollout:appDir`). Default: the deploying process's directory. */
  readonly commandDir?: string;
}

/** The secret values the in-process checks (`rollout verify`) use; never printed. */
export interface VerificationSecrets {
  /** Alertmanager's `Authorization` header. */
  readonly alertmanagerAuthorization?: string;
  /** The commands' secret variables (`verificationEnvironment`), redacted from their output. */
  readonly commandEnvironment?: Readonly<Record<string, string>>;
  /** The cluster's kubeconfig for the port-forwards and the Ingress's address; kubectl's own default when not set. */
  readonly kubeconfig?: string;
}

/** How a check is judged. */
export type CheckJudge =
  /** GET `<base><path>` answers 2xx (and, with `prometheus`, a Prometheus text exposition). */
  | {
      readonly kind: "http";
      readonly base: "apiBaseUrl";
      readonly path: string;
      readonly prometheus: boolean;
    }
  /**
   * GET `<path>` through a port-forward to the service's Deployment and container port (the playbook's
   * `kubectl port-forward deploy/nova-worker 9001:3001`); through `<base><path>` instead when the stack sets `base`.
   */
  | {
      readonly kind: "forward";
      readonly service: keyof typeof SERVICE_DEPLOYMENTS;
      readonly port: number;
      readonly path: string;
      readonly base: "workerBaseUrl";
    }
  /** Alertmanager reports no active, unsilenced, uninhibited alert selected by the stack's matchers. */
  | { readonly kind: "alerts"; readonly base: "alertmanagerUrl" }
  /**
   * The stack's command exits 0; the check exists only when the command is configured. `keeps`: the directories (of
   * the app checkout) where the command leaves what the launch log attaches (reports, logs, screenshots).
   */
  | {
      readonly kind: "exec";
      readonly command: "syntheticE2eCommand" | "billingDrillDryRunCommand";
      readonly keeps: readonly string[];
    };

export interface VerificationCheck {
  /** DNS-label name: the probe's `--name`, the suffix of the command resource's name. */
  readonly name: string;
  readonly judge: CheckJudge;
  /** Whether the policy pack requires this check's command by default (`verificationSuffixes`). */
  readonly requiredByPolicy: boolean;
}

/** Every verification check, in the order they run. */
export const VERIFICATION_CHECKS: readonly VerificationCheck[] = [
  {
    name: "api-health",
    judge: { kind: "http", base: "apiBaseUrl", path: "/v1/health", prometheus: false },
    requiredByPolicy: true,
  },
  {
    name: "api-metrics",
    judge: { kind: "http", base: "apiBaseUrl", path: "/v1/metrics", prometheus: true },
    requiredByPolicy: false,
  },
  {
    name: "worker-readyz",
    judge: { kind: "forward", service: "worker", port: 3001, path: "/readyz", base: "workerBaseUrl" },
    requiredByPolicy: true,
  },
  { name: "alerts-quiet", judge: { kind: "alerts", base: "alertmanagerUrl" }, requiredByPolicy: true },
  {
    name: "synthetic-e2e",
    // Playwright's JSON report and its failure screenshots and traces.
    judge: { kind: "exec", command: "syntheticE2eCommand", keeps: ["playwright-report", "test-results"] },
    requiredByPolicy: false,
  },
  {
    name: "billing-drill-dry-run",
    judge: { kind: "exec", command: "billingDrillDryRunCommand", keeps: ["tests/drills/logs"] },
    requiredByPolicy: false,
  },
];

/** Name suffixes (`-<check>`) of the verification commands the policy pack requires by default. */
export const REQUIRED_VERIFICATION_SUFFIXES: readonly string[] = VERIFICATION_CHECKS.filter(
  (c) => c.requiredByPolicy,
).map((c) => `-${c.name}`);

/** An HTTP/alerts check, or an exec check with its configured command; absent exec checks are left out. */
type ResolvedCheck =
  | { readonly name: string; readonly kind: "http"; readonly url: string; readonly prometheus: boolean }
  | {
      readonly name: string;
      readonly kind: "route";
      readonly url: string;
      readonly prometheus: boolean;
      readonly route: RouteTarget;
    }
  | { readonly name: string; readonly kind: "forward"; readonly target: ForwardTarget; readonly path: string }
  | {
      readonly name: string;
      readonly kind: "alerts";
      readonly url: string;
      readonly matchers: readonly string[];
    }
  | {
      readonly name: string;
      readonly kind: "exec";
      readonly command: string;
      readonly keeps: readonly string[];
    };

/** The checks that apply to a stack's targets, with their URLs and commands filled in. Pure. */
export function resolveChecks(targets: VerificationTargets): ResolvedCheck[] {
  return VERIFICATION_CHECKS.flatMap(({ name, judge }): ResolvedCheck[] => {
    switch (judge.kind) {
      case "http": {
        const url = joinUrl(targets[judge.base], judge.path);
        if (targets.apiIngress === undefined)
          return [{ name, kind: "http", url, prometheus: judge.prometheus }];
        const route: RouteTarget = {
          namespace: targets.namespace,
          ingress: targets.apiIngress,
          ...(targets.kubeContext !== undefined ? { context: targets.kubeContext } : {}),
        };
        return [{ name, kind: "route", url, prometheus: judge.prometheus, route }];
      }
      case "forward": {
        const base = targets[judge.base];
        if (base !== undefined)
          return [{ name, kind: "http", url: joinUrl(base, judge.path), prometheus: false }];
        const target: ForwardTarget = {
          namespace: targets.namespace,
          resource: `deploy/${SERVICE_DEPLOYMENTS[judge.service]}`,
          port: judge.port,
          ...(targets.kubeContext !== undefined ? { context: targets.kubeContext } : {}),
        };
        return [{ name, kind: "forward", target, path: judge.path }];
      }
      case "alerts":
        return [{ name, kind: "alerts", url: targets[judge.base], matchers: targets.alertMatchers ?? [] }];
      case "exec": {
        const command = targets[judge.command];
        return command === undefined ? [] : [{ name, kind: "exec", command, keeps: judge.keeps }];
      }
    }
  });
}

/** How the program runs the exec checks. */
export interface ExecCheckOptions {
  /** Names of the secret variables the commands receive (`nova-rollout:verificationEnvironment`). */
  readonly secretEnv?: readonly string[];
  /** Where the files the commands leave are copied (the stack's verification evidence directory). */
  readonly keepInto?: string;
}

/**
 * The probe specs of the checks, for the program's command resources. Exec checks run in `commandDir`, learn the
 * API's address as {@link API_BASE_URL_ENV}, name `secretEnv` (sorted as given) as their secret variables and keep
 * the files they leave in `keepInto`. Pure.
 */
export function verificationSpecs(
  targets: VerificationTargets,
  exec: ExecCheckOptions = {},
): [string, ProbeSpec][] {
  const secretEnv = exec.secretEnv ?? [];
  return resolveChecks(targets).map((c): [string, ProbeSpec] => {
    switch (c.kind) {
      case "http":
        return [c.name, { kind: "http", url: c.url, ...(c.prometheus ? { prometheus: true } : {}) }];
      case "route":
        return [
          c.name,
          { kind: "route", url: c.url, ...(c.prometheus ? { prometheus: true } : {}), ...c.route },
        ];
      case "forward":
        return [c.name, { kind: "forward", ...c.target, path: c.path }];
      case "alerts":
        return [
          c.name,
          { kind: "alerts", url: c.url, ...(c.matchers.length > 0 ? { matchers: [...c.matchers] } : {}) },
        ];
      case "exec":
        return [
          c.name,
          {
            kind: "exec",
            command: c.command,
            ...(secretEnv.length > 0 ? { secretEnv: [...secretEnv] } : {}),
            vars: { [API_BASE_URL_ENV]: targets.apiBaseUrl },
            ...(targets.commandDir !== undefined ? { cwd: targets.commandDir } : {}),
            ...(exec.keepInto !== undefined ? { keep: [...c.keeps], keepInto: exec.keepInto } : {}),
          },
        ];
    }
  });
}

/**
 * The checks as in-process attempts, for the CLI's `verify`: `[name, Attempt]` pairs in run order, each judged as the
 * probe script judges it (exec commands run in `commandDir` with the allow-listed environment, the API's address and
 * the secret variables only, redacted). Metric checks are not included.
 *
 * @param settings the stack's verification settings (`loadStackSettingsFromFile(...).verification`)
 */
export function verificationAttempts(
  settings: VerificationTargets,
  secrets: VerificationSecrets = {},
): [string, Attempt][] {
  return resolveChecks(settings).map((c): [string, Attempt] => {
    switch (c.kind) {
      case "http":
        return [c.name, httpAttempt(c.url, c.prometheus)];
      case "route":
        return [
          c.name,
          routedHttpAttempt(
            c.url,
            c.prometheus,
            c.route,
            secrets.kubeconfig !== undefined ? { kubeconfig: secrets.kubeconfig } : {},
          ),
        ];
      case "forward":
        return [
          c.name,
          forwardedHttpAttempt(
            c.target,
            c.path,
            {
              podRunningTimeoutSeconds: podRunningTimeout(settings.timeoutSeconds ?? 10),
              ...(secrets.kubeconfig !== undefined ? { kubeconfig: secrets.kubeconfig } : {}),
            },
            (url) => httpAttempt(url, false),
          ),
        ];
      case "alerts":
        return [
          c.name,
          alertsAttempt(c.url, {
            matchers: c.matchers,
            ...(secrets.alertmanagerAuthorization !== undefined
              ? { authorization: secrets.alertmanagerAuthorization }
              : {}),
          }),
        ];
      case "exec": {
        const variables = secrets.commandEnvironment ?? {};
        return [
          c.name,
          execAttempt(c.command, {
            env: [API_BASE_URL_ENV],
            secretEnv: Object.keys(variables).sort(),
            source: { ...process.env, ...variables, [API_BASE_URL_ENV]: settings.apiBaseUrl },
            ...(settings.commandDir !== undefined ? { cwd: settings.commandDir } : {}),
          }),
        ];
      }
    }
  });
}
