/**
 * What the gate asks of a registry, behind one interface: the digest a reference resolves to (skopeo) and whether this
 * machine may push to a repository (`nova-registry-check`, go-containerregistry: a blob upload started and cancelled).
 * Both speak the registry's own auth flow (anonymous, then its `WWW-Authenticate` challenge and a token from its realm)
 * with the credentials of `docker login`/`skopeo login` and their credential helpers; the standard proxy and CA
 * variables (HTTPS_PROXY, NO_PROXY, SSL_CERT_FILE) apply to both. Inject a fake in tests.
 */
import { IMAGE_REPOSITORIES } from "../contract";
import { inspectManifest, skopeoMessage, skopeoRunner, toolRunner, type SkopeoRunner } from "./skopeo";

/** Whether a push to a repository is permitted, and the registry's words either way. */
export interface PushPermission {
  readonly ok: boolean;
  readonly detail: string;
}

export interface RegistryAccess {
  /** The digest `ref` (`registry/repository:tag`) resolves to: for a multi-arch image its index. Throws a RegistryError. */
  digestOf(ref: string): Promise<string>;
  /** Whether this machine may push to `repository` (`registry/repository`); nothing is pushed. */
  pushPermission(repository: string): Promise<PushPermission>;
}

/** The push checker: `NOVA_REGISTRY_CHECK` when set, else `nova-registry-check` on PATH (`npm run setup` builds it). */
export function registryCheckBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env["NOVA_REGISTRY_CHECK"] || "nova-registry-check";
}

/** The real access: skopeo and nova-registry-check with `env` (credentials, proxy, CA). */
export function registryAccess(
  env: NodeJS.ProcessEnv = process.env,
  tools: { readonly skopeo?: SkopeoRunner; readonly check?: SkopeoRunner } = {},
): RegistryAccess {
  const skopeo = tools.skopeo ?? skopeoRunner(env);
  const check =
    tools.check ??
    toolRunner(
      registryCheckBinary(env),
      "build it with `go build -o nova-registry-check ./tools/registry-check` (npm run setup does) or set NOVA_REGISTRY_CHECK to its path",
      env,
    );
  return {
    digestOf: async (ref) => (await inspectManifest(skopeo, ref)).digest,
    pushPermission: async (repository) => {
      try {
        const out = await check(["push", repository]);
        const text = out.code === 0 ? out.stdout.toString("utf8") : out.stderr;
        return { ok: out.code === 0, detail: skopeoMessage(text).replace(/^push (refused|permitted): /, "") };
      } catch (e) {
        return { ok: false, detail: (e as Error).message };
      }
    },
  };
}

/** `<registry>/<repository>` of each service's image. */
export function serviceRepositories(imageRegistry: string): { api: string; worker: string } {
  const base = imageRegistry.replace(/\/+$/, "");
  return { api: `${base}/${IMAGE_REPOSITORIES.api}`, worker: `${base}/${IMAGE_REPOSITORIES.worker}` };
}
