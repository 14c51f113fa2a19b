/**
 * What a verification command leaves behind (a Playwright report, a drill log, screenshots), kept as evidence: the
 * files under the named directories that were written while the command ran are copied into the evidence directory
 * under content-addressed names, their text redacted, and listed in the check's result. Used by the probe.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../util/atomic-file";

/** One file a command left, as kept. */
export interface KeptFile {
  /** Path relative to the command's directory (`playwright-report/results.json`). */
  readonly path: string;
  /** The copy's file name in the keep directory: `<sha256 prefix>-<base name>`. */
  readonly copy: string;
  /** SHA-256 of the copy (after redaction). */
  readonly sha256: string;
  readonly bytes: number;
}

/** Files kept per command, at most; the rest are named in the result as left out. */
export const MAX_KEPT_FILES = 50;

/** Bytes of one file kept, at most (a bigger file is listed, not copied). */
export const MAX_KEPT_BYTES = 20 * 1024 * 1024;

/** Whether a buffer is text (valid UTF-8 without NUL), so redaction can apply. */
function isText(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Files under `dir` (recursive) modified at or after `sinceMs`, relative to `root`, sorted. */
function writtenSince(root: string, dir: string, sinceMs: number): string[] {
  const abs = path.resolve(root, dir);
  if (!abs.startsWith(path.resolve(root) + path.sep) && abs !== path.resolve(root)) return [];
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .filter((f) => fs.statSync(f).mtimeMs >= sinceMs)
    .map((f) => path.relative(root, f))
    .sort();
}

/**
 * Copies the files written under `dirs` (relative to `cwd`) since `sinceMs` into `into`, text redacted with
 * `redact`, binary files as they are. Returns what was kept and what was left out (over the limits). Never throws
 * for a missing directory; an unwritable `into` throws.
 */
export function keepWrittenFiles(o: {
  readonly cwd: string;
  readonly dirs: readonly string[];
  readonly sinceMs: number;
  readonly into: string;
  readonly redact: (text: string) => string;
}): { kept: KeptFile[]; leftOut: string[] } {
  // mtime granularity and clock rounding: a file written in the command's first moments still counts.
  const since = o.sinceMs - 1000;
  const files = [...new Set(o.dirs.flatMap((d) => writtenSince(o.cwd, d, since)))].sort();
  const kept: KeptFile[] = [];
  const leftOut: string[] = [];
  for (const rel of files) {
    const source = path.join(o.cwd, rel);
    if (kept.length >= MAX_KEPT_FILES || fs.statSync(source).size > MAX_KEPT_BYTES) {
      leftOut.push(rel);
      continue;
    }
    const raw = fs.readFileSync(source);
    const bytes = isText(raw) ? Buffer.from(o.redact(raw.toString("utf8")), "utf8") : raw;
    const sha256 = crypto.createHash("sha256").update(bytes).digest("hex");
    const copy = `${sha256.slice(0, 16)}-${path.basename(rel)}`;
    const target = path.join(o.into, copy);
    if (!fs.existsSync(target)) writeFileAtomic(target, bytes);
    kept.push({ path: rel, copy, sha256, bytes: bytes.length });
  }
  return { kept, leftOut };
}

/** The last `limit` characters of what was written, cut at a line start when possible. */
export function outputTail(limit: number): { write: (text: string) => void; text: () => string } {
  let buffer = "";
  let cut = false;
  return {
    write: (text) => {
      buffer += text;
      if (buffer.length > 2 * limit) {
        buffer = buffer.slice(-limit);
        cut = true;
      }
    },
    text: () => {
      if (buffer.length <= limit && !cut) return buffer;
      const tail = buffer.slice(-limit);
      const newline = tail.indexOf("\n");
      return `[… earlier output left out]\n${newline >= 0 && newline < tail.length - 1 ? tail.slice(newline + 1) : tail}`;
    },
  };
}
