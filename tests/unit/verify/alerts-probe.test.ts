// The alerts probe against the sandbox's Alertmanager stand-in (tools/sandbox/standins.mjs, started here on free
// ports): the stand-in selects alerts with the query's `filter` matchers as Alertmanager does, and the probe judges
// only what they select.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStandins, type RunningStandins } from "../support/standins";
import { matchesAll, parseMatcher, type AlertMatcher } from "../../../src/verify/alert-matchers";
import { alertsProbe, judgeAlerts, main, type ProbeResult } from "../../../src/verify/probe";
import { AUTHORIZATION_ENV } from "../../../src/verify/probe-command";

let standins: RunningStandins;
let am = "";

beforeAll(async () => {
  standins = await startStandins();
  am = standins.urls.alertmanager;
});
afterAll(() => standins.stop());

async function setAlerts(
  alerts: { labels: Record<string, string>; silenced?: boolean; inhibited?: boolean }[],
  authorization?: string,
): Promise<void> {
  const res = await fetch(`${am}/__alerts`, {
    method: "POST",
    body: JSON.stringify({ alerts, ...(authorization !== undefined ? { authorization } : {}) }),
  });
  expect(res.status).toBe(200);
}

const nova = { alertname: "NovaApiErrors", namespace: "nova-prod", severity: "critical" };
const worker = { alertname: "NovaWorkerDown", namespace: "nova-prod", severity: "page" };
const ledger = { alertname: "LedgerLag", namespace: "ledger", severity: "warning" };
const fast = { attempts: 2, timeoutMs: 2_000, backoffMs: 1, sleep: () => Promise.resolve() };

