// The pure part of the Grafana panel check: finding a panel in a dashboard's JSON model, building its queries, reading
// values out of the query API's frames, and judging them (no data inconclusive, a breach failed).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  defaultPanelName,
  findPanel,
  frameValues,
  judgePanel,
  PanelLookupError,
  panelConditions,
  panelQueries,
  queryRequest,
} from "../../../src/verify/grafana-panels";

const prom = { type: "prometheus", uid: "prom-1" };
const dashboard = {
  panels: [
    {
      id: 1,
      type: "timeseries",
      title: "Traffic",
      datasource: prom,
      targets: [{ refId: "A", expr: "sum(up)" }],
    },
    {
      id: 9,
      type: "row",
      title: "Billing",
      collapsed: true,
      panels: [
        { id: 3, type: "stat", title: "Billing", targets: [{ refId: "A", expr: "x", datasource: prom }] },
      ],
    },
  ],
};

describe("findPanel", () => {
  it.each([
    [{ title: "Traffic" }, 1],
    [{ id: 1 }, 1],
    // The row titled "Billing" is never the panel; the panel inside the collapsed row is.
    [{ title: "Billing" }, 3],
    [{ id: 3 }, 3],
    [{ id: 9 }, undefined],
    [{ title: "traffic" }, undefined],
  ])("%j → panel %s", (ref, id) => {
    expect(findPanel(dashboard, ref)?.id).toBe(id);
  });

  it("finds nothing in a model without panels", () => {
    expect(findPanel(undefined, { id: 1 })).toBeUndefined();
    expect(findPanel({ panels: "x" }, { id: 1 })).toBeUndefined();
  });
});

describe("panelQueries", () => {
  it("sends every visible target with its data source (else the panel's) and the dashboard's variables", () => {
    const panel = {
      datasource: prom,
      targets: [
        { refId: "A", expr: 'sum(rate(x{namespace="$namespace"}[$__rate_interval]))' },
        { refId: "B", expr: "hidden", hide: true },
        { refId: "C", expr: 'y{cluster="${cluster:raw}",ns="[[namespace]]"}', datasource: { uid: "other" } },
        { refId: "D", expr: "z", datasource: { uid: "-- Mixed --" } },
      ],
    };
    expect(panelQueries(panel, '"T"', { namespace: "nova-prod", cluster: "gke-1" })).toEqual([
      { refId: "A", datasource: prom, expr: 'sum(rate(x{namespace="nova-prod"}[$__rate_interval]))' },
      { refId: "C", datasource: { uid: "other" }, expr: 'y{cluster="gke-1",ns="nova-prod"}' },
      { refId: "D", datasource: prom, expr: "z" },
    ]);
  });

  it.each([
    [{ datasource: prom, targets: [] }, /has no visible query/],
    [{ datasource: prom, targets: [{ refId: "A", hide: true }] }, /has no visible query/],
    [{ targets: [{ refId: "A", expr: "x" }] }, /query A names no data source uid/],
    [{ datasource: "Prometheus", targets: [{ refId: "A", expr: "x" }] }, /names no data source uid/],
    [
      { datasource: prom, targets: [{ refId: "A", expr: 'x{ns="$ns"}' }] },
      /uses the dashboard variable \$ns/,
    ],
    [
      { datasource: { uid: "${ds}" }, targets: [{ refId: "A", expr: "x" }] },
      /data source uses the dashboard variable \$ds/,
    ],
  ])("refuses %j", (panel, message) => {
    expect(() => panelQueries(panel, '"T"')).toThrow(PanelLookupError);
    expect(() => panelQueries(panel, '"T"')).toThrow(message);
  });

  it("builds the query API's body over the window", () => {
    const body = queryRequest([{ refId: "A", datasource: prom, expr: "x" }], { from: 1000, to: 61_000 });
    expect(body).toEqual({
      from: "1000",
      to: "61000",
      queries: [{ refId: "A", datasource: prom, expr: "x", maxDataPoints: 200, intervalMs: 15_000 }],
    });
  });
});

const frame = (values: unknown[], type: string | undefined = "number") => ({
  schema: {
    fields: [
      { name: "Time", type: "time" },
      { name: "Value", ...(type ? { type } : {}) },
    ],
  },
  data: { values: [values.map((_, i) => i), values] },
});

describe("frameValues", () => {
  it("reads the number fields of every frame, skipping times, gaps and other types", () => {
    const answer = {
      results: {
        A: { status: 200, frames: [frame([1, null, 2]), frame([3], undefined), frame(["x"], "string")] },
        B: { status: 200, frames: [frame([])] },
        C: { status: 200, frames: [] },
      },
    };
    expect(Object.fromEntries(frameValues(answer, ["A", "B", "C", "D"]))).toEqual({
      A: [1, 2, 3],
      B: [],
      C: [],
      D: [],
    });
  });

  it.each([
    [undefined, /without results/],
    [
      { results: { A: { status: 400, error: "bad_data: parse error" } } },
      /query A answered an error: bad_data/,
    ],
    [{ results: { A: { status: 500, frames: [] } } }, /query A answered status 500/],
  ])("refuses %j", (answer, message) => {
    expect(() => frameValues(answer, ["A"])).toThrow(message);
  });
});

describe("judgePanel", () => {
  const values = (entries: Record<string, number[]>) => new Map(Object.entries(entries));
  it.each([
    [
      { A: [] },
      [],
      "inconclusive",
      /^inconclusive: panel "T" answered no data over the last 900 s \(queries A\)$/,
    ],
    [{ A: [], B: [] }, ["> 0"], "inconclusive", /queries A, B/],
    [{ A: [1, 2] }, [], "successful", /^successful: panel "T" answered 2 values over the last 900 s$/],
    [{ A: [1, 2] }, ["> 0"], "successful", /answered 2 values over the last 900 s, all > 0$/],
    [{ A: [1], B: [] }, ["> 0"], "successful", /; no data for queries B$/],
    [
      { A: [0, 0, 2] },
      ["== 0"],
      "failed",
      /^failed: panel "T": 1 of 3 values over the last 900 s miss == 0 \(2\)$/,
    ],
    [{ A: [5, 50] }, ["> 0", "< 10"], "failed", /miss > 0 and < 10 \(50\)/],
  ])("%j with %j is %s", (given, conditions, outcome, detail) => {
    const verdict = judgePanel('"T"', values(given), panelConditions(conditions), 900);
    expect(verdict.outcome).toBe(outcome);
    expect(verdict.detail).toMatch(detail);
  });

  it("is never successful without a value, and never failed when every value meets the condition", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 5 })),
        (lists) => {
          const given = new Map(lists.map((l, i) => [`Q${i}`, l]));
          const all = lists.flat();
          const verdict = judgePanel('"T"', given, panelConditions(["> -1e7"]), 60);
          expect(verdict.outcome).toBe(all.length === 0 ? "inconclusive" : "successful");
        },
      ),
    );
  });

  it("refuses a malformed condition", () => {
    expect(() => panelConditions(["big"])).toThrow(/not a condition/);
  });
});

describe("defaultPanelName", () => {
  it.each([
    [{ title: "Traffic" }, "traffic"],
    [{ title: "Module toggles" }, "module-toggles"],
    [{ title: "Billing (jobs) / failures" }, "billing-jobs-failures"],
    [{ id: 7 }, "panel-7"],
    [{ title: "x".repeat(60) }, "x".repeat(40)],
  ])("%j → %s", (ref, name) => {
    expect(defaultPanelName(ref)).toBe(name);
  });
});
