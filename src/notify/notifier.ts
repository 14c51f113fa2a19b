/**
 * Release communication (playbook steps 2, 7, 8): one concise message per rollout event to each configured channel —
 * a Slack-compatible incoming webhook (`{"text": …}`), a generic JSON webhook (the event itself), or Grafana, where
 * each event becomes an annotation (HTTP API `POST /api/annotations`, tagged with the stack, release and event, its
 * text naming the image digests) on the dashboards that show the release. Delivery retries
 * with backoff under a timeout and never fails or blocks the rollout: an event that could not be delivered is appended
 * to the evidence directory instead. Messages are built from release facts only (stack, release, digests, check
 * names, file names); webhook URLs are secrets and never appear in a message, a log line or the undelivered file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";

export const NOTIFY_EVENTS = [
  "release-started",
  "release-succeeded",
  "gate-blocked",
  "verification-failed",
  "rollback-done",
  "rollback-failed",
  "freeze-declared",
  "freeze-lifted",
] as const;
export type NotifyEventKind = (typeof NOTIFY_EVENTS)[number];

/** One rollout event. */
export interface NotifyEvent {
  readonly kind: NotifyEventKind;
  readonly stack: string;
  readonly release: string;
  readonly at: string;
  /** One line of detail (failing checks, the restored version, the launch summary's file name). */
  readonly detail?: string;
  /** The images the event is about (the release deployed or restored), when known. */
  readonly digests?: { readonly api: string; readonly worker: string };
}

/** A configured channel (the URL and the authorization are secret values from stack config). */
export interface Channel {
  readonly name: string;
  readonly kind: "slack" | "json" | "grafana";
  /** The webhook's URL; for Grafana, its base URL (`https://grafana.example`). */
  readonly url: string;
  /** `Authorization` header (`Bearer <service account token>` for Grafana). */
  readonly authorization?: string;
  /** Grafana only: the dashboard the annotations belong to (default: organisation-wide annotations). */
  readonly dashboardUid?: string;
}

/** `nova-rollout:notifyChannels`: a JSON map of channel name → { kind, url } (stored as a secret). */
export const channelsSchema = z.record(
  z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: "channel names are lowercase letters, digits and '-'" }),
  z
    .strictObject({
      kind: z.enum(["slack", "json", "grafana"], { error: 'expected "slack", "json" or "grafana"' }),
      url: z
        .string()
        .refine((u) => /^https?:\/\//.test(u) && URL.canParse(u), { error: "expected an http(s) URL" }),
      authorization: z
        .string()
        .regex(/^(Bearer|Basic) \S+$/, { error: 'expected "Bearer <token>" or "Basic <base64>"' })
        .optional(),
      dashboardUid: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,40}$/, { error: "expected a dashboard UID" })
        .optional(),
    })
    .refine((c) => c.kind === "grafana" || c.dashboardUid === undefined, {
      error: "dashboardUid is for grafana channels",
      path: ["dashboardUid"],
    }),
);

/** Parses the channels config; throws one error naming each bad channel (never echoing a URL). */
export function parseChannels(text: string | undefined): Channel[] {
  if (text === undefined || text.trim() === "") return [];
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error("nova-rollout:notifyChannels: expected a JSON map of channel name to {kind, url}");
  }
  const r = channelsSchema.safeParse(doc);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`nova-rollout:notifyChannels: ${problems}`);
  }
  return Object.entries(r.data).map(([name, c]) => ({
    name,
    kind: c.kind,
    url: c.url,
    ...(c.authorization !== undefined ? { authorization: c.authorization } : {}),
    ...(c.dashboardUid !== undefined ? { dashboardUid: c.dashboardUid } : {}),
  }));
}

const TITLES: Record<NotifyEventKind, string> = {
  "release-started": "Release started",
  "release-succeeded": "Release succeeded",
  "gate-blocked": "Readiness gate blocked the release",
  "verification-failed": "Post-deploy verification failed",
  "rollback-done": "Rolled back",
  "rollback-failed": "ROLLBACK FAILED — follow the runbook's emergency path",
  "freeze-declared": "Change freeze declared",
  "freeze-lifted": "Change freeze lifted",
};

/** The one-line message of an event. Pure. */
export function messageOf(e: NotifyEvent): string {
  const release = e.release === "" ? "" : ` ${e.release}`;
  return `[nova-rollout] ${TITLES[e.kind]}: ${e.stack}${release}${e.detail !== undefined ? ` — ${e.detail}` : ""}`;
}

