import { describe, expect, it } from "vitest";
import {
  alertsQueryUrl,
  defaultAlertMatchers,
  formatMatcher,
  matcherProblems,
  matchesAll,
  parseMatcher,
} from "../../../src/verify/alert-matchers";

describe("parseMatcher", () => {
  it.each([
    ['namespace="nova-prod"', { name: "namespace", op: "=", value: "nova-prod" }],
    ['  service != "nova-api" ', { name: "service", op: "!=", value: "nova-api" }],
    ['severity=~"critical|page"', { name: "severity", op: "=~", value: "critical|page" }],
    ['team!~"billing-.*"', { name: "team", op: "!~", value: "billing-.*" }],
    ["namespace=nova-prod", { name: "namespace", op: "=", value: "nova-prod" }],
    ['job=""', { name: "job", op: "=", value: "" }],
    ['summary="say \\"hi\\""', { name: "summary", op: "=", value: 'say "hi"' }],
  ])("%s", (text, want) => {
    expect(parseMatcher(text)).toEqual(want);
  });

  it.each([
    ["namespace", /is not a matcher/],
    ['="x"', /is not a matcher/],
    ['namespace=="x"', /is not a matcher/],
    ['9lives="x"', /"9lives" is not a label name/],
    ['app.kubernetes.io/name="x"', /is not a label name/],
    ['severity=~"(critical"', /invalid regular expression/],
    ['namespace="unterminated', /is not a matcher/],
  ])("refuses %s", (text, problem) => {
    expect(parseMatcher(text)).toMatch(problem);
  });

  it("names every malformed matcher of a list", () => {
    expect(matcherProblems(['namespace="ok"', "bad", 'x=~"["'])).toHaveLength(2);
    expect(matcherProblems(defaultAlertMatchers("nova-prod"))).toEqual([]);
  });
});

describe("Alertmanager's matcher semantics", () => {
  const m = (texts: string[]) =>
    texts.map((t) => {
      const parsed = parseMatcher(t);
      if (typeof parsed === "string") throw new Error(parsed);
      return parsed;
    });
  const nova = { alertname: "NovaApiErrors", namespace: "nova-prod", severity: "critical" };
  const other = { alertname: "LedgerLag", namespace: "ledger", severity: "warning" };

  it.each([
    [['namespace="nova-prod"'], nova, true],
    [['namespace="nova-prod"'], other, false],
    [['namespace!="nova-prod"'], other, true],
    [['severity=~"crit.*"'], nova, true],
    // A regex matches the whole value, never a part of it.
    [['severity=~"crit"'], nova, false],
    [['namespace=~"nova"'], nova, false],
    [['severity!~"warn.*"'], nova, true],
    [['severity!~"warn.*"'], other, false],
    // A missing label is the empty string.
    [['team=""'], nova, true],
    [['team!=""'], nova, false],
    [['team=~".*"'], nova, true],
    [['team=~".+"'], nova, false],
    // Every matcher must select the alert.
    [['namespace="nova-prod"', 'severity="warning"'], nova, false],
    [['namespace="nova-prod"', 'severity="critical"'], nova, true],
    [[], other, true],
  ])("%j selects %j: %s", (texts, labels, want) => {
    expect(matchesAll(m(texts), labels)).toBe(want);
  });
});

describe("alertsQueryUrl", () => {
  it("asks for active, unsilenced, uninhibited alerts with one filter parameter per matcher", () => {
    const url = new URL(alertsQueryUrl("http://am:9093/", ["namespace=nova-prod", 'severity=~"crit|page"']));
    expect(url.pathname).toBe("/api/v2/alerts");
    expect(url.searchParams.get("active")).toBe("true");
    expect(url.searchParams.get("silenced")).toBe("false");
    expect(url.searchParams.get("inhibited")).toBe("false");
    expect(url.searchParams.getAll("filter")).toEqual(['namespace="nova-prod"', 'severity=~"crit|page"']);
  });

  it("keeps a base path and sends no filter without matchers", () => {
    const url = new URL(alertsQueryUrl("https://mon.example/alertmanager", []));
    expect(url.pathname).toBe("/alertmanager/api/v2/alerts");
    expect(url.searchParams.has("filter")).toBe(false);
  });

  it("refuses a malformed matcher", () => {
    expect(() => alertsQueryUrl("http://am", ["nope"])).toThrow(/is not a matcher/);
  });

  it("formats matchers in the canonical quoted form", () => {
    expect(formatMatcher({ name: "a", op: "!~", value: 'x"y' })).toBe('a!~"x\\"y"');
  });
});
