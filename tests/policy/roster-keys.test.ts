// A roster key that cannot be used makes the roster unusable: the gate fails closed with a report naming the key,
// instead of throwing inside the signature check of the bundle.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readinessGate } from "../../policy/policies";
import { type Roster } from "../../src/evidence";
import { produceBundle, type ProjectFixture, SANDBOX_PROJECT, TEST_ROSTER } from "./fixtures";
import { fileConfig, runResourcePolicy } from "./harness";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

const RSA_PEM = crypto
  .generateKeyPairSync("rsa", { modulusLength: 2048 })
  .publicKey.export({ type: "spki", format: "pem" })
  .toString();
const GOOD_PEM = TEST_ROSTER.preflightKeys[0]?.publicKey ?? "";
/** The committed test key with part of its body overwritten: a PEM block that is no key. */
const DAMAGED_PEM = GOOD_PEM.replace(/\n[A-Za-z0-9+/]{12}/, "\nAAAAAAAAAAAA");

async function gate(p: ProjectFixture, file: "local" | "production"): Promise<string> {
  const outcome = await runResourcePolicy(readinessGate, {
    type: "pulumi:pulumi:Stack",
    name: `nova-rollout-${p.stack}`,
    stack: p.stack,
    props: {},
    config: fileConfig(readinessGate, file, { projectDir: p.dir }),
  });
  return outcome.messages.join("\n");
}

const withKey = (name: string, publicKey: string): Roster => ({
  ...TEST_ROSTER,
  preflightKeys: [...TEST_ROSTER.preflightKeys, { name, publicKey }],
});

describe("a malformed key in the committed roster (production)", () => {
  it.each([
    ["a damaged PEM", DAMAGED_PEM, /kms-ci\) publicKey cannot be read as a public key/],
    [
      "an RSA key",
      RSA_PEM,
      /kms-ci\) publicKey is a key of type rsa; preflight bundles are signed with ed25519/,
    ],
  ])("%s: the gate fails closed with a [trust] finding naming the key", async (_l, pem, expected) => {
    const p = fixture.project;
    // A bundle signed by the roster's good key: only the bad second key stands in the way.
    await produceBundle(p);
    p.write("policy/trust/roster.json", JSON.stringify(withKey("kms-ci", pem), null, 2));
    const report = await gate(p, "production");
    expect(report).toMatch(
      /\[trust\]: The trust roster .*policy\/trust\/roster\.json is invalid: preflightKeys\[1\]/,
    );
    expect(report).toMatch(expected);
    expect(report).toMatch(/production fails closed/);
  });

  it("a person's ssh-rsa key: the same finding, naming the person", async () => {
    const p = fixture.project;
    await produceBundle(p);
    const rsaLine = `ssh-rsa ${Buffer.concat([
      Buffer.from([0, 0, 0, 7]),
      Buffer.from("ssh-rsa"),
      Buffer.from([0, 0, 0, 1, 3]),
    ]).toString("base64")} dana`;
    const [first, ...rest] = TEST_ROSTER.people;
    const roster: Roster = { ...TEST_ROSTER, people: [{ ...first!, sshPublicKey: rsaLine }, ...rest] };
    p.write("policy/trust/roster.json", JSON.stringify(roster, null, 2));
    expect(await gate(p, "production")).toMatch(
      new RegExp(`\\[trust\\]: .*people\\[0\\] \\(${first!.name}\\) sshPublicKey is a ssh-rsa key`),
    );
  });
});

describe("a malformed key in the sandbox roster (local enforcement)", () => {
  it("is a [signature] finding naming the key and the sandbox roster", async () => {
    const p = fixture.remakeProject(SANDBOX_PROJECT);
    await produceBundle(p);
    const file = path.join(p.dir, ".sandbox", "trust", "roster.json");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(withKey("sandbox-preflight", DAMAGED_PEM)));
    const report = await gate(p, "local");
    expect(report).toMatch(
      /\[signature\]: The trust roster .*\.sandbox\/trust\/roster\.json is invalid: preflightKeys\[1\] \(sandbox-preflight\) publicKey cannot be read/,
    );
  });
});
