import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { CONFIG_NAMESPACE } from "./schema";
import {
  ConfigValidationError,
  isSecretConfigKey,
  parseStackSettings,
  projectKeys,
  type ConfigProblem,
  type StackSettings,
} from "./settings";

/** Placeholder used for encrypted values when a stack file is read without the engine (never a real secret). */
export const ENCRYPTED_PLACEHOLDER = "[encrypted]";

/** The `config:` map of a `Pulumi.<stack>.yaml`, with encrypted values replaced by a placeholder. */
export interface StackFile {
  readonly path: string;
  readonly config: Readonly<Record<string, unknown>>;
  /** Keys whose values are stored encrypted (`secure:`). */
  readonly encryptedKeys: ReadonlySet<string>;
}

export function stackFilePath(projectDir: string, stack: string): string {
  return path.join(projectDir, `Pulumi.${stack}.yaml`);
}

/** Reads `Pulumi.<stack>.yaml` without decrypting anything. Throws a plain Error naming the file if it is unreadable. */
export function readStackFile(projectDir: string, stack: string): StackFile {
  const file = stackFilePath(projectDir, stack);
  let doc: unknown;
  try {
    doc = parseYaml(fs.readFileSync(file, "utf8"));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`Cannot read the stack config ${file}: ${reason}`);
  }
  const configSection = (doc as { config?: unknown } | null)?.config ?? {};
  if (typeof configSection !== "object" || configSection === null || Array.isArray(configSection)) {
    throw new Error(`${file}: "config" must be a map of keys to values`);
  }
  const config: Record<string, unknown> = {};
  const encryptedKeys = new Set<string>();
  for (const [key, value] of Object.entries(configSection)) {
    if (isEncrypted(value)) {
      encryptedKeys.add(key);
      config[key] = ENCRYPTED_PLACEHOLDER;
    } else {
      config[key] = typeof value === "object" && value !== null ? JSON.stringify(value) : value;
    }
  }
  return { path: file, config, encryptedKeys };
}

function isEncrypted(value: unknown): boolean {
  return typeof value === "object" && value !== null && "secure" in value;
}

/** Secret keys stored in plain text in a stack file: each is a problem, since it would end up readable in git. */
export function plaintextSecretProblems(file: StackFile): ConfigProblem[] {
  return Object.keys(file.config)
    .filter((key) => key.startsWith(`${CONFIG_NAMESPACE}:`))
    .filter(
      (key) => isSecretConfigKey(key.slice(CONFIG_NAMESPACE.length + 1)) && !file.encryptedKeys.has(key),
    )
    .map((key) => ({ key, message: "is a secret: store it with `pulumi config set --secret`" }));
}

/**
 * Validates a stack file as the program would, without decrypting secrets: used by the CLI and the readiness gate
 * before any engine runs. Secret values are placeholders in the result.
 */
export function loadStackSettingsFromFile(projectDir: string, stack: string): StackSettings {
  const file = readStackFile(projectDir, stack);
  const plaintext = plaintextSecretProblems(file);
  try {
    const settings = parseStackSettings(projectKeys(file.config), { stack, projectDir });
    if (plaintext.length > 0) throw new ConfigValidationError(stack, plaintext);
    return settings;
  } catch (err) {
    if (err instanceof ConfigValidationError && plaintext.length > 0 && err.problems !== plaintext) {
      throw new ConfigValidationError(stack, [...err.problems, ...plaintext]);
    }
    throw err;
  }
}
