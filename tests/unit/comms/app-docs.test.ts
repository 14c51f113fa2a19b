import { describe, expect, it } from "vitest";
import { launchMarker, statusWithLaunch, todoWithFollowUps } from "../../../src/comms/app-docs";

const facts = {
  stack: "production",
  release: "2026.11.3",
  digests: { api: `sha256:${"a".repeat(64)}`, worker: `sha256:${"b".repeat(64)}` },
  finishedAt: "2026-12-04T03:30:00.000Z",
  launchReport: "20261204T033000Z-launch.md",
  launchReportPath: "tests/drills/logs/production/20261204T033000Z-launch.md",
  followUps: [
    { drill: "billing", dueAt: "2026-12-11T04:00:00.000Z" },
    { drill: "backups", dueAt: "2026-12-11T04:00:00.000Z" },
  ],
};

describe("the app checkout's STATUS and TODO after a launch", () => {
  it("STATUS gains a Launches section with the release, the images and the launch summary", () => {
    const after = statusWithLaunch("# Status\n\nRelease **2026.11.3** is cut.\n", facts);
    expect(after).toBe(
      [
        "# Status",
        "",
        "Release **2026.11.3** is cut.",
        "",
        "## Launches",
        "",
        launchMarker(facts),
        `- Release **2026.11.3** is live on \`production\` on 2026-12-04: nova-rms-api \`${facts.digests.api}\`, nova-rms-worker \`${facts.digests.worker}\`; launch summary \`tests/drills/logs/production/20261204T033000Z-launch.md\`.`,
        "",
      ].join("\n"),
    );
  });

  it("puts a later launch first under an existing section, and changes nothing for one already recorded", () => {
    const first = statusWithLaunch("# Status\n", facts);
    const second = statusWithLaunch(first, { ...facts, release: "2026.11.4" });
    const lines = second.split("\n");
    expect(lines.indexOf(launchMarker({ stack: "production", release: "2026.11.4" }))).toBeLessThan(
      lines.indexOf(launchMarker(facts)),
    );
    expect(statusWithLaunch(second, facts)).toBe(second);
    expect(todoWithFollowUps(todoWithFollowUps("# TODO\n", facts), facts)).toBe(
      todoWithFollowUps("# TODO\n", facts),
    );
  });

  it("TODO gains the follow-up drills as open items with their due dates and how to close them", () => {
    expect(todoWithFollowUps("# TODO\n\n- [ ] Launch 2026.11.3\n", facts)).toContain(
      [
        "## Launch follow-ups",
        "",
        launchMarker(facts),
        "- [ ] billing drill after release 2026.11.3 on `production`, due 2026-12-11 (`rollout post-launch --stack production --done billing`)",
        "- [ ] backups drill after release 2026.11.3 on `production`, due 2026-12-11 (`rollout post-launch --stack production --done backups`)",
      ].join("\n"),
    );
  });
});
