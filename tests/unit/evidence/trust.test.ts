// The roster's keys are checked when the roster is read: a key that cannot be used is a roster error naming the
// person or preflight key and what is wrong, never an exception deep inside a signature check.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  allowedSigners,
  loadRoster,
  parseTrustedPublicKey,
  readRosterSource,
  type Roster,
  sshPublicKeyLine,
  sshPublicKeyProblem,
  trustedPreflightKeys,
  verifyEnvelope,
} from "../../../src/evidence";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "nova-roster-"));
  dirs.push(d);
  return d;
}

const ed = crypto.generateKeyPairSync("ed25519");
const GOOD_PEM = ed.publicKey.export({ type: "spki", format: "pem" }).toString();
const GOOD_SSH = sshPublicKeyLine(crypto.generateKeyPairSync("ed25519").publicKey, "dana@laptop");
const PRIVATE_PEM = ed.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const RSA_PEM = crypto
  .generateKeyPairSync("rsa", { modulusLength: 2048 })
  .publicKey.export({ type: "spki", format: "pem" })
  .toString();
const EC_PEM = crypto
  .generateKeyPairSync("ec", { namedCurve: "P-256" })
  .publicKey.export({ type: "spki", format: "pem" })
  .toString();
/** The body of a good PEM with a few characters changed: still a PEM block, no longer a key. */
const DAMAGED_PEM = GOOD_PEM.replace(/\n([A-Za-z0-9+/]{8})/, "\nAAAAAAAA").replace("MC", "Mz");
const TRUNCATED_PEM = GOOD_PEM.split("\n").slice(0, 2).join("\n");
const sshBlob = (line: string) => line.split(" ")[1] ?? "";
const sshKeygen = (type: string, extra: string[] = []): { pub: string; priv: string } => {
  const file = path.join(tmp(), "id");
  execFileSync("ssh-keygen", ["-q", "-t", type, ...extra, "-N", "", "-C", "x", "-f", file]);
  return { pub: fs.readFileSync(`${file}.pub`, "utf8").trim(), priv: fs.readFileSync(file, "utf8") };
};
const RSA_SSH = sshKeygen("rsa", ["-b", "2048"]);
const ED_SSH = sshKeygen("ed25519");

function rosterFile(roster: unknown): string {
  const file = path.join(tmp(), "roster.json");
  fs.writeFileSync(file, JSON.stringify(roster, null, 2));
  return file;
}
const roster = (o: { ssh?: string; pem?: string } = {}): Roster => ({
  people: [
    { name: "Chris Wu", roles: ["cto"], sshPublicKey: GOOD_SSH },
    { name: "Dana Lee", roles: ["vp-engineering"], sshPublicKey: o.ssh ?? GOOD_SSH },
  ],
  preflightKeys: [
    { name: "ci-preflight", publicKey: GOOD_PEM },
    { name: "kms-preflight", publicKey: o.pem ?? GOOD_PEM },
  ],
});