describe("the Alertmanager stand-in selects alerts as Alertmanager does", () => {
  const parsed = (texts: string[]): AlertMatcher[] =>
    texts.map((t) => {
      const m = parseMatcher(t);
      if (typeof m === "string") throw new Error(m);
      return m;
    });
  const names = async (query: string) => {
    const res = await fetch(`${am}/api/v2/alerts${query}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { labels: { alertname: string } }[]).map((a) => a.labels.alertname).sort();
  };

  it.each([
    [[]],
    [['namespace="nova-prod"']],
    [["namespace=nova-prod"]],
    [['namespace!="nova-prod"']],
    [['severity=~"crit.*|page"']],
    [['severity=~"crit"']],
    [['severity!~"warn.*"']],
    [['team=""']],
    [['team=~".+"']],
    [['namespace="nova-prod"', 'severity="page"']],
  ])("filter %j selects what the probe's matchers select", async (texts) => {
    await setAlerts([{ labels: nova }, { labels: worker }, { labels: ledger }]);
    const query = texts.map((t) => `filter=${encodeURIComponent(t)}`).join("&");
    const want = [nova, worker, ledger]
      .filter((labels) => matchesAll(parsed(texts), labels))
      .map((l) => l.alertname)
      .sort();
    expect(await names(query === "" ? "" : `?${query}`)).toEqual(want);
  });

  it("leaves out silenced and inhibited alerts when asked to, and answers 400 to a malformed matcher", async () => {
    await setAlerts([
      { labels: nova, silenced: true },
      { labels: worker, inhibited: true },
      { labels: ledger },
    ]);
    expect(await names("?silenced=false&inhibited=false")).toEqual(["LedgerLag"]);
    expect(await names("")).toEqual(["LedgerLag", "NovaApiErrors", "NovaWorkerDown"]);
    expect(await names("?active=false")).toEqual(["NovaApiErrors", "NovaWorkerDown"]);
    expect((await fetch(`${am}/api/v2/alerts?filter=${encodeURIComponent("bad")}`)).status).toBe(400);
  });

  it("requires the Authorization header when one is configured", async () => {
    await setAlerts([], "Bearer right");
    expect((await fetch(`${am}/api/v2/alerts`)).status).toBe(401);
    expect((await fetch(`${am}/api/v2/alerts`, { headers: { authorization: "Bearer wrong" } })).status).toBe(
      401,
    );
    expect((await fetch(`${am}/api/v2/alerts`, { headers: { authorization: "Bearer right" } })).status).toBe(
      200,
    );
  });
});

describe("alertsProbe judges only the alerts that are ours", () => {
  const probe = (o: {
    matchers: string[];
    authorization?: string;
    inconclusiveFails: boolean;
    url?: string;
  }) => alertsProbe("alerts-quiet", { url: am, ...o, retry: fast });

  it.each([
    ["no alert at all", [], true, "successful"],
    ["an unrelated firing alert", [{ labels: ledger }], true, "successful"],
    ["a firing alert of ours", [{ labels: ledger }, { labels: nova }], false, "failed"],
    ["a silenced alert of ours", [{ labels: nova, silenced: true }], true, "successful"],
    ["an inhibited alert of ours", [{ labels: nova, inhibited: true }], true, "successful"],
  ])("%s", async (_name, alerts, ok, outcome) => {
    await setAlerts(alerts, "Bearer s3cret-token");
    const result = await probe({
      matchers: ['namespace="nova-prod"'],
      authorization: "Bearer s3cret-token",
      inconclusiveFails: true,
    });
    expect(result).toMatchObject({ ok, outcome });
    if (outcome === "failed") expect(result.detail).toBe("failed: 1 alert(s) firing: NovaApiErrors");
  });

  it("without matchers every firing alert counts", async () => {
    await setAlerts([{ labels: ledger }]);
    expect(await probe({ matchers: [], inconclusiveFails: true })).toMatchObject({ outcome: "failed" });
  });

  it.each([
    ["a wrong authorization", { authorization: "Bearer wrong" }],
    ["no authorization", {}],
    ["an unreachable Alertmanager", { url: "http://127.0.0.1:1" }],
  ])("%s is inconclusive: it fails production only", async (_name, extra) => {
    await setAlerts([{ labels: nova }], "Bearer s3cret-token");
    const strict = await probe({ matchers: ['namespace="nova-prod"'], inconclusiveFails: true, ...extra });
    expect(strict).toMatchObject({ ok: false, outcome: "inconclusive" });
    expect(strict.detail).toMatch(/^inconclusive: Alertmanager gave no usable answer/);
    const lax = await probe({ matchers: ['namespace="nova-prod"'], inconclusiveFails: false, ...extra });
    expect(lax).toMatchObject({ ok: true, outcome: "inconclusive" });
  });

  it("the probe's command line takes the authorization from its environment and never prints it", async () => {
    await setAlerts([{ labels: nova }], "Bearer env-token-canary");
    const out: string[] = [];
    const stdout = process.stdout.write.bind(process.stdout);
    const stderr = process.stderr.write.bind(process.stderr);
    const capture = (chunk: string) => (out.push(chunk), true);
    process.stdout.write = capture;
    process.stderr.write = capture;
    process.env[AUTHORIZATION_ENV.alertmanager] = "Bearer env-token-canary";
    let code: number;
    try {
      code = await main([
        "alerts",
        "--name",
        "alerts-quiet",
        "--url",
        am,
        "--matcher",
        'namespace="nova-prod"',
        "--inconclusive-fails",
        "--attempts",
        "1",
      ]);
    } finally {
      process.stdout.write = stdout;
      process.stderr.write = stderr;
      delete process.env[AUTHORIZATION_ENV.alertmanager];
    }
    expect(code).toBe(1);
    const result = JSON.parse(out.find((l) => l.startsWith("{")) ?? "{}") as ProbeResult;
    // Authorized (a 401 would be inconclusive): the alert of ours was seen.
    expect(result.detail).toBe("failed: 1 alert(s) firing: NovaApiErrors");
    expect(out.join("")).not.toContain("env-token-canary");
  });
});

describe("judgeAlerts", () => {
  const r = (ok: boolean, detail: string): ProbeResult => ({
    check: "a",
    ok,
    attempts: 1,
    elapsedMs: 1,
    detail,
  });
  it.each([
    [r(true, "no alerts firing"), false, true, { ok: true, outcome: "successful" }],
    [r(false, "1 alert(s) firing: X"), true, false, { ok: false, outcome: "failed" }],
    [r(false, "1 alert(s) firing: X"), true, true, { ok: false, outcome: "failed" }],
    [r(false, "answered 503"), false, true, { ok: false, outcome: "inconclusive" }],
    [r(false, "answered 503"), false, false, { ok: true, outcome: "inconclusive" }],
  ])("%j (last firing %s, inconclusive fails %s) is %j", (result, lastFiring, strict, want) => {
    expect(judgeAlerts(result, lastFiring, strict)).toMatchObject(want);
  });
});
