import * as http from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  judgeMeasurements,
  meets,
  parseCondition,
  prometheusInstant,
  runMetricCheck,
  type Measurement,
} from "../../../src/verify/metrics";
import { metricProbe } from "../../../src/verify/probe";

describe("metric conditions", () => {
  it.each([
    ["> 0", { op: ">", threshold: 0 }],
    ["<0.01", { op: "<", threshold: 0.01 }],
    [">= 1e-3", { op: ">=", threshold: 0.001 }],
    ["== 1", { op: "==", threshold: 1 }],
  ])("parses %j", (text, expected) => expect(parseCondition(text)).toEqual(expected));

  it.each(["", "0", "> x", "=> 1", "< 1 2"])("rejects %j", (text) =>
    expect(parseCondition(text)).toBeUndefined(),
  );

  it.each([
    [0.5, "< 1", true],
    [1, "< 1", false],
    [1, "<= 1", true],
    [0, "> 0", false],
  ])("%d meets %s: %s", (v, c, ok) =>
    expect(meets(v, parseCondition(c) ?? { op: ">", threshold: 0 })).toBe(ok),
  );
});

describe("analysis outcome (Argo Rollouts semantics)", () => {
  const c = { condition: { op: "<" as const, threshold: 0.01 }, failureLimit: 1 };
  const v = (value: number | undefined): Measurement => ({ value });
  it.each([
    ["every measurement within bounds", [v(0), v(0.001), v(0.005)], "successful"],
    ["failures within the limit", [v(0.5), v(0), v(0)], "successful"],
    ["failures past the limit", [v(0.5), v(0.2)], "failed"],
    ["an error counts as a failure", [{ error: "timeout" }, v(0.3)], "failed"],
    ["no data and no failure past the limit", [v(undefined), v(0)], "inconclusive"],
    ["only no data", [v(undefined), v(undefined)], "inconclusive"],
    ["failures past the limit win over no data", [v(undefined), v(1), v(1)], "failed"],
  ])("%s → %s", (_what, ms, outcome) => {
    expect(judgeMeasurements(ms, c).outcome).toBe(outcome);
  });

  it("stops evaluating once the failure limit is exceeded", async () => {
    const read = vi.fn(() => Promise.resolve(1));
    const verdict = await runMetricCheck(read, { ...c, failureLimit: 0, evaluations: 5, intervalMs: 0 }, () =>
      Promise.resolve(),
    );
    expect(verdict.outcome).toBe("failed");
    expect(read).toHaveBeenCalledTimes(1);
  });
});

describe("the metric probe against a Prometheus HTTP API", () => {
  const answers = new Map<string, unknown>();
  let base = "";
  const server = http.createServer((req, res) => {
    const q = new URL(req.url ?? "/", "http://x").searchParams.get("query") ?? "";
    const body = answers.has(q)
      ? answers.get(q)
      : { status: "success", data: { resultType: "vector", result: [] } };
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const vector = (value: string) => ({
    status: "success",
    data: { resultType: "vector", result: [{ metric: {}, value: [1, value] }] },
  });

  it("reads the first sample, or undefined for an empty result", async () => {
    answers.set("a", vector("0.25"));
    expect(await prometheusInstant(base, "a")).toBe(0.25);
    expect(await prometheusInstant(base, "none")).toBeUndefined();
    answers.set("bad", { status: "error", error: "parse error" });
    await expect(prometheusInstant(base, "bad")).rejects.toThrow(/parse error/);
  });

  it.each([
    ["within bounds", vector("0.001"), false, 0, "successful"],
    ["over the threshold", vector("0.5"), false, 1, "failed"],
    ["no data outside production", undefined, false, 0, "inconclusive"],
    ["no data in production", undefined, true, 1, "inconclusive"],
  ])("%s: exit %s", async (_what, answer, inconclusiveFails, code, outcome) => {
    const q = `q-${String(_what)}`;
    if (answer !== undefined) answers.set(q, answer);
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const exit = await metricProbe(
      "metric-x",
      {
        url: base,
        query: q,
        condition: "< 0.01",
        evaluations: 2,
        intervalSeconds: 0,
        failureLimit: 0,
        timeoutSeconds: 5,
        inconclusiveFails,
      },
      () => Promise.resolve(),
    );
    const line = JSON.parse(String(out.mock.calls.at(-1)?.[0] ?? "{}")) as { ok: boolean; detail: string };
    out.mockRestore();
    err.mockRestore();
    expect(exit).toBe(code);
    expect(line.detail.startsWith(`${outcome}:`)).toBe(true);
  });
});
