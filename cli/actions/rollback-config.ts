/**
 * What a rollback changes in a stack's config: the target update's values re-applied (the verification settings and
 * project defaults left alone), written as `pulumi config --json`, and put back as they were when a rollback fails.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { parse as parseYaml } from "yaml";
import { CONFIG_NAMESPACE, VERIFICATION_CONFIG_KEYS } from "../../src/config";

/** The full keys (`nova-rollout:<key>`) of the verification settings, which a rollback never changes. */
export const VERIFICATION_KEYS: ReadonlySet<string> = new Set(
  VERIFICATION_CONFIG_KEYS.map((k) => `${CONFIG_NAMESPACE}:${k}`),
);

/**
 * The project's config defaults (Pulumi.yaml `config:`), by full key, as the text history stores values in (lists and
 * maps as JSON). An unreadable Pulumi.yaml has none.
 */
export function projectConfigDefaults(projectDir: string): Record<string, string> {
  let doc: unknown;
  try {
    doc = parseYaml(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"));
  } catch {
    return {};
  }
  const config = (doc as { config?: unknown } | null)?.config;
  if (typeof config !== "object" || config === null) return {};
  const out: Record<string, string> = {};
  for (const [key, decl] of Object.entries(config as Record<string, unknown>)) {
    if (typeof decl !== "object" || decl === null || !("default" in decl)) continue;
    const value = decl.default;
    const full = key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`;
    out[full] = typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  }
  return out;
}

/** Whether two config texts hold the same value (lists and maps compared as JSON, whatever their spacing). */
export function sameConfigValue(a: string, b: string): boolean {
  if (a === b) return true;
  if (!/^\s*[[{]/.test(a) || !/^\s*[[{]/.test(b)) return false;
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/**
 * What a rollback changes in the stack config to re-apply a target update's config: the keys whose value differs from
 * the stack's now (`set`), and the keys set now that the target ran with at their project default (`remove`: a
 * default is never written into the stack file). The verification settings (`VERIFICATION_CONFIG_KEYS`) are left as
 * the stack has them now: the restored release is verified with the current checks, the ones that failed included.
 */
export function rollbackConfigChanges(
  target: Readonly<Record<string, string>>,
  current: Readonly<Record<string, { readonly value: string; readonly secret?: boolean } | undefined>>,
  defaults: Readonly<Record<string, string>>,
): { set: Record<string, string>; remove: string[] } {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const [key, value] of Object.entries(target)) {
    if (VERIFICATION_KEYS.has(key)) continue;
    const now = current[key];
    const fallback = defaults[key];
    if (fallback !== undefined && sameConfigValue(value, fallback)) {
      if (now !== undefined && (now.secret === true || !sameConfigValue(now.value, fallback)))
        remove.push(key);
      continue;
    }
    if (now === undefined || now.secret === true || !sameConfigValue(now.value, value)) set[key] = value;
  }
  return { set, remove };
}

/**
 * The `pulumi config --json` document that sets `values`: list and map values (stored as JSON text in history) are
 * set as structured values, so keys that Pulumi.yaml types as arrays keep their type.
 */
export function configJson(
  values: Readonly<Record<string, string | { readonly value: string; readonly secret?: boolean }>>,
): string {
  const doc: Record<string, { value: string; secret: boolean; objectValue?: unknown }> = {};
  for (const [key, entry] of Object.entries(values)) {
    const { value, secret } = typeof entry === "string" ? { value: entry, secret: false } : entry;
    let objectValue: unknown;
    // Secrets are restored as the text they were, never parsed into a structured (and plain) value.
    if (secret !== true && /^\s*[[{]/.test(value)) {
      try {
        objectValue = JSON.parse(value);
      } catch {
        objectValue = undefined;
      }
    }
    doc[key] = {
      value,
      secret: secret === true,
      ...(objectValue !== undefined ? { objectValue } : {}),
    };
  }
  return JSON.stringify(doc);
}

/** Puts back the config a rollback replaced: removed keys removed again, secrets stored as secrets. */
export async function restoreConfig(
  stack: Pick<Stack, "removeConfig" | "setAllConfigJson">,
  previous: Readonly<Record<string, { readonly value: string; readonly secret?: boolean } | undefined>>,
): Promise<void> {
  const kept: Record<string, { value: string; secret?: boolean }> = {};
  for (const [key, entry] of Object.entries(previous)) {
    if (entry === undefined) await stack.removeConfig(key);
    else kept[key] = entry;
  }
  if (Object.keys(kept).length > 0) await stack.setAllConfigJson(configJson(kept));
}
