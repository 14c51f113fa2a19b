/**
 * How a stack is classified: the facts that identify its target (namespace, GCP project and cluster, kubeconfig
 * context and server, the cluster's own marker) matched against the committed protected targets. Production follows
 * the target, never the stack's name.
 */
import * as fs from "node:fs";
import { parse as parseYaml } from "yaml";
import { readStackFile } from "../config/stack-file";
import { settingsFromConfigMap, type SettingsResult } from "../config/stack-view";
import { CLUSTER_MARKER } from "../contract";
import {
  type MarkerResult,
  normalizeServer,
  prefetchClusterMarker,
  readClusterMarker,
  resolveKubeconfigPath,
} from "./cluster-identity";
import { loadProductionEnforcement, type ProductionEnforcement, type ProtectedTargets } from "./enforcement";

/** What identifies where a stack deploys, as far as stack config and its kubeconfig tell. */
export interface TargetFacts {
  readonly namespace?: string;
  readonly gcpProject?: string;
  readonly gkeClusterName?: string;
  readonly kubeContext?: string;
  /** The API server URL of the kubeconfig context, when the kubeconfig could be read. */
  readonly kubeServer?: string;
  /** What the cluster the kubeconfig context reaches says it is (its production marker). */
  readonly clusterMarker?: MarkerResult;
  /** Why the kubeconfig could not be read, when it could not. */
  readonly unreadableKubeconfig?: string;
}

/** The protected targets a stack points at, as `kind value` strings for messages; empty when none. */
export function protectedTargetMatches(facts: TargetFacts, targets: ProtectedTargets): string[] {
  const out: string[] = [];
  const hit = (list: readonly string[], value: string | undefined, what: string) => {
    if (value !== undefined && list.includes(value)) out.push(`${what} ${value}`);
  };
  hit(targets.namespaces, facts.namespace, "namespace");
  hit(targets.gcpProjects, facts.gcpProject, "GCP project");
  hit(targets.gkeClusters, facts.gkeClusterName, "GKE cluster");
  hit(targets.kubeContexts, facts.kubeContext, "kubeconfig context");
  const server = facts.kubeServer === undefined ? undefined : normalizeServer(facts.kubeServer);
  hit(
    targets.kubeServers.map((s) => normalizeServer(s) ?? s),
    server,
    "Kubernetes API server",
  );
  // A GCP project given by number cannot be matched against the committed project ids: it is not classified.
  if (facts.gcpProject !== undefined && /^\d+$/.test(facts.gcpProject)) {
    out.push(`GCP project number ${facts.gcpProject} (only project ids can be classified)`);
  }
  if (facts.clusterMarker !== undefined) {
    const where = `${CLUSTER_MARKER.namespace}/${CLUSTER_MARKER.name}`;
    if (facts.clusterMarker.status === "marked" && facts.clusterMarker.environment === "production") {
      out.push(`a cluster its marker ${where} says is production`);
    } else if (facts.clusterMarker.status === "unknown") {
      out.push(`a cluster that cannot be identified (${facts.clusterMarker.reason})`);
    }
  }
  if (facts.unreadableKubeconfig !== undefined) {
    out.push(`a cluster that cannot be identified (${facts.unreadableKubeconfig})`);
  }
  return out;
}

/** The API server URL of `context` in a kubeconfig document (YAML text); undefined when it cannot be told. */
export function kubeServerOf(kubeconfigText: string, context: string | undefined): string | undefined {
  try {
    const doc = parseYaml(kubeconfigText) as {
      "current-context"?: string;
      contexts?: { name?: string; context?: { cluster?: string } }[];
      clusters?: { name?: string; cluster?: { server?: string } }[];
    } | null;
    const ctxName = context ?? doc?.["current-context"];
    const cluster = doc?.contexts?.find((c) => c.name === ctxName)?.context?.cluster;
    const server = doc?.clusters?.find((c) => c.name === cluster)?.cluster?.server;
    return typeof server === "string" && server.length > 0 ? server : undefined;
  } catch {
    return undefined;
  }
}

/** How a stack is classified, and why. */
export interface StackClass {
  readonly production: boolean;
  /** The protected targets it points at. */
  readonly protectedTargets: readonly string[];
  /** The `environment` value it declares, if any. */
  readonly declaredEnvironment?: string;
}