describe("loadRoster: every key is checked on load", () => {
  it("accepts ed25519 keys in both forms (PEM SPKI preflight keys, ssh-ed25519 lines from ssh-keygen)", () => {
    const r = loadRoster(rosterFile(roster({ ssh: ED_SSH.pub })));
    expect(trustedPreflightKeys(r).map((k) => k.name)).toEqual(["ci-preflight", "kms-preflight"]);
    expect(allowedSigners(r)).toMatch(/^Dana_Lee namespaces="nova-rollout" ssh-ed25519 AAAA/m);
  });

  it.each<[string, { ssh?: string; pem?: string }, RegExp]>([
    [
      "a damaged PEM body",
      { pem: DAMAGED_PEM },
      /preflightKeys\[1\] \(kms-preflight\) publicKey cannot be read as a public key .*damaged/,
    ],
    [
      "a PEM block cut short",
      { pem: TRUNCATED_PEM },
      /preflightKeys\[1\] \(kms-preflight\) publicKey is not a PEM public key/,
    ],
    [
      "no PEM at all",
      { pem: "ed25519:abc" },
      /kms-preflight\) publicKey is not a PEM public key \(found no PEM block/,
    ],
    [
      "an RSA key where ed25519 is required",
      { pem: RSA_PEM },
      /kms-preflight\) publicKey is a key of type rsa; preflight bundles are signed with ed25519 keys only/,
    ],
    ["an EC key", { pem: EC_PEM }, /kms-preflight\) publicKey is a key of type ec;/],
    [
      "a private key pasted as the public key",
      { pem: PRIVATE_PEM },
      /kms-preflight\) publicKey is a private key; the roster holds public keys only/,
    ],
    [
      "an ssh line that is not a key",
      { ssh: "ssh-ed25519 not-a-key!" },
      /people\[1\] \(Dana Lee\) sshPublicKey is not an SSH public key line/,
    ],
    [
      "an ssh line with one word",
      { ssh: "AAAAC3NzaC1lZDI1NTE5AAAA" },
      /Dana Lee\) sshPublicKey is not an SSH public key line/,
    ],
    [
      "an ssh-ed25519 line whose blob is cut short",
      { ssh: `ssh-ed25519 ${sshBlob(GOOD_SSH).slice(0, 40)}` },
      /Dana Lee\) sshPublicKey is a malformed ssh-ed25519 key \(its blob does not hold one 32-byte key\)/,
    ],
    [
      "an ssh-ed25519 line whose blob holds a 31-byte key",
      {
        ssh: `ssh-ed25519 ${Buffer.concat([
          Buffer.from([0, 0, 0, 11]),
          Buffer.from("ssh-ed25519"),
          Buffer.from([0, 0, 0, 31]),
          Buffer.alloc(31, 7),
        ]).toString("base64")}`,
      },
      /Dana Lee\) sshPublicKey is a malformed ssh-ed25519 key/,
    ],
    [
      "an ssh-rsa key",
      { ssh: RSA_SSH.pub },
      /Dana Lee\) sshPublicKey is a ssh-rsa key; records are signed with ssh-ed25519/,
    ],
    [
      "a type that does not match its blob",
      { ssh: `ssh-rsa ${sshBlob(GOOD_SSH)}` },
      /Dana Lee\) sshPublicKey cannot be read \(key type ssh-rsa does not match its blob/,
    ],
    [
      "an SSH private key pasted as the public key",
      { ssh: ED_SSH.priv },
      /Dana Lee\) sshPublicKey is a private key; the roster holds public keys only/,
    ],
  ])("%s is a roster error naming the key", (_label, o, expected) => {
    const file = rosterFile(roster(o));
    expect(() => loadRoster(file)).toThrow(expected);
    const source = readRosterSource(file);
    expect("error" in source.roster && source.roster.error).toMatch(
      new RegExp(`^The trust roster ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is invalid: `),
    );
    // The good entries are not blamed, and nothing of a pasted private key is repeated.
    const message = "error" in source.roster ? source.roster.error : "";
    expect(message).not.toMatch(/Chris Wu|ci-preflight/);
    for (const body of [PRIVATE_PEM, ED_SSH.priv]) {
      const secretLine = body.split("\n")[1] ?? "";
      expect(message).not.toContain(secretLine);
    }
  });

  it("names every bad key at once", () => {
    const file = rosterFile({
      people: [
        { name: "Dana Lee", roles: ["cto"], sshPublicKey: RSA_SSH.pub },
        { name: "Eve Engineer", roles: ["engineer"], sshPublicKey: "garbage" },
      ],
      preflightKeys: [{ name: "ci", publicKey: RSA_PEM }],
    });
    const source = readRosterSource(file);
    const message = "error" in source.roster ? source.roster.error : "";
    expect(message).toMatch(/people\[0\] \(Dana Lee\) sshPublicKey is a ssh-rsa key/);
    expect(message).toMatch(/people\[1\] \(Eve Engineer\) sshPublicKey is not an SSH public key line/);
    expect(message).toMatch(/preflightKeys\[0\] \(ci\) publicKey is a key of type rsa/);
  });
});

describe("parseTrustedPublicKey and sshPublicKeyProblem never throw", () => {
  it.each([GOOD_PEM, DAMAGED_PEM, TRUNCATED_PEM, RSA_PEM, PRIVATE_PEM, "", "-----BEGIN PUBLIC KEY-----"])(
    "PEM case %#",
    (pem) => {
      const r = parseTrustedPublicKey(pem);
      expect("key" in r).toBe(pem === GOOD_PEM);
    },
  );

  it.each([GOOD_SSH, ED_SSH.pub, RSA_SSH.pub, "", "ssh-ed25519", "ssh-ed25519 ====", ED_SSH.priv])(
    "ssh case %#",
    (line) => {
      expect(sshPublicKeyProblem(line) === undefined).toBe(line === GOOD_SSH || line === ED_SSH.pub);
    },
  );
});

describe("verifyEnvelope with a key list that was not checked", () => {
  it("answers that the trusted key is unusable instead of throwing", () => {
    const envelope = JSON.stringify({
      payloadType: "application/vnd.in-toto+json",
      payload: "",
      signatures: [],
    });
    let result: ReturnType<typeof verifyEnvelope> | undefined;
    expect(() => {
      result = verifyEnvelope(envelope, [{ name: "bad", publicKey: DAMAGED_PEM }]);
    }).not.toThrow();
    expect(result).toEqual({ ok: false, error: expect.stringMatching(/^trusted key bad cannot be read/) });
    expect(verifyEnvelope(envelope, [{ name: "rsa", publicKey: RSA_PEM }])).toMatchObject({
      ok: false,
      error: expect.stringMatching(/trusted key rsa is a key of type rsa/),
    });
  });
});
