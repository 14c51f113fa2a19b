import { describe, expect, it } from "vitest";
import { dryRunMismatch, engineRunFromArgv } from "../../../src/util/engine-run";

const node = ["/usr/bin/node", "/p/node_modules/@pulumi/pulumi/cmd/run"];
const host = (...flags: string[]) => [
  ...node,
  "--monitor",
  "127.0.0.1:4000",
  "--engine",
  "127.0.0.1:4001",
  "--project",
  "nova-rollout",
  "--stack",
  "production",
  ...flags,
  "--parallel",
  "16",
  "./dist/index.js",
];

describe("engineRunFromArgv", () => {
  it.each([
    ["an update (no --dry-run)", host(), { preview: false }],
    ["a preview", host("--dry-run"), { preview: true }],
    ["a preview, --dry-run=true", host("--dry-run=true"), { preview: true }],
    [
      "--flag=value forms",
      [...node, "--monitor=127.0.0.1:1", "--stack=p", "--dry-run", "x.js"],
      { preview: true },
    ],
    [
      "an update whose stack is named --dry-run",
      [...node, "--monitor", "m", "--stack", "--dry-run", "x.js"],
      { preview: false },
    ],
    [
      "an update with --dry-run among the program's own arguments",
      [...host(), "--dry-run"],
      { preview: false },
    ],
  ])("%s", (_name, argv, want) => {
    expect(engineRunFromArgv(argv)).toEqual(want);
  });

  it("is undefined when no language host started the process (mocks)", () => {
    expect(engineRunFromArgv([...node, "--dry-run", "x.js"])).toBeUndefined();
    expect(engineRunFromArgv(["/usr/bin/node", "vitest"])).toBeUndefined();
  });
});

describe("dryRunMismatch", () => {
  it("names the inherited variable when the engine updates and the SDK believes it previews", () => {
    const why = dryRunMismatch({ preview: false }, true);
    expect(why).toMatch(/engine runs an update/);
    expect(why).toMatch(/PULUMI_NODEJS_DRY_RUN=true/);
    expect(why).toMatch(/Nothing was changed/);
  });
  it.each([
    [{ preview: false }, false],
    [{ preview: true }, true],
    [undefined, true],
    [undefined, false],
  ])("agrees: %j with SDK dry-run %s", (run, sdk) => {
    expect(dryRunMismatch(run, sdk)).toBeUndefined();
  });
  it("reports the reverse disagreement too", () => {
    expect(dryRunMismatch({ preview: true }, false)).toMatch(/engine runs a preview/);
  });
});
