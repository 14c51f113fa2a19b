import { shellQuote } from "../util/shell";
import type { GrafanaPanelRef } from "./grafana-panels";

/**
 * The environment variables through which the probe receives the `Authorization` header of Alertmanager, Prometheus
 * and Grafana (a secret: set in the command resource's secret environment, never on its command line).
 */
export const AUTHORIZATION_ENV = {
  alertmanager: "NOVA_ALERTMANAGER_AUTHORIZATION",
  prometheus: "NOVA_PROMETHEUS_AUTHORIZATION",
  grafana: "NOVA_GRAFANA_AUTHORIZATION",
} as const;

/**
 * The environment variables a user-supplied command (the synthetic E2E and billing-drill commands here, the migration
 * in `components/database-scripts.ts`) inherits from the process that runs it. Everything else is withheld.
 */
export const COMMAND_ENV_ALLOWLIST: readonly string[] = ["PATH", "HOME", "LANG", "TMPDIR"];

/**
 * The environment variable through which the `forward` and `route` probes receive the cluster's kubeconfig (a secret: the
 * command resource's secret environment; the probe writes it to a private file only while kubectl runs).
 */
export const KUBECONFIG_ENV = "NOVA_KUBECONFIG";

/** The variable through which the verification commands (E2E, drill) learn the release's API address. */
export const API_BASE_URL_ENV = "NOVA_API_BASE_URL";

/** Variables a stack's `verificationEnvironment` may not set: the allow-list and the API address are the probe's. */
export const RESERVED_COMMAND_ENV: readonly string[] = [...COMMAND_ENV_ALLOWLIST, API_BASE_URL_ENV];

/** How a probe is bounded: attempts with exponential backoff, and a timeout per attempt. */
export interface ProbeBudget {
  /** Attempts before the check fails (≥ 1). */
  readonly attempts: number;
  /** Seconds each attempt may take. */
  readonly timeoutSeconds: number;
  /** First backoff delay in milliseconds (doubles each retry). Default 2000. */
  readonly backoffMs?: number;
}

/** One metric check: a PromQL instant query judged over a window (see `src/verify/metrics.ts`). */
export interface MetricCheckSpec {
  /** DNS-label name; the verification command is `<verification>-metric-<name>`. */
  readonly name: string;
  /** PromQL instant query returning one number, e.g. `sum(rate(http_requests_total[5m]))`. */
  readonly query: string;
  /** `> 0`, `< 0.01`, … */
  readonly condition: string;
  /** Evaluations over the window (default 3). */
  readonly evaluations: number;
  /** Seconds between evaluations (default 10). */
  readonly intervalSeconds: number;
  /** Failed measurements tolerated (default 0). */
  readonly failureLimit: number;
}

export type ProbeSpec =
  | { readonly kind: "http"; readonly url: string; readonly prometheus?: boolean }
  | {
      /**
       * GET `url` at the address the Ingress publishes (`./ingress-route`), `Host` and TLS name the URL's; the
       * kubeconfig in {@link KUBECONFIG_ENV}.
       */
      readonly kind: "route";
      readonly url: string;
      readonly prometheus?: boolean;
      readonly namespace: string;
      readonly ingress: string;
      readonly context?: string;
    }
  | {
      readonly kind: "alerts";
      readonly url: string;
      /** Matchers selecting this release's alerts (Alertmanager filter syntax); empty: every alert counts. */
      readonly matchers?: readonly string[];
      /** Whether an inconclusive outcome (Alertmanager gave no usable answer) fails the check; production sets it. */
      readonly inconclusiveFails?: boolean;
    }
  | {
      /** GET `<path>` through a port-forward to a workload (`./port-forward`), the kubeconfig in {@link KUBECONFIG_ENV}. */
      readonly kind: "forward";
      readonly namespace: string;
      /** `deploy/<name>`. */
      readonly resource: string;
      readonly port: number;
      readonly path: string;
      readonly context?: string;
    }
  | {
      readonly kind: "digest";
      /** `registry/repository:tag`, read through skopeo with the deploying machine's registry logins. */
      readonly ref: string;
      readonly expect: string;
    }
  | {
      readonly kind: "metric";
      /** Prometheus base URL (the HTTP API behind the dashboards). */
      readonly url: string;
      readonly metric: MetricCheckSpec;
      /** Whether an inconclusive outcome (no data) fails the check; production sets it. */
      readonly inconclusiveFails: boolean;
    }
  | {
      readonly kind: "grafana";
      /** Grafana's base URL. */
      readonly url: string;
      readonly dashboardUid: string;
      /** The panel (by id or title) and its conditions (see `src/verify/grafana-panels.ts`). */
      readonly panel: GrafanaPanelRef;
      /** How far back from now the panel is read, in seconds. */
      readonly windowSeconds: number;
      /** Values of the dashboard's variables substituted into the panel's queries. */
      readonly variables: Readonly<Record<string, string>>;
      /** Whether an inconclusive outcome (no data) fails the check; production sets it. */
      readonly inconclusiveFails: boolean;
    }
  | {
      readonly kind: "exec";
      /** Shell command; it runs with the allow-listed environment only (`COMMAND_ENV_ALLOWLIST` in the probe). */
      readonly command: string;
      /** Names of further variables of the probe's environment the command needs (not secrets). */
      readonly env?: readonly string[];
      /** Names of secret variables the command needs: passed by name and redacted from all output. */
      readonly secretEnv?: readonly string[];
      /** Plain variables set for the command (name → value), e.g. {@link API_BASE_URL_ENV}; never secrets. */
      readonly vars?: Readonly<Record<string, string>>;
      /** Directory the command runs in (the app checkout); default the probe's own. */
      readonly cwd?: string;
      /**
       * Directories (relative to `cwd`) whose files the command writes (reports, logs, screenshots): files written
       * while it ran are copied, redacted, into `keepInto` and listed in the result.
       */
      readonly keep?: readonly string[];
      /** Where kept files are copied (content-addressed names); required with `keep`. */
      readonly keepInto?: string;
    };

