/**
 * Atomic file writes: the bytes go to a temp name in the destination's directory (same filesystem), are flushed, and
 * a rename or hard link puts them in place, so a reader sees no file or the whole file, never a part of one. Temp
 * names start with a dot and end in `.tmp`, so no reader that picks files by suffix ever takes one.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface AtomicWriteOptions {
  /** File mode of a new file (before the umask). Default 0o666, as `fs.writeFileSync`. */
  readonly mode?: number;
}

/** A temp path beside `file`: `.<name>.<random>.tmp`. */
export function tempPathFor(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${crypto.randomBytes(6).toString("hex")}.tmp`,
  );
}

/** Writes and flushes `data` to a new file (fails when it exists). */
function writeNew(file: string, data: string | Buffer, mode: number): void {
  const fd = fs.openSync(file, "wx", mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function isCode(e: unknown, code: string): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === code;
}

/**
 * Moves a finished file to `dest` only when nothing is there yet: a hard link (atomic, refuses to replace) and the
 * removal of `src`. On filesystems without hard links, a rename after checking that `dest` is free. Throws an error
 * with code `EEXIST` when `dest` exists; `src` is then left in place.
 */
export function publishFile(src: string, dest: string): void {
  try {
    fs.linkSync(src, dest);
  } catch (e) {
    if (isCode(e, "EEXIST")) throw e;
    if (fs.existsSync(dest)) {
      throw Object.assign(new Error(`EEXIST: file already exists, ${dest}`), { code: "EEXIST" });
    }
    fs.renameSync(src, dest);
    return;
  }
  fs.rmSync(src, { force: true });
}

/** Writes `file` atomically (temp name + rename), replacing what was there. Creates the directory. */
export function writeFileAtomic(file: string, data: string | Buffer, opts: AtomicWriteOptions = {}): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  try {
    writeNew(tmp, data, opts.mode ?? 0o666);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** How many names {@link writeFilesUnique} tries before giving up. */
export const MAX_UNIQUE_ATTEMPTS = 1000;

/**
 * Moves finished files (`sources`, e.g. temp files on the same filesystem) into `dir` under a group of names that
 * share a stem, taking the first stem no file of the group uses yet: `namesFor(0)`, then `namesFor(1)`, … Never
 * replaces a file; two writers never get the same stem. The first `sources.length` names receive the sources, in
 * order (put the file readers look for last); further names are only required to be free (files the caller writes
 * later under the same stem). Returns the absolute paths of every name of the chosen stem. On failure the sources
 * are left where they were.
 */
export function publishUnique(
  dir: string,
  namesFor: (attempt: number) => readonly string[],
  sources: readonly string[],
): string[] {
  fs.mkdirSync(dir, { recursive: true });
  for (let attempt = 0; attempt < MAX_UNIQUE_ATTEMPTS; attempt++) {
    const files = namesFor(attempt).map((n) => path.join(dir, n));
    if (files.length < sources.length) {
      throw new Error(`publishUnique: ${sources.length} files but ${files.length} names`);
    }
    if (files.some((f) => fs.existsSync(f))) continue;
    const placed: number[] = [];
    let taken = false;
    for (const [i, src] of sources.entries()) {
      try {
        publishFile(src, files[i] ?? "");
        placed.push(i);
      } catch (e) {
        if (!isCode(e, "EEXIST")) {
          for (const j of placed) fs.renameSync(files[j] ?? "", sources[j] ?? "");
          throw e;
        }
        taken = true;
        break;
      }
    }
    if (!taken) return files;
    // Another writer took this stem between the check and the link: give back what was placed, try the next one.
    for (const j of placed) fs.renameSync(files[j] ?? "", sources[j] ?? "");
  }
  throw new Error(
    `no free file name in ${dir} after ${MAX_UNIQUE_ATTEMPTS} attempts (${namesFor(0).join(", ")})`,
  );
}

/**
 * Writes a group of files that share a name stem under the first stem no file of the group uses yet, atomically and
 * without ever replacing a file (see {@link publishUnique}): `contents` go to the first names, in order. Returns the
 * absolute paths of every name of the chosen stem.
 */
export function writeFilesUnique(
  dir: string,
  namesFor: (attempt: number) => readonly string[],
  contents: readonly (string | Buffer)[],
  opts: AtomicWriteOptions = {},
): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const first = namesFor(0);
  const temps: string[] = [];
  try {
    for (const [i, data] of contents.entries()) {
      const tmp = tempPathFor(path.join(dir, first[i] ?? "file"));
      writeNew(tmp, data, opts.mode ?? 0o666);
      temps.push(tmp);
    }
    return publishUnique(dir, namesFor, temps);
  } finally {
    for (const tmp of temps) fs.rmSync(tmp, { force: true });
  }
}
