// State helpers for stacks whose resources carry Pulumi's `protect` option (production-shaped stacks protect the
// namespace, the application Secret and the GKE cluster). Test cleanup clears the flag in state, then destroys:
// the same two steps as the runbook's "Deliberate teardown of a protected stack", through the Automation API.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Deployment, Stack } from "@pulumi/pulumi/automation";

/** One resource of an exported deployment, as far as these helpers read it; every other field is kept as is. */
interface StateResource {
  readonly urn: string;
  readonly protect?: boolean;
  readonly [field: string]: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The exported deployment body (the Automation API types it as `any`; this narrows it). */
function bodyOf(exported: Deployment): Record<string, unknown> {
  const body: unknown = exported.deployment;
  if (!isRecord(body)) throw new Error("exported deployment: `deployment` is not an object");
  return body;
}

/** The exported deployment's resources; a stack that never ran has none. */
function resourcesOf(exported: Deployment): StateResource[] {
  const body: unknown = exported.deployment;
  if (!isRecord(body)) return [];
  const resources = body.resources;
  if (resources === undefined || resources === null) return [];
  if (!Array.isArray(resources)) throw new Error("exported deployment: `resources` is not an array");
  return resources.map((resource: unknown, i): StateResource => {
    if (!isRecord(resource)) throw new Error(`exported deployment: resource ${i} is not an object`);
    const { urn, protect } = resource;
    if (typeof urn !== "string") throw new Error(`exported deployment: resource ${i} has no urn`);
    return { ...resource, urn, ...(typeof protect === "boolean" ? { protect } : {}) };
  });
}

/** URNs of the resources marked `protect` in an exported deployment, in state order. */
export function protectedUrns(exported: Deployment): string[] {
  return resourcesOf(exported)
    .filter((r) => r.protect === true)
    .map((r) => r.urn);
}

/**
 * Clears `protect` on every resource of the stack's state (`pulumi state unprotect --all`), so the stack can be
 * destroyed. Exports the state, sets `protect: false` on each resource and imports it back; leaves the state
 * untouched when nothing is protected. Changes state only: the next `up` of a program that protects them protects
 * them again. Takes any `Stack` (typed as the two methods it uses, so it can be tested without an engine).
 */
export async function unprotectAll(stack: Pick<Stack, "exportStack" | "importStack">): Promise<void> {
  const exported = await stack.exportStack();
  if (protectedUrns(exported).length === 0) return;
  const resources = resourcesOf(exported).map((r) => ({ ...r, protect: false }));
  await stack.importStack({ version: exported.version, deployment: { ...bodyOf(exported), resources } });
  const left = protectedUrns(await stack.exportStack());
  if (left.length > 0) throw new Error(`still protected after import: ${left.join(", ")}`);
}

/**
 * Test cleanup for stacks of a project directory: protection cleared, resources destroyed (best effort: a stack may
 * have failed before registering anything) and the stack file removed, newest stack first.
 */
export async function destroyStacks(
  stacks: readonly Stack[],
  projectDir: string,
  onOutput?: (out: string) => void,
): Promise<void> {
  for (const stack of [...stacks].reverse()) {
    try {
      await unprotectAll(stack);
      await stack.destroy(onOutput !== undefined ? { onOutput } : {});
    } catch {
      // best effort
    }
    fs.rmSync(path.join(projectDir, `Pulumi.${stack.name}.yaml`), { force: true });
  }
}
