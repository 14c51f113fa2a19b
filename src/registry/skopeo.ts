/**
 * Registry reads and copies through skopeo (containers/image): the standard registry auth flow (anonymous first, then
 * the `WWW-Authenticate` challenge and a bearer token from its realm) with the credentials of
 * `skopeo login`/`docker login` (`$REGISTRY_AUTH_FILE`, `containers/auth.json`, `~/.docker/config.json` and its
 * credential helpers such as `docker-credential-gcloud`). No token is ever made or passed by this project.
 * Loopback registries (the sandbox's) speak plain HTTP, as in `./oci`.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { bodyMediaType } from "./media-types";
import { registryScheme, splitRegistry } from "./oci";

/** One skopeo run: its exit code and output (stdout as bytes: a manifest's digest is the hash of its exact bytes). */
export interface SkopeoRun {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs `skopeo <args>`; injectable for tests. Rejects only when skopeo cannot be started. */
export type SkopeoRunner = (args: readonly string[]) => Promise<SkopeoRun>;

/** Why a registry operation failed, as a person acts on it. */
export type RegistryFailure = "not-found" | "denied" | "unreachable" | "missing-tool" | "other";

/** A failed skopeo operation: what kind of failure, and skopeo's own last line. */
export class RegistryError extends Error {
  constructor(
    readonly kind: RegistryFailure,
    readonly ref: string,
    message: string,
  ) {
    super(message);
    this.name = "RegistryError";
  }
}

/** The skopeo binary: `NOVA_SKOPEO` when set, else `skopeo` on PATH. */
export function skopeoBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env["NOVA_SKOPEO"] || "skopeo";
}

/**
 * Runs a registry tool (`bin`) with `env` (its auth files, helpers and proxy variables): exit code and output. Rejects
 * with a `missing-tool` {@link RegistryError} naming `install` when the tool cannot be started.
 */
export function toolRunner(bin: string, install: string, env: NodeJS.ProcessEnv): SkopeoRunner {
  return (args) =>
    new Promise((resolve, reject) => {
      execFile(
        bin,
        [...args],
        { env, encoding: "buffer", maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const err = error as (NodeJS.ErrnoException & { code?: unknown }) | null;
          if (err !== null && typeof err.code === "string") {
            reject(
              new RegistryError(
                "missing-tool",
                "",
                err.code === "ENOENT"
                  ? `${bin} is not installed: ${install}`
                  : `cannot run ${bin}: ${err.message}`,
              ),
            );
            return;
          }
          resolve({
            code: err === null ? 0 : typeof err.code === "number" ? err.code : 1,
            stdout,
            stderr: stderr.toString("utf8"),
          });
        },
      );
    });
}

/** The real runner: skopeo from PATH (or `NOVA_SKOPEO`), the process environment (its auth files and helpers). */
export function skopeoRunner(env: NodeJS.ProcessEnv = process.env): SkopeoRunner {
  return toolRunner(
    skopeoBinary(env),
    "install skopeo (Debian/Ubuntu: apt-get install skopeo; macOS: brew install skopeo) or set NOVA_SKOPEO to its path",
    env,
  );
}

/**
 * `--<prefix>tls-verify=false` for a loopback registry (plain HTTP, as the sandbox's); nothing for any other, so
 * skopeo verifies TLS and `registries.conf` (mirrors, `insecure`) applies as it does for every containers tool.
 */
function tlsFlags(ref: string, prefix = ""): string[] {
  return registryScheme(splitRegistry(ref).host) === "http" ? [`--${prefix}tls-verify=false`] : [];
}

/** The last meaningful line skopeo printed on stderr (its `level=fatal msg="…"` text when it used that form). */
export function skopeoMessage(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const last = lines[lines.length - 1] ?? "skopeo failed without a message";
  const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(last)?.[1];
  // skopeo quotes its message: escaped quotes and line breaks (the registry's error list) become plain text.
  return (msg ?? last)
    .replace(/\\"/g, '"')
    .split("\\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .join("; ");
}

/** Sorts a skopeo failure into what a person does about it. */
export function classify(stderr: string): RegistryFailure {
  const s = stderr.toLowerCase();
  if (/manifest unknown|not found|name unknown|no such image/.test(s)) return "not-found";
  if (/unauthorized|authentication required|denied|forbidden|\b40[13]\b/.test(s)) return "denied";
  if (/connection refused|no such host|timeout|i\/o timeout|network is unreachable/.test(s)) {
    return "unreachable";
  }
  return "other";
}

function failed(ref: string, run: SkopeoRun): RegistryError {
  const kind = classify(run.stderr);
  return new RegistryError(kind, ref, `${ref}: ${skopeoMessage(run.stderr)}`);
}

/**
 * What to do when a registry refuses this machine: the logins skopeo reads (its own, docker's, a credential helper).
 * `push`: the refusal was of a write.
 */
export function registryLoginFix(registry: string, push = false): string {
  const host = splitRegistry(registry).host;
  return (
    `log in to ${host}${push ? " with push rights" : ""} (skopeo login ${host}; docker login works too; ` +
    `Artifact Registry: gcloud auth configure-docker ${host})`
  );
}

/** What a reference points at: the digest of its manifest's exact bytes, and its media type when the body says. */
export interface ManifestInfo {
  readonly digest: string;
  readonly mediaType?: string;
}

function manifestInfo(body: Buffer): ManifestInfo {
  const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
  const mediaType = bodyMediaType(body);
  return mediaType === undefined ? { digest } : { digest, mediaType };
}

/**
 * The manifest `ref` (`registry/repository:tag` or `@sha256:…`) points at, as stored: for a multi-arch image the index,
 * which is what the nodes pull. Throws a {@link RegistryError}.
 */
export async function inspectManifest(run: SkopeoRunner, ref: string): Promise<ManifestInfo> {
  const out = await run(["inspect", "--raw", "--retry-times", "2", ...tlsFlags(ref), `docker://${ref}`]);
  if (out.code !== 0) throw failed(ref, out);
  return manifestInfo(out.stdout);
}

/**
 * Copies `source` (pinned by digest) to `destination` with every platform's image (`--all`) and the digest preserved
 * (`--preserve-digests`: skopeo refuses instead of converting), then reads the destination back: the copy counts only
 * when the destination answers with the source digest. Throws a {@link RegistryError}.
 */
export async function copyByDigest(
  run: SkopeoRunner,
  source: string,
  destination: string,
  digest: string,
): Promise<ManifestInfo> {
  const out = await run([
    "copy",
    "--all",
    "--preserve-digests",
    "--retry-times",
    "2",
    ...tlsFlags(source, "src-"),
    ...tlsFlags(destination, "dest-"),
    `docker://${source}`,
    `docker://${destination}`,
  ]);
  if (out.code !== 0) throw failed(destination, out);
  const copied = await inspectManifest(run, destination);
  if (copied.digest !== digest) {
    throw new RegistryError(
      "other",
      destination,
      `${destination}: the copy answers with ${copied.digest}, not ${digest}; the registry changed the image`,
    );
  }
  return copied;
}
