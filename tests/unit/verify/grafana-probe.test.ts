// The Grafana panel probe against the sandbox's Grafana stand-in (tools/sandbox/standins.mjs, started here on free
// ports): the dashboard's model, its queries with the dashboard's variables, the query API's frames, the stand-in's
// control endpoint; and against a bare server, the authorization sent and never printed.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startStandins, type RunningStandins } from "../support/standins";
import {
  grafanaPanelAttempts,
  grafanaProbeMain,
  readPanel,
  runPanelCheck,
} from "../../../src/verify/grafana-probe";
import { main } from "../../../src/verify/probe";
import { AUTHORIZATION_ENV, probeCommand } from "../../../src/verify/probe-command";

const TOKEN = "Bearer glsa_unit_5b1d0c";
let standins: RunningStandins;
let grafana = "";

beforeAll(async () => {
  standins = await startStandins();
  grafana = standins.urls.grafana;
});
afterAll(() => standins.stop());

async function control(body: unknown): Promise<void> {
  const res = await fetch(`${grafana}/__grafana`, { method: "POST", body: JSON.stringify(body) });
  expect(res.status, await res.text()).toBe(200);
}

const source = (panel: { id?: number; title?: string }, extra: Record<string, unknown> = {}) => ({
  url: grafana,
  dashboardUid: "nova-release",
  panel,
  windowSeconds: 600,
  variables: { namespace: "nova-prod" },
  ...extra,
});
const fast = { attempts: 2, timeoutMs: 2_000, backoffMs: 1, sleep: () => Promise.resolve() };

describe("the Grafana stand-in's dashboard and query API", () => {
  it("answers each panel's values within the window, the Billing panel found inside its collapsed row", async () => {
    await control({ reset: true });
    const now = Date.now();
    expect(Object.fromEntries(await readPanel(source({ title: "Traffic" }), undefined, now))).toEqual({
      A: [12.4, 13.1, 12.8, 13.3],
    });
    expect([...(await readPanel(source({ id: 3 }))).values()]).toEqual([[0, 0, 0, 0]]);
    // The frame's times lie in the window asked for.
    const res = await fetch(`${grafana}/api/ds/query`, {
      method: "POST",
      body: JSON.stringify({
        from: String(now - 60_000),
        to: String(now),
        queries: [
          {
            refId: "A",
            datasource: { uid: "sandbox-prometheus" },
            expr: 'sum(nova_module_enabled{namespace="x"})',
          },
        ],
      }),
    });
    const body = (await res.json()) as { results: { A: { frames: { data: { values: number[][] } }[] } } };
    const times = body.results.A.frames[0]?.data.values[0] ?? [];
    expect(times.length).toBe(4);
    for (const t of times) expect(t > now - 60_000 && t < now).toBe(true);
  });

  it("answers a query that still holds a dashboard variable with Prometheus's parse error", async () => {
    await expect(
      readPanel(source({ title: "Traffic" }, { variables: { namespace: "$namespace" } })),
    ).rejects.toThrow(/query A answered an error: bad_data: invalid parameter "query"/);
  });

  it("judges a panel: data passes, no data is inconclusive, a breach fails", async () => {
    await control({ reset: true });
    expect(await runPanelCheck(source({ title: "Billing" }), ["== 0"], fast)).toMatchObject({
      outcome: "successful",
      attempts: 1,
    });
    await control({ panel: "Billing", values: null });
    const none = await runPanelCheck(source({ title: "Billing" }), ["== 0"], fast);
    expect(none).toMatchObject({ outcome: "inconclusive", attempts: 2 });
    expect(none.detail).toBe(
      'inconclusive: panel "Billing" answered no data over the last 600 s (queries A)',
    );
    await control({ panel: 3, values: [0, 2, 0] });
    const breach = await runPanelCheck(source({ title: "Billing" }), ["== 0"], fast);
    expect(breach).toMatchObject({ outcome: "failed", attempts: 1 });
    expect(breach.detail).toMatch(/1 of 3 values .* miss == 0 \(2\)/);
    await control({ reset: true });
  });

  it("a missing panel or dashboard is inconclusive at once, naming it", async () => {
    const panel = await runPanelCheck(source({ title: "Latency" }), [], fast);
    expect(panel).toMatchObject({ outcome: "inconclusive", attempts: 1 });
    expect(panel.detail).toMatch(/dashboard nova-release has no panel "Latency"/);
    const dash = await runPanelCheck({ ...source({ id: 1 }), dashboardUid: "gone" }, [], fast);
    expect(dash.detail).toMatch(/Grafana has no dashboard gone/);
  });

  it("requires the authorization it was given, and refuses a bad control request", async () => {
    await control({ authorization: TOKEN });
    await expect(readPanel(source({ id: 1 }))).rejects.toThrow(/answered 401/);
    expect((await readPanel(source({ id: 1 }, { authorization: TOKEN }))).get("A")).toHaveLength(4);
    const bad = await fetch(`${grafana}/__grafana`, {
      method: "POST",
      body: JSON.stringify({ panel: "Latency", values: [1] }),
    });
    expect(bad.status).toBe(400);
    await control({ reset: true });
    expect((await readPanel(source({ id: 1 }))).get("A")).toHaveLength(4);
  });
});

