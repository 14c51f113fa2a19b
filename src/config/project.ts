/**
 * Where the project is and where its files are: the one resolver of the project directory (the directory of the
 * `Pulumi.yaml` naming this project) and of the evidence directory. The program, the CLI, the collector, the gate and
 * the policy pack all resolve them here, so a relative path means the same thing to each.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { DEFAULT_EVIDENCE_DIR, PROJECT_NAME } from "../contract";

export { PROJECT_NAME } from "../contract";

/** Whether `dir/Pulumi.yaml` declares the project `name`. */
export function isProjectDir(dir: string, name: string = PROJECT_NAME): boolean {
  try {
    const doc: unknown = parseYaml(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"));
    return (doc as { name?: unknown } | null)?.name === name;
  } catch {
    return false;
  }
}

/** Searches upward from each start directory for the Pulumi.yaml of `name`. */
export function findProjectDir(starts: readonly string[], name: string = PROJECT_NAME): string | undefined {
  for (const start of starts) {
    let dir = path.resolve(start);
    for (;;) {
      if (isProjectDir(dir, name)) {
        return dir;
      }
      const parent = path.dirname(dir);
      if (parent === dir) {
        break;
      }
      dir = parent;
    }
  }
  return undefined;
}

/**
 * The project directory (absolute): `explicit` when given (a `--project-dir` flag, a policy option), else the
 * nearest directory above one of `starts` whose Pulumi.yaml declares this project, else the first start.
 */
export function resolveProjectDir(
  explicit: string | undefined,
  starts: readonly string[] = [process.cwd()],
): string {
  return path.resolve(explicit ?? findProjectDir(starts) ?? starts[0] ?? process.cwd());
}

/**
 * A path from stack config or an option: URLs stay as they are, `~/` is the home directory, other relative paths
 * resolve against the project directory.
 */
export function resolveConfigPath(projectDir: string, p: string): string {
  if (p.includes("://")) return p;
  if (p === "~" || p.startsWith("~/")) return path.join(os.homedir(), p.slice(1));
  return path.resolve(projectDir, p);
}

/** Where a stack is: its project directory and the app checkout its config names (`nova-rollout:appDir`), if any. */
export interface StackPlace {
  readonly projectDir: string;
  readonly appDir?: string | undefined;
}

/**
 * The evidence directory (absolute) of a stack: the first of `choices` that is set, in the caller's order of
 * precedence (a `--evidence-dir` flag or policy option, then the stack's `nova-rollout:evidenceDir`, …), else
 * {@link DEFAULT_EVIDENCE_DIR}. A relative path resolves against the stack's app checkout when it has one (its
 * configured `appDir`, or the app around this program's `infra/`), where the playbook keeps `tests/drills/logs/<env>/`;
 * else against the project directory. Only the stack's config chooses the app here (never a command's `--app-dir`),
 * so the preflight, the gate and the program read one place.
 */
export function evidenceDirOf(place: StackPlace, ...choices: readonly (string | undefined)[]): string {
  const chosen = choices.find((c) => c !== undefined && c.trim() !== "") ?? DEFAULT_EVIDENCE_DIR;
  return resolveConfigPath(resolveAppDir(place.projectDir, place.appDir) ?? place.projectDir, chosen);
}

/**
 * The app checkout: `configured` (relative to the project directory) when set; otherwise the repository root when
 * this program lives in the app's `infra/` (an ancestor directory named `infra` whose parent holds a `package.json`
 * or `pnpm-workspace.yaml`); otherwise none.
 */
export function resolveAppDir(projectDir: string, configured?: string): string | undefined {
  if (configured !== undefined && configured.trim() !== "") {
    return path.resolve(projectDir, configured);
  }
  let dir = path.resolve(projectDir);
  for (;;) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      return undefined;
    }
    if (
      path.basename(dir) === "infra" &&
      ["package.json", "pnpm-workspace.yaml"].some((f) => fs.existsSync(path.join(parent, f)))
    ) {
      return parent;
    }
    dir = parent;
  }
}