/**
 * A stack is production when it declares `environment: production` or points at any protected target: a committed
 * namespace, GCP project, GKE cluster, context or API server (normalised), a cluster whose marker says production, or a
 * target that cannot be identified (a kubeconfig that cannot be read or a cluster that cannot be asked, a project given
 * by number). The label can only make a stack stricter, never looser.
 */
export function classifyStack(
  facts: TargetFacts & { readonly environment?: string },
  targets: ProtectedTargets,
): StackClass {
  const matches = protectedTargetMatches(facts, targets);
  return {
    production: facts.environment === "production" || matches.length > 0,
    protectedTargets: matches,
    ...(facts.environment !== undefined ? { declaredEnvironment: facts.environment } : {}),
  };
}

/**
 * Classifies a stack from its `Pulumi.<stack>.yaml` against the committed production enforcement, reading the file
 * through the program's schema. A stack whose file or enforcement cannot be read counts as production (fail closed).
 */
export function classifyStackFile(projectDir: string, stack: string): StackClass {
  let enforcement: ProductionEnforcement;
  let flat: Readonly<Record<string, unknown>>;
  try {
    enforcement = loadProductionEnforcement(projectDir);
    flat = readStackFile(projectDir, stack).config;
  } catch {
    return { production: true, protectedTargets: [] };
  }
  return classifySettings(
    settingsFromConfigMap(stack, flat, `Pulumi.${stack}.yaml`, projectDir),
    projectDir,
    enforcement,
  );
}

/** Classifies resolved stack settings against the protected targets; unresolved settings count as production. */
export function classifySettings(
  settings: SettingsResult,
  projectDir: string,
  enforcement: ProductionEnforcement,
): StackClass {
  if (!settings.ok) return { production: true, protectedTargets: [] };
  const s = settings.settings;
  const target = s.clusterMode === "gke" ? {} : kubeconfigTarget(projectDir, s);
  const facts = Object.fromEntries(
    Object.entries({
      environment: s.environment,
      namespace: s.namespace,
      gcpProject: s.gcpProject,
      gkeClusterName: s.gkeClusterName,
      kubeContext: s.kubeconfigContext,
      ...target,
    }).filter(([, v]) => v !== undefined),
  );
  return classifyStack(facts, enforcement.baseline.protectedTargets);
}

/**
 * What the kubeconfig of a stack reaches: its API server and the cluster's own marker. A kubeconfig that cannot be
 * read leaves the target unidentified (production), except for a sandbox stack: nothing can be deployed through a
 * kubeconfig the program cannot read either.
 */
function kubeconfigTarget(
  projectDir: string,
  s: { readonly kubeconfigPath?: string; readonly kubeconfigContext?: string; readonly environment?: string },
): Pick<TargetFacts, "kubeServer" | "clusterMarker" | "unreadableKubeconfig"> {
  if (s.kubeconfigPath === undefined) return {};
  const file = resolveKubeconfigPath(projectDir, s.kubeconfigPath);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if (s.environment === "sandbox") return {};
    const code = (err as NodeJS.ErrnoException).code;
    return {
      unreadableKubeconfig: `its kubeconfig ${s.kubeconfigPath} ${code === "ENOENT" ? "does not exist" : "cannot be read"}`,
    };
  }
  const server = kubeServerOf(text, s.kubeconfigContext);
  return {
    ...(server !== undefined ? { kubeServer: server } : {}),
    clusterMarker: readClusterMarker(file, text, s.kubeconfigContext),
  };
}

/**
 * Starts the one slow part of {@link classifyStackFile}, the cluster marker read of a kubeconfig stack, in a child
 * process without blocking, so that the classification after it answers at once (the CLI runs its first engine reads
 * meanwhile). Does nothing for a stack whose file, settings or kubeconfig cannot be read (the classification then fails
 * closed by itself). Never rejects.
 */
export async function prefetchStackClassification(projectDir: string, stack: string): Promise<void> {
  let settings: SettingsResult;
  try {
    settings = settingsFromConfigMap(
      stack,
      readStackFile(projectDir, stack).config,
      `Pulumi.${stack}.yaml`,
      projectDir,
    );
  } catch {
    return;
  }
  if (!settings.ok) return;
  const s = settings.settings;
  if (s.clusterMode === "gke" || s.kubeconfigPath === undefined) return;
  const file = resolveKubeconfigPath(projectDir, s.kubeconfigPath);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return;
  }
  await prefetchClusterMarker(file, text, s.kubeconfigContext);
}
