/**
 * Edits of a `Pulumi.<stack>.yaml` a person reviews: the `yaml` Document API locates each value, and only the bytes of
 * that value change (or one line is added), so comments, key order, quoting, spacing and every other line stay exactly
 * as they were; and the line diff of such an edit. Pure: no I/O.
 */
import { isMap, isScalar, isSeq, parse, parseDocument, Scalar, stringify } from "yaml";

/** One key to set: the full config key (`nova-rollout:imageTag`) and its new plain-text value. */
export interface ConfigEdit {
  readonly key: string;
  readonly value: string;
}

/** A value's YAML source: in the quoting style the old value used, else plain (quoted when YAML would misread it). */
function render(value: string, type: Scalar["type"]): string {
  if (type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  if (type === Scalar.QUOTE_DOUBLE) return JSON.stringify(value);
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

/**
 * Returns `text` (a stack file) with each key of `edits` set under `config:`. An existing value is replaced in place
 * (its quoting style and comment kept); a missing key gets a line of its own after the last present key of `after`
 * (each key set counts as present for the next), else after the map's last key. Throws a plain Error naming `file`
 * when the text is not YAML, has no `config:` map, or holds a list or map where a value goes.
 */
export function setStackConfigValues(
  text: string,
  file: string,
  edits: readonly ConfigEdit[],
  after: readonly string[] = [],
): string {
  let out = text;
  const anchors = [...after];
  for (const edit of edits) {
    out = setOne(out, file, edit, anchors);
    anchors.push(edit.key);
  }
  const config = (parse(out) as { config: Record<string, unknown> }).config;
  for (const edit of edits) {
    if (config[edit.key] !== edit.value) {
      throw new Error(
        `${file}: ${edit.key} did not read back as "${edit.value}"; set it with \`pulumi config set\``,
      );
    }
  }
  return out;
}

function setOne(text: string, file: string, edit: ConfigEdit, after: readonly string[]): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new Error(`${file} is not valid YAML: ${doc.errors[0]?.message ?? "parse error"}`);
  }
  const config = doc.get("config", true);
  if (!isMap(config)) throw new Error(`${file}: "config" must be a map of keys to values`);
  const existing = config.get(edit.key, true);
  if (isScalar(existing) && existing.range) {
    const [start, end] = existing.range;
    return `${text.slice(0, start)}${render(edit.value, existing.type)}${text.slice(end)}`;
  }
  if (existing !== undefined) {
    throw new Error(`${file}: ${edit.key} holds a ${isSeq(existing) ? "list" : "map"}, not a value`);
  }
  const anchorKey = [...after].reverse().find((k) => config.has(k));
  const anchor =
    (anchorKey !== undefined
      ? config.items.find((p) => isScalar(p.key) && p.key.value === anchorKey)
      : undefined) ?? config.items.at(-1);
  const keyStart = (isScalar(anchor?.key) ? anchor.key.range?.[0] : undefined) ?? undefined;
  const valueEnd = (anchor?.value as { range?: [number, number, number] } | null | undefined)?.range?.[1];
  if (anchor === undefined || keyStart === undefined || valueEnd === undefined) {
    throw new Error(
      `${file}: "config" has no key to add ${edit.key} after; set it with \`pulumi config set\``,
    );
  }
  const indent = keyStart - (text.lastIndexOf("\n", keyStart - 1) + 1);
  // A block collection's range ends after its last line break; a scalar's ends on its own line.
  const lineEnd = text[valueEnd - 1] === "\n" ? valueEnd - 1 : text.indexOf("\n", valueEnd);
  const at = lineEnd < 0 ? text.length : lineEnd;
  const line = `${" ".repeat(indent)}${render(edit.key, Scalar.PLAIN)}: ${render(edit.value, Scalar.PLAIN)}`;
  return `${text.slice(0, at)}\n${line}${text.slice(at)}`;
}

/**
 * Returns `text` without the lines of each key of `keys` under `config:` (a key absent is no change). Only one-line
 * scalar values are removed; a list or map is refused with a plain Error naming `file`, like {@link setStackConfigValues}.
 */
export function removeStackConfigKeys(text: string, file: string, keys: readonly string[]): string {
  let out = text;
  for (const key of keys) {
    const doc = parseDocument(out);
    if (doc.errors.length > 0) {
      throw new Error(`${file} is not valid YAML: ${doc.errors[0]?.message ?? "parse error"}`);
    }
    const config = doc.get("config", true);
    if (!isMap(config)) throw new Error(`${file}: "config" must be a map of keys to values`);
    const pair = config.items.find((p) => isScalar(p.key) && p.key.value === key);
    if (pair === undefined) continue;
    const keyStart = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
    const value = pair.value;
    if (!isScalar(value) || keyStart === undefined || !value.range) {
      throw new Error(
        `${file}: ${key} holds a list or map, not a value; remove it with \`pulumi config rm\``,
      );
    }
    const lineStart = out.lastIndexOf("\n", keyStart - 1) + 1;
    const lineEnd = out.indexOf("\n", value.range[1] - 1);
    out = lineEnd < 0 ? out.slice(0, lineStart) : `${out.slice(0, lineStart)}${out.slice(lineEnd + 1)}`;
  }
  return out;
}

/**
 * A unified-style line diff of two texts: `@@ line N @@` headers (N: the line in `before`), removed lines as `-…`,
 * added lines as `+…`, no context lines. Empty when the texts are equal.
 */
export function lineDiff(before: string, after: string): string {
  const a = before.split("\n");
  const b = after.split("\n");
  // Longest common subsequence table, from the end (stack files are small).
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] =
        a[i] === b[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const out: string[] = [];
  let hunk: { line: number; lines: string[] } | undefined;
  const flush = () => {
    if (hunk !== undefined) out.push(`@@ line ${hunk.line} @@`, ...hunk.lines);
    hunk = undefined;
  };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      flush();
      i++;
      j++;
    } else if (i < a.length && (j >= b.length || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      hunk ??= { line: i + 1, lines: [] };
      hunk.lines.push(`-${a[i] ?? ""}`);
      i++;
    } else {
      hunk ??= { line: i + 1, lines: [] };
      hunk.lines.push(`+${b[j] ?? ""}`);
      j++;
    }
  }
  flush();
  return out.join("\n");
}
