/**
 * Reading a stack config the way the program does, for callers that must also work on an incomplete config (the
 * readiness gate at preview time, the CLI before secrets are decrypted). Every value comes from the program's own
 * zod schema, defaults included: there is one interpreter of stack config, and this is a view of it.
 */
import { type z } from "zod";
import { rawStackConfigSchema, SECRET_CONFIG_KEYS, type RawStackConfig } from "./schema";
import {
  ConfigValidationError,
  parseStackSettings,
  type ConfigProblem,
  type ParseOptions,
  type StackSettings,
} from "./settings";

type Shape = typeof rawStackConfigSchema.shape;
export type ConfigKey = keyof RawStackConfig;

/** The result of inspecting a stack config: the full settings when valid, and each key on its own either way. */
export interface StackConfigInspection {
  /** The typed settings, when the whole config is valid. */
  readonly settings?: StackSettings;
  /** Every problem of the whole config (empty when `settings` is set). */
  readonly problems: readonly ConfigProblem[];
  /**
   * One key's value as the schema reads it (its default when unset), or undefined when it is unset without a
   * default or malformed (a problem then names it). Secret keys are never returned.
   */
  value<K extends ConfigKey>(key: K): RawStackConfig[K] | undefined;
}

function isSet(v: unknown): boolean {
  return v !== undefined && !(typeof v === "string" && v.trim() === "");
}

/**
 * Inspects the raw config of a stack (keys without the `nova-rollout:` prefix). Never throws for a user mistake:
 * problems are returned. `parsed`: the settings the program already parsed from this same config; the whole config
 * is then not validated again.
 */
export function inspectStackConfig(
  raw: Readonly<Record<string, unknown>>,
  options: ParseOptions,
  parsed?: StackSettings,
): StackConfigInspection {
  let settings: StackSettings | undefined = parsed;
  let problems: readonly ConfigProblem[] = [];
  if (settings === undefined) {
    try {
      settings = parseStackSettings(raw, options);
    } catch (err) {
      if (!(err instanceof ConfigValidationError)) throw err;
      problems = err.problems;
    }
  }
  const shape: Shape = rawStackConfigSchema.shape;
  const cache = new Map<string, unknown>();
  return {
    ...(settings !== undefined ? { settings } : {}),
    problems,
    value<K extends ConfigKey>(key: K): RawStackConfig[K] | undefined {
      if (SECRET_CONFIG_KEYS.includes(key)) return undefined;
      if (!cache.has(key)) {
        const input = isSet(raw[key]) ? raw[key] : undefined;
        const parsed = (shape[key] as z.ZodType).safeParse(input);
        cache.set(key, parsed.success ? parsed.data : undefined);
      }
      return cache.get(key) as RawStackConfig[K] | undefined;
    },
  };
}
