/**
 * Which Pulumi backend and secrets passphrase the rollout CLI gives the engine for a stack. The sandbox defaults (a
 * file backend inside the repository and the public {@link SANDBOX_PASSPHRASE}) apply to the sandbox stack `local`
 * only; every other stack runs on the user's own backend and secrets provider, and production stacks may use
 * neither the sandbox passphrase nor a file backend inside the project. Pure apart from reading a few small files
 * (Pulumi.yaml, the stack file, credentials.json, a passphrase file) through an injectable reader.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import type { StackClass } from "../src/evidence/stack-class";
import { SANDBOX_PASSPHRASE, SANDBOX_STACK, selectedToolchain, toolchainEnv } from "../tools/toolchain";
import { UserError } from "./errors";

/** Reads a text file; `undefined` when it does not exist or cannot be read. */
export type ReadTextFile = (file: string) => string | undefined;

/** The default {@link ReadTextFile}: node:fs, any error read as "absent". */
export const readTextFile: ReadTextFile = (file) => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};

/** Inputs of {@link engineEnvFor}. */
export interface EngineEnvInput {
  /** The project directory (where Pulumi.yaml and the stack files are); the engine runs there. */
  readonly projectDir: string;
  /** The stack name. */
  readonly stack: string;
  /** The user's environment (normally `process.env`). */
  readonly baseEnv: NodeJS.ProcessEnv;
  /** Whether the stack is production (`classifyStackFile(projectDir, stack).production`). */
  readonly production: boolean;
  /** Why it is production, for messages (see {@link productionReason}). */
  readonly productionReason?: string;
  /** File reader, for tests; defaults to {@link readTextFile}. */
  readonly readFile?: ReadTextFile;
  /** Home directory for `~` in file backend URLs; defaults to `baseEnv.HOME`, then `os.homedir()`. */
  readonly homeDir?: string;
}

/** A configured backend URL and where it was configured, for messages. */
export interface ConfiguredBackend {
  readonly url: string;
  /** `PULUMI_BACKEND_URL`, `Pulumi.yaml backend.url` or `pulumi login (<credentials.json>)`. */
  readonly source: string;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== "" ? value.trim() : undefined;
}

/**
 * The backend the engine will use, in Pulumi's order: `PULUMI_BACKEND_URL`, then `backend.url` of the project's
 * Pulumi.yaml, then the `current` URL of `pulumi login` in `<PULUMI_HOME>/credentials.json`, where PULUMI_HOME is
 * the one the engine runs with. `undefined` when none is configured.
 */
export function configuredBackend(
  projectDir: string,
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadTextFile = readTextFile,
): ConfiguredBackend | undefined {
  const fromEnv = nonEmpty(env.PULUMI_BACKEND_URL);
  if (fromEnv !== undefined) return { url: fromEnv, source: "PULUMI_BACKEND_URL" };

  const projectText = readFile(path.join(projectDir, "Pulumi.yaml"));
  if (projectText !== undefined) {
    try {
      const doc = parseYaml(projectText) as { backend?: { url?: unknown } } | null;
      const url = doc?.backend?.url;
      if (typeof url === "string" && nonEmpty(url) !== undefined) {
        return { url: url.trim(), source: "Pulumi.yaml backend.url" };
      }
    } catch {
      // An unreadable Pulumi.yaml configures nothing here; the engine reports it.
    }
  }

  const home = nonEmpty(env.PULUMI_HOME);
  if (home !== undefined) {
    const credentialsFile = path.join(home, "credentials.json");
    const text = readFile(credentialsFile);
    if (text !== undefined) {
      try {
        const doc = JSON.parse(text) as { current?: unknown } | null;
        const current = doc?.current;
        if (typeof current === "string" && nonEmpty(current) !== undefined) {
          return { url: current.trim(), source: `pulumi login (${credentialsFile})` };
        }
      } catch {
        // Malformed credentials configure nothing.
      }
    }
  }
  return undefined;
}

/**
 * Whether `Pulumi.<stack>.yaml` uses the passphrase secrets provider: it has an `encryptionsalt` and no
 * `secretsprovider` other than `passphrase`. False when the file is missing or unreadable.
 */
