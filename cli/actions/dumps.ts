/**
 * The stack's pre-release dumps (`<stack>-<release>-<id>-<time>.dump` under its backup destination, a directory or
 * `gs://` prefix): listing them, choosing the newest, and reading one into a private local copy with its sha256.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { UserError } from "../errors";

/** `…-20261203T150405Z.dump`: the UTC time the dump started, from its name. */
const DUMP_TIME = /-(\d{8}T\d{6}Z)\.dump$/;

/** The stack's dumps under `destination` (a directory or `gs://` prefix), newest first (by the time in the name). */
export function stackDumps(destination: string, stack: string): string[] {
  let names: string[];
  if (destination.startsWith("gs://")) {
    const listed = spawnSync("gcloud", ["storage", "ls", `${destination.replace(/\/+$/, "")}/`], {
      encoding: "utf8",
    });
    if (listed.status !== 0) {
      throw new UserError(
        `could not list the dumps under ${destination}: ${(listed.stderr || listed.error?.message || "").trim()}`,
      );
    }
    names = listed.stdout.split("\n").map((l) => l.trim());
  } else {
    names = fs.existsSync(destination)
      ? fs.readdirSync(destination).map((n) => path.join(destination, n))
      : [];
  }
  return names
    .filter((n) => path.basename(n).startsWith(`${stack}-`) && DUMP_TIME.test(n))
    .sort((a, b) => (DUMP_TIME.exec(b)?.[1] ?? "").localeCompare(DUMP_TIME.exec(a)?.[1] ?? ""));
}

/** The stack's newest dump under its backup destination; a user error when there is none. */
export function newestDump(destination: string, stack: string): string {
  const dump = stackDumps(destination, stack)[0];
  if (dump === undefined) {
    throw new UserError(
      `no dump of stack ${stack} under ${destination} (each release writes <stack>-<release>-<id>-<time>.dump there); name one with --dump`,
    );
  }
  return dump;
}

/** A dump read into a private temporary file, with the sha256 of its bytes. */
export interface LocalDump {
  readonly file: string;
  readonly sha256: string;
  /** Removes the copy (a no-op for a local dump, which is read where it is). */
  readonly dispose: () => void;
}

/**
 * Reads a `gs://` dump once through `gcloud storage cat` into `sink`, hashing what passes; resolves to the sha256.
 */
async function streamGcsDump(dump: string, sink: NodeJS.WritableStream): Promise<string> {
  const hash = createHash("sha256");
  const child = spawn("gcloud", ["storage", "cat", dump], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", (e) => reject(new UserError(`could not run gcloud to read ${dump}: ${e.message}`)));
    child.on("close", (code) => resolve(code ?? 1));
  });
  // Awaited after the copy; until then a failure to start is held here, not left unhandled.
  exited.catch(() => undefined);
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(child.stdout, hashing, sink);
  const code = await exited;
  if (code !== 0) throw new UserError(`could not read the dump ${dump}: ${stderr.trim() || `exit ${code}`}`);
  return hash.digest("hex");
}

async function localFileSha256(dump: string): Promise<string> {
  if (!fs.existsSync(dump)) throw new UserError(`the dump ${dump} does not exist`);
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(dump)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The sha256 of a dump's bytes (a path or `gs://` object), read once and kept nowhere. */
export function dumpSha256(dump: string): Promise<string> {
  if (!dump.startsWith("gs://")) return localFileSha256(dump);
  const discard = new Writable({ write: (_chunk, _enc, done) => done() });
  return streamGcsDump(dump, discard);
}

/**
 * The dump's bytes and their sha256: a local file is hashed in place; a `gs://` object is streamed once through
 * `gcloud storage cat` into a private temporary directory, so what was hashed is what gets restored.
 */
export async function localDump(dump: string): Promise<LocalDump> {
  if (!dump.startsWith("gs://")) {
    return { file: dump, sha256: await localFileSha256(dump), dispose: () => undefined };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-restore-"));
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  const file = path.join(dir, path.basename(dump));
  try {
    const sha256 = await streamGcsDump(dump, fs.createWriteStream(file, { mode: 0o600 }));
    return { file, sha256, dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}
