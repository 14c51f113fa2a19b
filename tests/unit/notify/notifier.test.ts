import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import {
  bodyFor,
  deliver,
  messageOf,
  Notifier,
  parseChannels,
  type Channel,
} from "../../../src/notify/notifier";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-notify-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const SECRET_URL = "https://hooks.example/services/T000/B000/very-secret-token";
const slack: Channel = { name: "nova-ops", kind: "slack", url: SECRET_URL };
const event = {
  kind: "verification-failed" as const,
  stack: "production",
  release: "2026.11.4",
  at: "2026-11-26T06:00:00Z",
  detail: "nova-verify-api-health",
};
const noSleep = () => Promise.resolve();

describe("messages", () => {
  it("say what happened to which release in one line", () => {
    expect(messageOf(event)).toBe(
      "[nova-rollout] Post-deploy verification failed: production 2026.11.4 — nova-verify-api-health",
    );
  });

  it.each([
    ["slack", (b: Record<string, unknown>) => expect(Object.keys(b)).toEqual(["text"])],
    [
      "json",
      (b: Record<string, unknown>) =>
        expect(b).toMatchObject({ kind: "verification-failed", release: "2026.11.4" }),
    ],
  ] as const)("a %s channel gets its body shape", (kind, check) => {
    check(JSON.parse(bodyFor({ ...slack, kind }, event)) as Record<string, unknown>);
  });
});

describe("channels config", () => {
  it("parses a map of channels", () => {
    expect(parseChannels(JSON.stringify({ "nova-ops": { kind: "slack", url: SECRET_URL } }))).toEqual([
      slack,
    ]);
    expect(parseChannels(undefined)).toEqual([]);
  });

  it.each([
    ["not JSON", "{"],
    ["a bad kind", JSON.stringify({ a: { kind: "email", url: SECRET_URL } })],
    ["a bad URL", JSON.stringify({ a: { kind: "slack", url: "ftp://x" } })],
    ["a bad name", JSON.stringify({ "Nova Ops": { kind: "slack", url: SECRET_URL } })],
  ])("refuses %s without echoing a URL", (_what, text) => {
    let message = "";
    try {
      parseChannels(text);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^nova-rollout:notifyChannels: /);
    expect(message).not.toContain("very-secret-token");
  });
});

describe("delivery", () => {
  it("retries with backoff and succeeds when the receiver recovers", async () => {
    const fetch = vi
      .fn()
      .mockRejectedValueOnce(new Error("ECONNREFUSED"))
      .mockResolvedValueOnce(new Response("", { status: 503 }))
      .mockResolvedValueOnce(new Response("ok", { status: 200 }));
    const sleep = vi.fn(noSleep);
    expect(
      await deliver(slack, event, { attempts: 3, timeoutMs: 100, backoffMs: 10, fetch, sleep }),
    ).toBeUndefined();
    expect(sleep.mock.calls.map((c: unknown[]) => c[0])).toEqual([10, 20]);
  });

  it("never throws; a receiver that stays down leaves the event on file, without the URL", async () => {
    const fetch = vi.fn().mockRejectedValue(new Error(`connect ECONNREFUSED ${SECRET_URL}`));
    const log = vi.fn();
    const n = new Notifier(
      [slack],
      dir,
      { attempts: 2, timeoutMs: 50, backoffMs: 1, fetch, sleep: noSleep },
      log,
    );
    await n.send("release-started", "production", "2026.11.4");
    const file = fs.readFileSync(path.join(dir, "production", "notify-undelivered.jsonl"), "utf8");
    expect(JSON.parse(file.trim())).toMatchObject({
      channel: "nova-ops",
      reason: "unreachable after 2 attempt(s)",
      event: { kind: "release-started", release: "2026.11.4" },
    });
    expect(file + JSON.stringify(log.mock.calls)).not.toContain("very-secret-token");
  });

  it("sends nothing when no channel is configured", async () => {
    const fetch = vi.fn();
    await new Notifier([], dir, { attempts: 1, timeoutMs: 1, backoffMs: 1, fetch }).send(
      "release-started",
      "s",
      "r",
    );
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe("grafana annotations", () => {
  const grafana: Channel = {
    name: "grafana",
    kind: "grafana",
    url: "https://grafana.nova.example/",
    authorization: "Bearer glsa_secret-token",
    dashboardUid: "nova-rollout",
  };
  const digests = { api: `sha256:${"a".repeat(64)}`, worker: `sha256:${"b".repeat(64)}` };

  it("parses a grafana channel with its authorization and dashboard; a dashboard elsewhere is refused", () => {
    expect(
      parseChannels(
        JSON.stringify({
          grafana: {
            kind: "grafana",
            url: grafana.url,
            authorization: grafana.authorization,
            dashboardUid: "nova-rollout",
          },
        }),
      ),
    ).toEqual([grafana]);
    expect(() =>
      parseChannels(JSON.stringify({ a: { kind: "slack", url: SECRET_URL, dashboardUid: "x" } })),
    ).toThrow(/a\.dashboardUid: dashboardUid is for grafana channels/);
    expect(() =>
      parseChannels(JSON.stringify({ g: { kind: "grafana", url: grafana.url, authorization: "glsa_x" } })),
    ).toThrow(/g\.authorization: expected "Bearer <token>" or "Basic <base64>"/);
  });

  it("posts each event to /api/annotations with the authorization: tagged, timed, naming the images", async () => {
    const fetch = vi.fn().mockResolvedValue(new Response('{"id":1}', { status: 200 }));
    const n = new Notifier([grafana], dir, {
      attempts: 1,
      timeoutMs: 100,
      backoffMs: 1,
      fetch,
      sleep: noSleep,
    });
    await n.send("rollback-done", "production", "2026.11.3", "to update 41", digests);
    const [url, init] = fetch.mock.calls[0] as [string, RequestInit & { body: string }];
    expect(url).toBe("https://grafana.nova.example/api/annotations");
    expect((init.headers as Record<string, string>).authorization).toBe("Bearer glsa_secret-token");
    const body = JSON.parse(init.body) as {
      dashboardUID: string;
      time: number;
      tags: string[];
      text: string;
    };
    expect(body.dashboardUID).toBe("nova-rollout");
    expect(Math.abs(body.time - Date.now())).toBeLessThan(60_000);
    expect(body.tags).toEqual([
      "nova-rollout",
      "stack:production",
      "release:2026.11.3",
      "event:rollback-done",
    ]);
    expect(body.text).toBe(
      `[nova-rollout] Rolled back: production 2026.11.3 — to update 41\nnova-rms-api@${digests.api}\nnova-rms-worker@${digests.worker}`,
    );
    expect(init.body).not.toContain("glsa_secret-token");
  });
});