describe("the probe command (`probe.js grafana …`)", () => {
  const run = async (args: string[], env: Record<string, string> = {}) => {
    let out = "";
    const code = await grafanaProbeMain(args, env, (t) => void (out += t));
    return { code, result: JSON.parse(out) as { ok: boolean; detail: string; check: string } };
  };
  const flags = (panel: string[], ...more: string[]) => [
    "--name",
    "grafana-billing",
    "--url",
    grafana,
    "--dashboard",
    "nova-release",
    ...panel,
    "--var",
    "namespace=nova-prod",
    "--window",
    "300",
    "--attempts",
    "1",
    "--backoff-ms",
    "1",
    ...more,
  ];

  it("is the command line the program builds for a panel", () => {
    const command = probeCommand(
      "probe.js",
      "grafana-billing",
      {
        kind: "grafana",
        url: grafana,
        dashboardUid: "nova-release",
        panel: { name: "billing", title: "Billing", conditions: ["== 0"] },
        windowSeconds: 300,
        variables: { namespace: "nova-prod" },
        inconclusiveFails: true,
      },
      { attempts: 1, timeoutSeconds: 5, backoffMs: 1 },
    );
    expect(command).toBe(
      `node probe.js grafana --name grafana-billing --url ${grafana} --dashboard nova-release --panel-title Billing ` +
        "--condition '== 0' --var namespace=nova-prod --window 300 --inconclusive-fails --attempts 1 --timeout 5 --backoff-ms 1",
    );
  });

  it("exits 0 on data, and on no data only without --inconclusive-fails", async () => {
    await control({ reset: true });
    expect((await run(flags(["--panel-title", "Billing"], "--condition", "== 0"))).code).toBe(0);
    await control({ panel: "Billing", values: null });
    const lax = await run(flags(["--panel-id", "3"]));
    expect(lax.code).toBe(0);
    expect(lax.result).toMatchObject({ ok: true, check: "grafana-billing" });
    expect(lax.result.detail).toMatch(/^inconclusive: panel id 3 answered no data/);
    const strict = await run(flags(["--panel-id", "3"], "--inconclusive-fails"));
    expect(strict.code).toBe(1);
    expect(strict.result.ok).toBe(false);
    await control({ reset: true });
  });

  it("is dispatched by the probe script, and refuses a command line without a panel", async () => {
    await expect(main(["grafana", "--url", grafana, "--dashboard", "nova-release"])).rejects.toThrow(
      /one of --panel-id and --panel-title/,
    );
    await expect(grafanaProbeMain(flags(["--panel-id", "1"], "--var", "novalue"))).rejects.toThrow(
      /--var needs name=value/,
    );
  });
});

describe("the authorization, against a bare server", () => {
  let server: http.Server;
  let base = "";
  const seen: (string | undefined)[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(req.headers.authorization === TOKEN ? 500 : 401, { "content-type": "application/json" });
      // An unusable answer that echoes the header, as a misbehaving proxy might.
      res.end(JSON.stringify({ message: `no: ${req.headers.authorization ?? ""}` }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("is sent from the environment and appears in nothing the probe prints", async () => {
    let out = "";
    const errors: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      errors.push(String(chunk));
      return true;
    });
    try {
      const code = await grafanaProbeMain(
        [
          "--name",
          "grafana-traffic",
          "--url",
          base,
          "--dashboard",
          "d",
          "--panel-id",
          "1",
          "--attempts",
          "2",
          "--backoff-ms",
          "1",
        ],
        { [AUTHORIZATION_ENV.grafana]: TOKEN },
        (t) => void (out += t),
      );
      expect(code).toBe(0); // inconclusive, without --inconclusive-fails
    } finally {
      spy.mockRestore();
    }
    expect(seen).toEqual([TOKEN, TOKEN]);
    expect(out).toMatch(/inconclusive: Grafana gave no usable answer for panel id 1 \(.*answered 500\)/);
    expect(`${out}${errors.join("")}`).not.toContain("glsa_unit_5b1d0c");
  });

  it("reaches `rollout verify`'s attempts from the stack's settings", async () => {
    seen.length = 0;
    const [[name, attempt] = ["", () => Promise.resolve("")]] = grafanaPanelAttempts({
      grafanaPanels: {
        url: base,
        dashboardUid: "d",
        windowSeconds: 600,
        variables: {},
        panels: [{ name: "traffic", title: "Traffic", conditions: [] }],
      },
      grafanaAuthorization: TOKEN,
    });
    expect(name).toBe("grafana-traffic");
    await expect(attempt(new AbortController().signal)).rejects.toThrow(/^inconclusive: .*answered 500/);
    expect(seen).toEqual([TOKEN]);
    expect(grafanaPanelAttempts({})).toEqual([]);
  });
});

describe("`rollout verify`'s attempts against the stand-in", () => {
  it("pass on data and throw, as inconclusive, on no data", async () => {
    await control({ reset: true });
    const attempts = new Map(
      grafanaPanelAttempts({
        grafanaPanels: {
          url: grafana,
          dashboardUid: "nova-release",
          windowSeconds: 600,
          variables: { namespace: "nova-prod" },
          panels: [
            { name: "traffic", title: "Traffic", conditions: ["> 0"] },
            { name: "module-toggles", title: "Module toggles", conditions: [] },
          ],
        },
      }),
    );
    const signal = () => new AbortController().signal;
    await expect(attempts.get("grafana-traffic")?.(signal())).resolves.toMatch(/^successful: .* all > 0$/);
    await control({ panel: "Module toggles", values: null });
    await expect(attempts.get("grafana-module-toggles")?.(signal())).rejects.toThrow(
      /^inconclusive: panel "Module toggles" answered no data/,
    );
    await control({ reset: true });
  });
});
