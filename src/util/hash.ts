import { createHash } from "node:crypto";

/** A short, stable hex digest of the given parts, for names and checksums that must change when any part does. */
export function shortHash(parts: readonly string[], length = 16): string {
  const h = createHash("sha256");
  for (const part of parts) h.update(part).update("\u0000");
  return h.digest("hex").slice(0, length);
}
