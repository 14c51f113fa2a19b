/**
 * Reading the artifacts a preflight judges: a file with its project-relative path, the files of a directory, and a
 * document's "last changed" time (git when it knows the file, else the file's mtime).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { type DatedDocument } from "./checks/docs-updated";
import { type LoadedArtifact } from "./checks/types";
import { toProjectRelative } from "./paths";

/** When a document last changed, and how that was found. */
export type UpdatedAtFn = (absolutePath: string, projectDir: string) => { date: Date; how: "git" | "mtime" };

/** Reads a file (relative to `base`, default the project directory); its path is recorded relative to the project. */
export function load(projectDir: string, rel: string, base: string = projectDir): LoadedArtifact | undefined {
  const abs = path.resolve(base, rel);
  try {
    if (!fs.statSync(abs).isFile()) {
      return undefined;
    }
    return { path: toProjectRelative(projectDir, abs), bytes: fs.readFileSync(abs) };
  } catch {
    return undefined;
  }
}

export function filesIn(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}

/**
 * Default "last changed" time: the last commit touching the file when git knows it and it has no uncommitted
 * changes (checkouts reset mtimes, commits do not); the file's mtime when it is untracked, modified, or git is absent.
 */
export const gitOrMtime: UpdatedAtFn = (abs, projectDir) => {
  const mtime = { date: fs.statSync(abs).mtime, how: "mtime" as const };
  try {
    const opts = {
      cwd: projectDir,
      encoding: "utf8" as const,
      stdio: ["ignore", "pipe", "ignore"] as ["ignore", "pipe", "ignore"],
    };
    const dirty = execFileSync("git", ["status", "--porcelain", "--", abs], opts).trim();
    if (dirty.length > 0) {
      return mtime;
    }
    const iso = execFileSync("git", ["log", "-1", "--format=%cI", "--", abs], opts).trim();
    const date = new Date(iso);
    return iso.length > 0 && !Number.isNaN(date.getTime()) ? { date, how: "git" } : mtime;
  } catch {
    return mtime;
  }
};

export function dated(
  projectDir: string,
  abs: string | undefined,
  updatedAt: UpdatedAtFn,
  repoDir: string = projectDir,
): DatedDocument | undefined {
  if (abs === undefined) {
    return undefined;
  }
  const artifact = load(projectDir, abs);
  if (artifact === undefined) {
    return undefined;
  }
  const { date, how } = updatedAt(abs, repoDir);
  return { artifact, updatedAt: date, how };
}
