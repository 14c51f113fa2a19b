// Stakeholder communication rendered from the launch summary: which files, what they say, and what they never say.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { messageOf } from "../../../src/notify/notifier";
import { afterEach, describe, expect, it } from "vitest";
import { renderLaunchReport, parseLaunchReport } from "../../../cli/launch-report";
import type { LaunchSummary } from "../../../src/comms/launch-summary";
import {
  freezeNoticeDetail,
  renderCustomerEmail,
  renderIncidentRoomNote,
  renderPostmortem,
  renderReleaseComms,
  renderStatusPageNotice,
  writeReleaseComms,
} from "../../../src/comms/templates";

const API = `sha256:${"a".repeat(64)}`;
const WORKER = `sha256:${"b".repeat(64)}`;
const OLD_API = `sha256:${"c".repeat(64)}`;
const OLD_WORKER = `sha256:${"d".repeat(64)}`;

const release: LaunchSummary = {
  stack: "production",
  kind: "release",
  release: "2026.11.4",
  digests: { api: API, worker: WORKER },
  startedAt: new Date("2026-11-25T18:00:00Z"),
  finishedAt: new Date("2026-11-25T18:12:30Z"),
  changes: { update: 4, same: 21 },
  verification: [
    { check: "api-health", ok: true, attempts: 1, detail: "200" },
    { check: "error-rate", ok: true, attempts: 3, detail: "rate < 0.01 | 3/3 ok" },
  ],
  databaseDump: "gs://nova-backups/production/2026.11.4.dump",
};

const rollback: LaunchSummary = {
  stack: "production",
  kind: "rollback",
  release: "2026.11.3",
  digests: { api: OLD_API, worker: OLD_WORKER },
  startedAt: new Date("2026-11-25T18:20:00Z"),
  finishedAt: new Date("2026-11-25T18:26:00Z"),
  changes: { update: 4 },
  verification: [{ check: "api-health", ok: true, attempts: 1, detail: "200" }],
  rolledBackTo: 41,
  reason: "automatic rollback after release 2026.11.4 failed post-deploy verification",
  rolledBackFrom: {
    release: "2026.11.4",
    digests: { api: API, worker: WORKER },
    startedAt: new Date("2026-11-25T18:00:00Z"),
    verificationFailedAt: new Date("2026-11-25T18:15:10Z"),
    verification: [
      { check: "api-health", ok: true, attempts: 1, detail: "200" },
      { check: "error-rate", ok: false, attempts: 5, detail: "0.07 > 0.01" },
    ],
  },
};

let tmp: string | undefined;
afterEach(() => {
  if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});

describe("writeReleaseComms", () => {
  it("writes <ts>-<kind>.md next to the launch summary: three notices for a release", () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nova-comms-"));
    const files = writeReleaseComms(tmp, release, { launchReport: "20261125T181230Z-launch.md" });
    expect(files.map((f) => path.relative(tmp!, f))).toEqual([
      path.join("production", "20261125T181230Z-status-page.md"),
      path.join("production", "20261125T181230Z-customer-email.md"),
      path.join("production", "20261125T181230Z-incident-room.md"),
    ]);
    for (const f of files) expect(fs.readFileSync(f, "utf8").length).toBeGreaterThan(50);
  });

  it("adds the postmortem skeleton on rollback", () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nova-comms-"));
    const files = writeReleaseComms(tmp, rollback, {});
    expect(files.map((f) => path.basename(f))).toEqual([
      "20261125T182600Z-status-page.md",
      "20261125T182600Z-customer-email.md",
      "20261125T182600Z-incident-room.md",
      "20261125T182600Z-postmortem.md",
    ]);
  });
});

describe("the notices", () => {
  it("status page and customer e-mail name the release and time, with no digests, checks or paths", () => {
    for (const text of [renderStatusPageNotice(release), renderCustomerEmail(release)]) {
      expect(text).toContain("2026.11.4");
      expect(text).toContain("2026-11-25T18:12:30Z");
      expect(text).not.toContain("sha256:");
      expect(text).not.toContain("error-rate");
      expect(text).not.toContain("gs://");
    }
    expect(renderCustomerEmail(release, { supportContact: "support@nova.example", product: "Nova" })).toMatch(
      /^Subject: Nova release 2026\.11\.4 is live\n[\s\S]*support@nova\.example/,
    );
    expect(renderCustomerEmail(release)).toContain("<support contact: fill in before sending>");
    expect(renderStatusPageNotice(rollback)).toMatch(
      /update rolled back[\s\S]*restored the previous version \(release 2026\.11\.3\)/,
    );
  });

  it("the incident-room note carries digests, changes, the dump and the verification table", () => {
    const note = renderIncidentRoomNote(release, { launchReport: "20261125T181230Z-launch.md" });
    expect(note).toContain("# Incident room: release of production 2026.11.4");
    expect(note).toContain(`nova-rms-api \`${API}\`, nova-rms-worker \`${WORKER}\``);
    expect(note).toContain("(12.5 min)");
    expect(note).toContain("- Changes: update 4, same 21");
    expect(note).toContain("`gs://nova-backups/production/2026.11.4.dump`");
    expect(note).toContain("| error-rate | pass | 3 | rate < 0.01 \\| 3/3 ok |");
    expect(note).toContain("all 2 check(s) passed");
    expect(note).toContain("post-launch --stack production --by <you>");
  });

  it("the postmortem is pre-filled with release, digests, timeline and both verifications", () => {
    const pm = renderPostmortem(rollback, { launchReport: "20261125T182600Z-launch.md" });
    expect(pm).toContain("# Postmortem: release 2026.11.4 rolled back on production");
    expect(pm).toContain(`| rolled back | 2026.11.4 | \`${API}\` | \`${WORKER}\` |`);
    expect(pm).toContain(`| restored | 2026.11.3 | \`${OLD_API}\` | \`${OLD_WORKER}\` |`);
    const timeline = pm.slice(pm.indexOf("## Timeline"), pm.indexOf("## Verification results"));
    expect(timeline.split("\n").filter((l) => /^\| 20/.test(l))).toEqual([
      "| 2026-11-25T18:00:00Z | release started |",
      "| 2026-11-25T18:15:10Z | post-deploy verification failed |",
      "| 2026-11-25T18:20:00Z | rollback started |",
      "| 2026-11-25T18:26:00Z | rollback finished |",
    ]);
    expect(pm).toContain("| error-rate | FAIL | 5 | 0.07 > 0.01 |");
    expect(pm).toContain("Restored the config of update 41.");
    expect(pm).toContain("## Root cause");
  });

  it("the postmortem says what was not recorded instead of inventing it", () => {
    const { rolledBackFrom: _from, ...manual } = rollback;
    const pm = renderPostmortem(manual);
    expect(pm).toContain("| _not recorded_ | release started |");
    expect(pm).toContain("| _not recorded_ | post-deploy verification failed |");
    expect(pm).toContain("| 2026-11-25T18:26:00Z | rollback finished |");
  });
});

