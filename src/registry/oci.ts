/** Registry address helpers (host and repository prefix; plain HTTP for loopback registries). Pure: no I/O. */

/** Splits `[scheme://]host[:port][/path/prefix][/]` into host and repository prefix (no slashes at either end). */
export function splitRegistry(registry: string): { host: string; prefix: string } {
  const trimmed = registry.replace(/^[a-z]+:\/\//, "").replace(/\/+$/, "");
  const slash = trimmed.indexOf("/");
  return slash < 0
    ? { host: trimmed, prefix: "" }
    : { host: trimmed.slice(0, slash), prefix: trimmed.slice(slash + 1) };
}

/** `http` for loopback registries (127.x.x.x, localhost, [::1], any port), `https` otherwise. */
export function registryScheme(host: string): "http" | "https" {
  return /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host) ? "http" : "https";
}
