/**
 * Half-written metadata of a file (`file://`) state backend. The backend writes each object (the stack's checkpoint, a
 * lock, a history entry) through a temporary file that is renamed into place, but the object's `.attrs` metadata
 * (content type, checksum) in place: an engine killed between creating that file and writing it leaves it empty or
 * cut, and from then on every read of the object fails (`failed to load checkpoint: EOF`). The metadata is not
 * needed to read the object (a missing `.attrs` file means none), so `rollout recover` sets such a file aside: moved out
 * of the backend's `.pulumi/` folder (where the backend would list it as an object) into `.pulumi-set-aside/`, never
 * deleted. Object stores (`gs://`) write objects and their metadata at once and are not affected.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { configuredBackend, fileBackendPath } from "./backend";

/** The state backend's folders that hold a stack's objects. */
const STATE_FOLDERS = ["stacks", "locks", "history", "backups"] as const;

/** Whether `file` (an `.attrs` metadata file) is whole: a JSON object. */
function wholeMetadata(file: string): boolean {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
    return typeof parsed === "object" && parsed !== null;
  } catch {
    return false;
  }
}

/** Whether a file under the state folders belongs to `stack` (`<stack>.json…` or anything in a `<stack>/` folder). */
function ofStack(rel: string, stack: string): boolean {
  const parts = rel.split(path.sep);
  const base = parts[parts.length - 1] ?? "";
  return base.startsWith(`${stack}.`) || parts.slice(0, -1).includes(stack);
}

/**
 * The `.attrs` metadata files of `stack` in the file backend at `backendDir` that are not whole (empty or cut), as
 * absolute paths, sorted. None when the backend has no such folder.
 */
export function halfWrittenMetadata(backendDir: string, stack: string): string[] {
  const root = path.join(backendDir, ".pulumi");
  return STATE_FOLDERS.flatMap((folder) => {
    const dir = path.join(root, folder);
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".attrs"))
      .map((e) => path.join(e.parentPath, e.name))
      .filter((f) => ofStack(path.relative(dir, f), stack) && !wholeMetadata(f));
  }).sort();
}

/**
 * Moves each file (under `<backendDir>/.pulumi/`) to the same place under `<backendDir>/.pulumi-set-aside/`, with
 * `.<timestamp>` appended: kept for inspection, no longer read by the backend. Returns the new paths, in order.
 */
export function setAsideMetadata(
  backendDir: string,
  files: readonly string[],
  now: Date = new Date(),
): string[] {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
  const root = path.join(backendDir, ".pulumi");
  return files.map((file) => {
    const aside = path.join(backendDir, ".pulumi-set-aside", `${path.relative(root, file)}.${stamp}`);
    fs.mkdirSync(path.dirname(aside), { recursive: true });
    fs.renameSync(file, aside);
    return aside;
  });
}

/**
 * Sets aside the half-written metadata of `stack` when the engine's backend (`env`, as {@link configuredBackend} reads
 * it) is a file backend; returns the moved files' new paths (none for another backend or when all is whole).
 */
export function repairFileBackendMetadata(
  projectDir: string,
  stack: string,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const url = configuredBackend(projectDir, env)?.url;
  const dir = url === undefined ? undefined : fileBackendPath(url, projectDir, env.HOME ?? os.homedir());
  if (dir === undefined) return [];
  const broken = halfWrittenMetadata(dir, stack);
  return broken.length === 0 ? [] : setAsideMetadata(dir, broken);
}