export function usesPassphraseProvider(
  projectDir: string,
  stack: string,
  readFile: ReadTextFile = readTextFile,
): boolean {
  const text = readFile(path.join(projectDir, `Pulumi.${stack}.yaml`));
  if (text === undefined) return false;
  try {
    const doc = parseYaml(text) as { encryptionsalt?: unknown; secretsprovider?: unknown } | null;
    const salt = doc?.encryptionsalt;
    const provider = doc?.secretsprovider;
    const hasSalt = typeof salt === "string" && salt.trim() !== "";
    const otherProvider =
      provider !== undefined &&
      provider !== null &&
      !(typeof provider === "string" && provider === "passphrase");
    return hasSalt && !otherProvider;
  } catch {
    return false;
  }
}

/**
 * The absolute directory of a `file://` backend URL (query removed, `~` expanded, a relative path resolved against
 * `cwd`, where the engine runs); `undefined` for any other kind of backend.
 */
export function fileBackendPath(url: string, cwd: string, homeDir: string): string | undefined {
  if (!url.startsWith("file://")) return undefined;
  let p = url.slice("file://".length).replace(/[?#].*$/, "");
  try {
    p = decodeURIComponent(p);
  } catch {
    // keep the raw path
  }
  if (p === "~" || p.startsWith("~/")) p = path.join(homeDir, p.slice(1));
  return path.resolve(cwd, p);
}

/** `p` with its longest existing prefix resolved through symlinks (so /tmp and /private/tmp compare equal). */
function realpathLoose(p: string): string {
  const rest: string[] = [];
  let current = path.resolve(p);
  for (;;) {
    try {
      return path.join(fs.realpathSync(current), ...rest.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return path.resolve(p);
      rest.push(path.basename(current));
      current = parent;
    }
  }
}

/** Whether `p` is `dir` or lies below it (symlinks resolved where the paths exist). */
export function isInside(dir: string, p: string): boolean {
  const rel = path.relative(realpathLoose(dir), realpathLoose(p));
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * Why a stack classified by `classifyStackFile` is production, as a short clause for messages: its declared
 * environment, the protected targets it points at, or the fail-closed case (stack file or committed enforcement
 * unreadable). `undefined` when it is not production.
 */
export function productionReason(cls: StackClass): string | undefined {
  if (!cls.production) return undefined;
  const reasons: string[] = [];
  if (cls.declaredEnvironment === "production") reasons.push("it declares environment production");
  if (cls.protectedTargets.length > 0) reasons.push(`it targets ${cls.protectedTargets.join(", ")}`);
  return reasons.length > 0
    ? reasons.join(" and ")
    : "its stack file or policy/config/production.json cannot be read, so it counts as production";
}

/** A passphrase source the engine may use, with its value when it could be read (never printed). */
interface PassphraseSource {
  readonly name: "PULUMI_CONFIG_PASSPHRASE" | "PULUMI_CONFIG_PASSPHRASE_FILE";
  readonly file?: string;
  readonly value: string | undefined;
}

function passphraseSources(
  env: NodeJS.ProcessEnv,
  projectDir: string,
  readFile: ReadTextFile,
): PassphraseSource[] {
  const out: PassphraseSource[] = [];
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) {
    out.push({ name: "PULUMI_CONFIG_PASSPHRASE", value: env.PULUMI_CONFIG_PASSPHRASE });
  }
  const fileVar = nonEmpty(env.PULUMI_CONFIG_PASSPHRASE_FILE);
  if (fileVar !== undefined) {
    const file = path.resolve(projectDir, fileVar);
    // Pulumi reads the file from the engine's working directory and ignores surrounding whitespace.
    out.push({ name: "PULUMI_CONFIG_PASSPHRASE_FILE", file, value: readFile(file)?.trim() });
  }
  return out;
}

/**
 * `env` with the toolchain's binaries first on PATH (what `npm run setup` built, e.g. `nova-registry-check`), for the
 * tools the CLI itself runs; nothing else of the toolchain environment.
 */
export function withToolchainPath(
  projectDir: string,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const { PATH } = toolchainEnv(projectDir, env, { toolchain: selectedToolchain(env).kind });
  return PATH === undefined ? env : { ...env, PATH };
}

/**
 * The environment variables for the Automation API (`LocalWorkspace` `envVars`) for one stack: the toolchain
 * environment, plus
 * - stack `local`: the sandbox defaults (repository file backend, sandbox passphrase), a value the user set winning;
 * - any other stack: no defaults; the user's `PULUMI_BACKEND_URL`, `PULUMI_CONFIG_PASSPHRASE` and
 *   `PULUMI_CONFIG_PASSPHRASE_FILE` are passed through. A backend must be configured (PULUMI_BACKEND_URL,
 *   Pulumi.yaml `backend.url` or `pulumi login`), and a stack on the passphrase provider needs a passphrase;
 * - production stacks (any name): the sandbox passphrase and a file backend inside `projectDir` are refused.
 *
 * Throws a {@link UserError} (exit code `EXIT.usage`) with one actionable line; no message contains a passphrase.
 */
export function engineEnvFor(input: EngineEnvInput): Record<string, string> {
  const { projectDir, stack, baseEnv, production } = input;
  const readFile = input.readFile ?? readTextFile;
  const homeDir = input.homeDir ?? nonEmpty(baseEnv.HOME) ?? os.homedir();
  const sandbox = stack === SANDBOX_STACK;
  // The toolchain `npm run setup` chose (a Pulumi CLI on PATH, else the offline build; NOVA_TOOLCHAIN overrides).
  const env = toolchainEnv(projectDir, baseEnv, {
    sandboxDefaults: sandbox,
    toolchain: selectedToolchain(baseEnv).kind,
  });
  const label = `Stack "${stack}"`;
  const isProduction =
    input.productionReason !== undefined ? `is production (${input.productionReason})` : "is production";

  if (!sandbox) {
    // Pass the user's own settings through explicitly, so the engine gets exactly what was checked here.
    for (const name of ["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"]) {
      const value = baseEnv[name];
      if (value !== undefined && value !== "") env[name] = value;
    }
  }
  // What the engine will see: the user's environment with ours on top.
  const effective: NodeJS.ProcessEnv = { ...baseEnv, ...env };

  const backend = configuredBackend(projectDir, effective, readFile);
  if (backend === undefined) {
    throw new UserError(
      `${label} has no Pulumi backend configured: set PULUMI_BACKEND_URL=<url> (e.g. gs://<bucket>/nova-rollout or ` +
        `https://api.pulumi.com) or run \`pulumi login <url>\` with PULUMI_HOME=${effective.PULUMI_HOME ?? ""}; ` +
        `the sandbox file backend is only for the stack "${SANDBOX_STACK}".`,
    );
  }

  const passphrases = passphraseSources(effective, projectDir, readFile);
  const inEffect = passphrases[0];
  if (!sandbox && usesPassphraseProvider(projectDir, stack, readFile)) {
    if (inEffect === undefined) {
      throw new UserError(
        `${label} uses the passphrase secrets provider (Pulumi.${stack}.yaml) but neither PULUMI_CONFIG_PASSPHRASE ` +
          `nor PULUMI_CONFIG_PASSPHRASE_FILE is set: set one of them to the stack's passphrase; the sandbox ` +
          `passphrase is only for the stack "${SANDBOX_STACK}".`,
      );
    }
    if (inEffect.name === "PULUMI_CONFIG_PASSPHRASE" && inEffect.value === "") {
      throw new UserError(
        `${label} uses the passphrase secrets provider but PULUMI_CONFIG_PASSPHRASE is empty: set it to the ` +
          `stack's passphrase, or unset it and set PULUMI_CONFIG_PASSPHRASE_FILE.`,
      );
    }
  }
  if (!sandbox && inEffect?.name === "PULUMI_CONFIG_PASSPHRASE_FILE" && inEffect.value === undefined) {
    throw new UserError(
      `${label}: cannot read PULUMI_CONFIG_PASSPHRASE_FILE (${inEffect.file ?? ""}): point it at a readable file ` +
        `holding the stack's passphrase.`,
    );
  }

  if (production) {
    for (const source of passphrases) {
      if (source.value !== undefined && source.value.trim() === SANDBOX_PASSPHRASE) {
        const where =
          source.name === "PULUMI_CONFIG_PASSPHRASE"
            ? "PULUMI_CONFIG_PASSPHRASE is"
            : `the file in PULUMI_CONFIG_PASSPHRASE_FILE (${source.file ?? ""}) holds`;
        throw new UserError(
          `${label} ${isProduction} and ${where} the public sandbox passphrase; production stacks never use it: ` +
            `set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE to the stack's own passphrase.`,
        );
      }
    }
    const statePath = fileBackendPath(backend.url, projectDir, homeDir);
    if (statePath !== undefined && isInside(projectDir, statePath)) {
      throw new UserError(
        `${label} ${isProduction} and its backend (${backend.source}) is a file backend inside the project ` +
          `(${statePath}); production state never lives in the repository: set PULUMI_BACKEND_URL to a backend ` +
          `outside ${projectDir} (e.g. gs://<bucket>/nova-rollout).`,
      );
    }
  }
  return env;
}