/**
 * The shell command that runs one probe with the project's probe script (`src/verify/probe.ts`, compiled).
 * Pure: the same inputs give the same command, so an unchanged release does not re-run its checks. An `exec` probe's
 * command is one quoted argument after `--`, so no part of it runs in this shell (outside the probe's allow-listed
 * environment); the variables it may see beyond the allow-list are named with `--env` / `--secret-env`.
 */
export function probeCommand(
  probeScript: string,
  name: string,
  spec: ProbeSpec,
  budget: ProbeBudget,
): string {
  const parts = ["node", shellQuote(probeScript), spec.kind, "--name", shellQuote(name)];
  if (spec.kind === "http" || spec.kind === "route" || spec.kind === "alerts" || spec.kind === "metric")
    parts.push("--url", shellQuote(spec.url));
  if (spec.kind === "route") {
    parts.push("--namespace", shellQuote(spec.namespace), "--ingress", shellQuote(spec.ingress));
    if (spec.context !== undefined) parts.push("--context", shellQuote(spec.context));
  }
  if (spec.kind === "forward") {
    parts.push("--namespace", shellQuote(spec.namespace), "--resource", shellQuote(spec.resource));
    parts.push("--port", String(spec.port), "--path", shellQuote(spec.path));
    if (spec.context !== undefined) parts.push("--context", shellQuote(spec.context));
  }
  if ((spec.kind === "http" || spec.kind === "route") && spec.prometheus === true) parts.push("--prometheus");
  if (spec.kind === "alerts") {
    for (const matcher of spec.matchers ?? []) parts.push("--matcher", shellQuote(matcher));
    if (spec.inconclusiveFails === true) parts.push("--inconclusive-fails");
  }
  if (spec.kind === "digest") parts.push("--ref", shellQuote(spec.ref), "--expect", shellQuote(spec.expect));
  if (spec.kind === "metric") {
    const m = spec.metric;
    parts.push("--query", shellQuote(m.query), "--condition", shellQuote(m.condition));
    parts.push("--evaluations", String(m.evaluations), "--interval", String(m.intervalSeconds));
    parts.push("--failure-limit", String(m.failureLimit));
    if (spec.inconclusiveFails) parts.push("--inconclusive-fails");
  }
  if (spec.kind === "grafana") {
    parts.push("--url", shellQuote(spec.url), "--dashboard", shellQuote(spec.dashboardUid));
    if (spec.panel.id !== undefined) parts.push("--panel-id", String(spec.panel.id));
    else parts.push("--panel-title", shellQuote(spec.panel.title ?? ""));
    for (const condition of spec.panel.conditions) parts.push("--condition", shellQuote(condition));
    for (const [name, value] of Object.entries(spec.variables).sort(([a], [b]) => a.localeCompare(b)))
      parts.push("--var", shellQuote(`${name}=${value}`));
    parts.push("--window", String(spec.windowSeconds));
    if (spec.inconclusiveFails) parts.push("--inconclusive-fails");
  }
  if (spec.kind === "exec") {
    for (const variable of spec.env ?? []) parts.push("--env", shellQuote(variable));
    for (const variable of spec.secretEnv ?? []) parts.push("--secret-env", shellQuote(variable));
    for (const [variable, value] of Object.entries(spec.vars ?? {}).sort(([a], [b]) => a.localeCompare(b)))
      parts.push("--set-env", shellQuote(`${variable}=${value}`));
    if (spec.cwd !== undefined) parts.push("--cwd", shellQuote(spec.cwd));
    if (spec.keepInto !== undefined && (spec.keep ?? []).length > 0) {
      for (const dir of spec.keep ?? []) parts.push("--keep", shellQuote(dir));
      parts.push("--keep-into", shellQuote(spec.keepInto));
    }
  }
  parts.push(
    "--attempts",
    String(budget.attempts),
    "--timeout",
    String(budget.timeoutSeconds),
    "--backoff-ms",
    String(budget.backoffMs ?? 2000),
  );
  if (spec.kind === "exec") parts.push("--", shellQuote(spec.command));
  return parts.join(" ");
}
