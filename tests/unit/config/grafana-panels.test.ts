// `nova-rollout:grafanaPanels` and `nova-rollout:grafanaAuthorization` in stack config: parsed with defaults, every
// problem named with its path at once, the token a secret of its own.
import { describe, expect, it } from "vitest";
import {
  ConfigValidationError,
  isSecretConfigKey,
  parseStackSettings,
  VERIFICATION_CONFIG_KEYS,
} from "../../../src/config";
import { sandboxRaw } from "../support/config-fixtures";

const projectDir = "/repo";
const parse = (extra: Record<string, unknown>) =>
  parseStackSettings(sandboxRaw(extra), { stack: "s", projectDir });
const panels = (doc: unknown) => JSON.stringify(doc);
const problemsOf = (extra: Record<string, unknown>): string[] => {
  try {
    parse(extra);
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.problems.map((p) => `${p.key}: ${p.message}`);
    throw err;
  }
  return [];
};

describe("grafanaPanels in stack config", () => {
  it("parses panels by title and id, with names, conditions and defaults", () => {
    const s = parse({
      grafanaPanels: panels({
        url: "https://grafana.nova.test",
        dashboardUid: "nova-release",
        panels: [
          { title: "Traffic", condition: "> 0" },
          { title: "Module toggles" },
          { id: 3, name: "billing", condition: ["== 0"] },
        ],
      }),
      grafanaAuthorization: "Bearer glsa_x",
    });
    expect(s.verification.grafanaPanels).toEqual({
      url: "https://grafana.nova.test",
      dashboardUid: "nova-release",
      windowSeconds: 900,
      variables: {},
      panels: [
        { name: "traffic", title: "Traffic", conditions: ["> 0"] },
        { name: "module-toggles", title: "Module toggles", conditions: [] },
        { name: "billing", id: 3, conditions: ["== 0"] },
      ],
    });
    expect(s.verification.grafanaAuthorization).toBe("Bearer glsa_x");
  });

  it("accepts a structured value as Pulumi.yaml's structured config gives it", () => {
    const s = parse({
      grafanaPanels: {
        url: "http://127.0.0.1:33000",
        dashboardUid: "d",
        windowSeconds: 120,
        panels: [{ id: 1 }],
      },
    });
    expect(s.verification.grafanaPanels?.panels).toEqual([{ name: "panel-1", id: 1, conditions: [] }]);
    expect(s.verification.grafanaPanels?.windowSeconds).toBe(120);
  });

  it("is not set by default (the empty default of Pulumi.yaml)", () => {
    const s = parse({ grafanaPanels: "" });
    expect(s.verification.grafanaPanels).toBeUndefined();
    expect(s.verification.grafanaAuthorization).toBeUndefined();
  });

  it.each([
    ["not JSON", "grafana", /grafanaPanels: expected \{"url","dashboardUid","panels":\[…\]\}/],
    [
      "an unknown field",
      panels({ url: "https://g", dashboardUid: "d", panels: [{ id: 1 }], dash: 1 }),
      /unknown field dash/,
    ],
    [
      "a URL that is not http(s)",
      panels({ url: "grafana.local", dashboardUid: "d", panels: [{ id: 1 }] }),
      /\[url\] expected Grafana's http\(s\) base URL/,
    ],
    [
      "a bad UID",
      panels({ url: "https://g", dashboardUid: "a/b", panels: [{ id: 1 }] }),
      /\[dashboardUid\] expected a dashboard UID/,
    ],
    [
      "no panels",
      panels({ url: "https://g", dashboardUid: "d", panels: [] }),
      /\[panels\] list at least one panel/,
    ],
    [
      "a panel with both id and title",
      panels({ url: "https://g", dashboardUid: "d", panels: [{ id: 1, title: "T" }] }),
      /\[panels\]\[0\] give exactly one of "id" and "title"/,
    ],
    [
      "a panel with neither",
      panels({ url: "https://g", dashboardUid: "d", panels: [{ condition: "> 0" }] }),
      /give exactly one of "id" and "title"/,
    ],
    [
      "a bad condition",
      panels({ url: "https://g", dashboardUid: "d", panels: [{ id: 1, condition: "big" }] }),
      /\[panels\]\[0\]\[condition\] expected a condition such as "> 0"/,
    ],
    [
      "two panels named alike",
      panels({
        url: "https://g",
        dashboardUid: "d",
        panels: [{ title: "Traffic" }, { id: 2, name: "traffic" }],
      }),
      /two panels are named "traffic"/,
    ],
    [
      "a title that makes no name",
      panels({ url: "https://g", dashboardUid: "d", panels: [{ title: "💸" }] }),
      /\[panels\]\[0\]\[name\] the title makes no check name/,
    ],
    [
      "a short window",
      panels({ url: "https://g", dashboardUid: "d", windowSeconds: 5, panels: [{ id: 1 }] }),
      /\[windowSeconds\] the window is at least 60 seconds/,
    ],
    [
      "a built-in variable",
      panels({ url: "https://g", dashboardUid: "d", variables: { __interval: "1m" }, panels: [{ id: 1 }] }),
      /not a dashboard variable name: __interval/,
    ],
  ])("refuses %s, naming the key and the path", (_what, value, message) => {
    expect(problemsOf({ grafanaPanels: value }).join("\n")).toMatch(message);
  });

  it("names every problem at once", () => {
    const problems = problemsOf({
      grafanaPanels: panels({
        url: "ftp://g",
        dashboardUid: "d",
        panels: [
          { id: 1, condition: "big" },
          { title: "T", id: 2 },
        ],
      }),
      grafanaAuthorization: "token",
    });
    expect(problems).toEqual([
      expect.stringMatching(/^nova-rollout:grafanaPanels: \[url\]/),
      expect.stringMatching(/^nova-rollout:grafanaPanels: \[panels\]\[0\]\[condition\]/),
      expect.stringMatching(/^nova-rollout:grafanaPanels: \[panels\]\[1\]/),
      expect.stringMatching(/^nova-rollout:grafanaAuthorization: expected an Authorization header value/),
    ]);
  });

  it("refuses an authorization without panels, and keeps the token a secret that a rollback keeps", () => {
    expect(problemsOf({ grafanaAuthorization: "Bearer glsa_x" })).toEqual([
      "nova-rollout:grafanaPanels: required when grafanaAuthorization is set",
    ]);
    expect(isSecretConfigKey("grafanaAuthorization")).toBe(true);
    expect(isSecretConfigKey("grafanaPanels")).toBe(false);
    expect(VERIFICATION_CONFIG_KEYS).toEqual(
      expect.arrayContaining(["grafanaPanels", "grafanaAuthorization"]),
    );
  });
});
