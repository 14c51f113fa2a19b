/**
 * Alertmanager label matchers (`nova-rollout:alertMatchers`): which firing alerts are this release's. The syntax is
 * Alertmanager's filter syntax, one matcher per entry: `label="value"`, `label!="value"`, `label=~"regex"`,
 * `label!~"regex"`. The alerts probe sends each as a `filter=` query parameter of `GET /api/v2/alerts`, so
 * Alertmanager itself selects the alerts; {@link matchesAll} is the same selection in process (its semantics: a
 * missing label is the empty string, and a regex matches the whole value, as if anchored with `^(?:…)$`).
 */

export type MatchOp = "=" | "!=" | "=~" | "!~";

export interface AlertMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
// name, operator, then a double-quoted value (with \" \\ \n escapes) or an unquoted one without spaces.
const MATCHER_RE = /^\s*([^\s=!~"]+)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^\s"]*)\s*$/;

/** The default matchers of a stack: its own namespace. */
export function defaultAlertMatchers(namespace: string): string[] {
  return [formatMatcher({ name: "namespace", op: "=", value: namespace })];
}

/** Parses one matcher; a string describing the problem when it is not one. Pure. */
export function parseMatcher(text: string): AlertMatcher | string {
  const m = MATCHER_RE.exec(text);
  if (m?.[1] === undefined || m[2] === undefined || m[3] === undefined) {
    return `\`${text}\` is not a matcher: expected label="value", label!="value", label=~"regex" or label!~"regex"`;
  }
  const [, name, op, raw] = m;
  if (!LABEL_NAME_RE.test(name)) {
    return `\`${text}\`: "${name}" is not a label name (letters, digits and '_', not starting with a digit)`;
  }
  let value = raw;
  if (raw.startsWith('"')) {
    try {
      value = JSON.parse(raw) as string;
    } catch {
      return `\`${text}\`: the quoted value has an invalid escape`;
    }
  }
  if (op === "=~" || op === "!~") {
    try {
      new RegExp(`^(?:${value})$`, "u");
    } catch (err) {
      // The engine's message repeats the anchored pattern; its last part is the reason ("Unterminated group").
      const reason = (err instanceof Error ? err.message : String(err)).split(": ").pop() ?? "";
      return `\`${text}\`: invalid regular expression (${reason})`;
    }
  }
  return { name, op: op as MatchOp, value };
}

/** The problems of a list of matchers (empty when every one parses). Pure. */
export function matcherProblems(texts: readonly string[]): string[] {
  return texts.map(parseMatcher).filter((m): m is string => typeof m === "string");
}

/** A matcher in the canonical form Alertmanager's `filter` parameter takes: `name<op>"value"`. Pure. */
export function formatMatcher(m: AlertMatcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}

/** Whether one matcher selects an alert with these labels. Pure. */
export function matches(m: AlertMatcher, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[m.name] ?? "";
  switch (m.op) {
    case "=":
      return value === m.value;
    case "!=":
      return value !== m.value;
    case "=~":
      return new RegExp(`^(?:${m.value})$`, "u").test(value);
    case "!~":
      return !new RegExp(`^(?:${m.value})$`, "u").test(value);
  }
}

/** Whether every matcher selects the alert (no matchers: every alert). Pure. */
export function matchesAll(ms: readonly AlertMatcher[], labels: Readonly<Record<string, string>>): boolean {
  return ms.every((m) => matches(m, labels));
}

/**
 * The Alertmanager API v2 query of the alerts that count: active, neither silenced nor inhibited, selected by every
 * matcher (canonical form, one `filter=` parameter each). Throws for a matcher that does not parse. Pure.
 */
export function alertsQueryUrl(baseUrl: string, matchers: readonly string[]): string {
  const params = new URLSearchParams({ active: "true", silenced: "false", inhibited: "false" });
  for (const text of matchers) {
    const m = parseMatcher(text);
    if (typeof m === "string") throw new Error(m);
    params.append("filter", formatMatcher(m));
  }
  return `${baseUrl.replace(/\/+$/, "")}/api/v2/alerts?${params.toString()}`;
}