describe("only the summary's named fields are rendered", () => {
  const SECRETS = ["hunter2-db-password", "xoxb-slack-token-123", "jwt-signing-key-value", "s3cr3t"];
  // A summary that picked up more than it should: a secret config value, a Pulumi secret output, a webhook URL.
  const polluted = {
    ...rollback,
    databaseUrl: "postgres://nova:hunter2-db-password@db:5432/nova",
    jwtSigningKey: {
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: "jwt-signing-key-value",
    },
    notifyChannels: { ops: { kind: "slack", url: "https://hooks.example/xoxb-slack-token-123" } },
    verification: rollback.verification.map((v) => ({ ...v, secretValue: "s3cr3t" })),
    rolledBackFrom: { ...rollback.rolledBackFrom!, token: "s3cr3t" },
  } as LaunchSummary;

  it("no rendered file holds a value the summary's fields do not name", () => {
    const all = renderReleaseComms(polluted, { launchReport: "20261125T182600Z-launch.md" });
    expect(all.map((c) => c.kind)).toEqual(["status-page", "customer-email", "incident-room", "postmortem"]);
    for (const { kind, text } of all) {
      for (const s of SECRETS) expect(text, `${kind} leaks ${s}`).not.toContain(s);
      expect(text).not.toMatch(/4dabf18193072939515e22adb298388d|postgres:|hooks\.example/);
    }
    // The same files as from the clean summary: the extra fields changed nothing.
    expect(all).toEqual(renderReleaseComms(rollback, { launchReport: "20261125T182600Z-launch.md" }));
  });

  it("credentials inside a rendered field (a URL with user:password@) are masked", () => {
    const leaky: LaunchSummary = {
      ...release,
      databaseDump: "https://backup:hunter2-db-password@store.example/dump",
      verification: [
        { check: "api-health", ok: false, attempts: 2, detail: "GET http://u:s3cr3t@api/v1/health 503" },
      ],
    };
    for (const { text } of renderReleaseComms(leaky)) {
      expect(text).not.toContain("hunter2-db-password");
      expect(text).not.toContain("s3cr3t");
    }
    expect(renderIncidentRoomNote(leaky)).toContain("`https://***@store.example/dump`");
  });
});

describe("launch summary additions", () => {
  it("renders the release a rollback replaced and reads a summary back", () => {
    const md = renderLaunchReport(rollback);
    expect(md).toContain(`- Rolled back from release 2026.11.4 (nova-rms-api \`${API}\``);
    expect(parseLaunchReport(md)).toEqual({
      kind: "rollback",
      stack: "production",
      release: "2026.11.3",
      digests: { api: OLD_API, worker: OLD_WORKER },
      finishedAt: "2026-11-25T18:26:00.000Z",
      rolledBackTo: 41,
      verification: [{ check: "api-health", ok: true }],
    });
    expect(parseLaunchReport(renderLaunchReport(release))?.verification).toEqual([
      { check: "api-health", ok: true },
      { check: "error-rate", ok: true },
    ]);
    expect(parseLaunchReport("# something else\n")).toBeUndefined();
  });
});

describe("freeze notices", () => {
  const line = (kind: "freeze-declared" | "freeze-lifted", detail: string) =>
    messageOf({ kind, stack: "production", release: "", at: "2026-11-25T19:00:00.000Z", detail });

  it("one line per freeze event, in the notifier's style", () => {
    expect(
      line(
        "freeze-declared",
        freezeNoticeDetail({
          event: "declared",
          stack: "production",
          start: "2026-11-25T16:00:00.000Z",
          end: "2026-11-25T22:00:00.000Z",
          by: "Rae Manager",
          reason: "2026.11.4",
        }),
      ),
    ).toBe(
      "[nova-rollout] Change freeze declared: production — 2026-11-25T16:00:00.000Z – 2026-11-25T22:00:00.000Z by Rae Manager — 2026.11.4",
    );
    expect(
      line(
        "freeze-lifted",
        freezeNoticeDetail({
          event: "lifted",
          stack: "production",
          start: "2026-11-25T16:00:00.000Z",
          end: "2026-11-25T22:00:00.000Z",
          by: "Rae Manager",
          liftedAt: "2026-11-25T19:00:00.000Z",
        }),
      ),
    ).toBe(
      "[nova-rollout] Change freeze lifted: production — window 2026-11-25T16:00:00.000Z – 2026-11-25T22:00:00.000Z ended at 2026-11-25T19:00:00.000Z by Rae Manager",
    );
  });
});
