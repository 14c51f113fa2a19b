/**
 * A stack resolved once per action: its file's settings view, its class (production follows the target), the
 * committed enforcement it is judged with and its evidence directory. Actions resolve it at their start and pass it
 * down, so one command reads and classifies the stack file, the enforcement and the kubeconfig once.
 */
import {
  classifyStackFile,
  prefetchStackClassification,
  resolveStackSettings,
  type StackClass,
} from "../../src/evidence";
import type { DirectStack } from "../direct-stack";
import { enforcementFor, openStack } from "../engine";
import { resolveEvidenceDir } from "../options";

export interface ResolvedStack {
  readonly projectDir: string;
  readonly stack: string;
  /** The stack file's settings view (`nova-rollout:` values; problems listed when incomplete). */
  readonly settings: ReturnType<typeof resolveStackSettings>;
  /** Production or not, and why (`classifyStackFile`: fails closed). */
  readonly stackClass: StackClass;
  readonly production: boolean;
  /** The committed enforcement (`policy/config/<level>.json`). */
  readonly level: "production" | "staging" | "local";
  /** Absolute: `--evidence-dir`, else the stack file's `nova-rollout:evidenceDir`, else the default. */
  readonly evidenceDir: string;
}

/** A stack's file settings and evidence directory, for the record commands that need no classification. */
export type StackFileView = Pick<ResolvedStack, "projectDir" | "stack" | "settings" | "evidenceDir">;

/** The settings view and evidence directory of a stack file; `evidenceDir` is the `--evidence-dir` option. */
export function stackFileView(projectDir: string, stack: string, evidenceDir?: string): StackFileView {
  const settings = resolveStackSettings({ stack, projectDir, env: {} });
  return {
    projectDir,
    stack,
    settings,
    evidenceDir: resolveEvidenceDir(
      projectDir,
      evidenceDir,
      settings.ok ? settings.settings.evidenceDir : undefined,
      settings.ok ? settings.settings.appDir : undefined,
    ),
  };
}

/** Resolves a stack once (see {@link ResolvedStack}); `evidenceDir` is the `--evidence-dir` option when given. */
export function resolveStack(projectDir: string, stack: string, evidenceDir?: string): ResolvedStack {
  const stackClass = classifyStackFile(projectDir, stack);
  return {
    ...stackFileView(projectDir, stack, evidenceDir),
    stackClass,
    production: stackClass.production,
    level: enforcementFor(stackClass, stackClass.declaredEnvironment),
  };
}

/** The same stack with the evidence directory its engine config names (engine actions read the stack's own). */
export function withEvidenceDir(resolved: ResolvedStack, evidenceDir: string): ResolvedStack {
  return { ...resolved, evidenceDir };
}

/**
 * {@link resolveStack} for an engine action whose first step is `reads` (config, history: `pulumi` runs): the cluster
 * marker its classification needs is read in a child process while `reads` run, on a stack opened with the same engine
 * environment (a stack's class adds refusals to that environment, never a variable). The stack is then classified and
 * opened for the action, which checks those refusals (production: never the sandbox passphrase, never a backend in the
 * repository) before any result of `reads` is returned; a refused stack's reads are dropped.
 */
export async function resolveWhileReading<T>(
  projectDir: string,
  stackName: string,
  reads: (stack: DirectStack) => Promise<T>,
): Promise<{ readonly resolved: ResolvedStack; readonly stack: DirectStack; readonly value: T }> {
  const classified = prefetchStackClassification(projectDir, stackName);
  const early = await openStack({
    projectDir,
    stack: stackName,
    stackClass: { production: false, protectedTargets: [] },
  });
  const pending = reads(early).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  await classified;
  const resolved = resolveStack(projectDir, stackName);
  const stack = await openStack(resolved);
  const read = await pending;
  if (!read.ok) throw read.error;
  return { resolved, stack, value: read.value };
}