/** The tags of an event's Grafana annotation (what dashboards filter annotations by). Pure. */
export function annotationTags(e: NotifyEvent): string[] {
  return [
    "nova-rollout",
    `stack:${e.stack}`,
    ...(e.release !== "" ? [`release:${e.release}`] : []),
    `event:${e.kind}`,
  ];
}

/** The HTTP body a channel receives. Pure. */
export function bodyFor(channel: Channel, e: NotifyEvent): string {
  switch (channel.kind) {
    case "slack":
      return JSON.stringify({ text: messageOf(e) });
    case "json":
      return JSON.stringify({ ...e, text: messageOf(e) });
    case "grafana": {
      const images =
        e.digests === undefined ? "" : `\nnova-rms-api@${e.digests.api}\nnova-rms-worker@${e.digests.worker}`;
      return JSON.stringify({
        ...(channel.dashboardUid !== undefined ? { dashboardUID: channel.dashboardUid } : {}),
        time: Date.parse(e.at),
        tags: annotationTags(e),
        text: `${messageOf(e)}${images}`,
      });
    }
  }
}

/** Where a channel's events are posted. Pure. */
export function endpointOf(channel: Channel): string {
  return channel.kind === "grafana" ? `${channel.url.replace(/\/+$/, "")}/api/annotations` : channel.url;
}

export interface DeliveryOptions {
  readonly attempts: number;
  readonly timeoutMs: number;
  readonly backoffMs: number;
  readonly fetch?: typeof globalThis.fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_DELIVERY: DeliveryOptions = { attempts: 3, timeoutMs: 3000, backoffMs: 500 };

/** Delivers one event to one channel; resolves to undefined on success, else why (without the URL). */
export async function deliver(
  channel: Channel,
  e: NotifyEvent,
  o: DeliveryOptions = DEFAULT_DELIVERY,
): Promise<string | undefined> {
  const f = o.fetch ?? globalThis.fetch;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let why = "not attempted";
  for (let i = 0; i < o.attempts; i += 1) {
    if (i > 0) await sleep(o.backoffMs * 2 ** (i - 1));
    try {
      const res = await f(endpointOf(channel), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(channel.authorization !== undefined ? { authorization: channel.authorization } : {}),
        },
        body: bodyFor(channel, e),
        signal: AbortSignal.timeout(o.timeoutMs),
      });
      if (res.ok) return undefined;
      why = `answered ${res.status}`;
    } catch (err) {
      const name = err instanceof Error ? err.name : "";
      why = name === "TimeoutError" ? `no answer within ${o.timeoutMs} ms` : "unreachable";
    }
  }
  return `${why} after ${o.attempts} attempt(s)`;
}

/** Sends events to every channel; never throws. Undelivered events go to `<evidenceDir>/<stack>/notify-undelivered.jsonl`. */
export class Notifier {
  constructor(
    private readonly channels: readonly Channel[],
    private readonly evidenceDir: string,
    private readonly options: DeliveryOptions = DEFAULT_DELIVERY,
    private readonly log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  ) {}

  /** Sends one event (with the images it is about, when known); resolves when every channel was tried. */
  async send(
    kind: NotifyEventKind,
    stack: string,
    release: string,
    detail?: string,
    digests?: NotifyEvent["digests"],
  ): Promise<void> {
    if (this.channels.length === 0) return;
    const e: NotifyEvent = {
      kind,
      stack,
      release,
      at: new Date().toISOString(),
      ...(detail !== undefined ? { detail } : {}),
      ...(digests !== undefined ? { digests } : {}),
    };
    for (const channel of this.channels) {
      let why: string | undefined;
      try {
        why = await deliver(channel, e, this.options);
      } catch {
        why = "could not be sent";
      }
      if (why === undefined) continue;
      this.log(`notify: ${channel.name} did not take "${kind}" (${why}); recorded in the evidence directory`);
      try {
        const file = path.join(this.evidenceDir, stack, "notify-undelivered.jsonl");
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.appendFileSync(file, `${JSON.stringify({ channel: channel.name, reason: why, event: e })}\n`);
      } catch {
        this.log("notify: the undelivered event could not be recorded either");
      }
    }
  }
}
