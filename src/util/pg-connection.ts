/**
 * Takes the password out of a PostgreSQL connection string, so that programs get it through the environment
 * (`PGPASSWORD`) and the connection string they see on their command line carries no credential. Pure.
 */

/** A connection string split into its password and everything else. */
export interface SplitConnection {
  /** The connection string without any password (userinfo password and `password` parameters removed). */
  readonly connection: string;
  /** The password as libpq would use it (percent-decoded in a URI); undefined when the string names none. */
  readonly password?: string;
  /**
   * Every spelling of the password that may appear in text: as written in the string (percent-encoded in a URI),
   * decoded, and percent-encoded the way a URI builder writes it. Empty when the string names no password.
   */
  readonly forms: readonly string[];
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const URI_RE = /^(postgres(?:ql)?:\/\/)([^/?#]*)(.*)$/is;
/** A libpq `password = value` keyword (bare or single-quoted with backslash escapes). */
const KEYWORD_PASSWORD_RE = /(^|\s)password\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))/gi;

/**
 * Splits a `postgres://` / `postgresql://` URI or a libpq `key=value` string into the string without its password
 * and the password. The last password wins, as in libpq (a `password` query parameter over the userinfo one).
 * Anything else is returned unchanged, with no password.
 */
export function splitConnection(text: string): SplitConnection {
  const uri = URI_RE.exec(text);
  const found: { raw: string; value: string }[] = [];
  let connection = text;
  if (uri) {
    const [, scheme = "", authority = "", rest = ""] = uri;
    const at = authority.lastIndexOf("@");
    let userinfo = at >= 0 ? authority.slice(0, at) : undefined;
    const hosts = at >= 0 ? authority.slice(at + 1) : authority;
    if (userinfo !== undefined) {
      const colon = userinfo.indexOf(":");
      if (colon >= 0) {
        const raw = userinfo.slice(colon + 1);
        found.push({ raw, value: decode(raw) });
        userinfo = userinfo.slice(0, colon);
      }
    }
    const q = /^([^?#]*)(?:\?([^#]*))?(#.*)?$/s.exec(rest);
    const [, dbPath = rest, query, fragment = ""] = q ?? [];
    const kept: string[] = [];
    for (const pair of (query ?? "").split("&").filter((p) => p !== "")) {
      const eq = pair.indexOf("=");
      const key = decode(eq >= 0 ? pair.slice(0, eq) : pair).toLowerCase();
      if (key === "password") {
        const raw = eq >= 0 ? pair.slice(eq + 1) : "";
        found.push({ raw, value: decode(raw.replace(/\+/g, " ")) });
      } else kept.push(pair);
    }
    const auth = userinfo !== undefined && userinfo !== "" ? `${userinfo}@${hosts}` : hosts;
    const queryText =
      kept.length > 0 ? `?${kept.join("&")}` : query !== undefined && found.length === 0 ? "?" : "";
    connection = `${scheme}${auth}${dbPath}${queryText}${fragment}`;
  } else if (/^\s*[A-Za-z_]+\s*=/.test(text)) {
    connection = text
      .replace(
        KEYWORD_PASSWORD_RE,
        (_m, lead: string, quoted: string | undefined, bare: string | undefined) => {
          const raw = quoted ?? bare ?? "";
          found.push({ raw, value: quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : raw });
          return lead;
        },
      )
      .replace(/\s{2,}/g, " ")
      .trim();
  }
  const last = found[found.length - 1];
  const forms = [
    ...new Set(found.flatMap((f) => [f.raw, f.value, encodeURIComponent(f.value)]).filter((v) => v !== "")),
  ];
  return {
    connection,
    ...(last !== undefined && last.value !== "" ? { password: last.value } : {}),
    forms,
  };
}

/**
 * Every spelling of the password a secret value carries when it is a connection string (see
 * {@link SplitConnection.forms}); empty for any other value. Redaction adds these to the whole value.
 */
export function passwordForms(secret: string): readonly string[] {
  return splitConnection(secret.trim()).forms;
}
