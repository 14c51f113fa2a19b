// Signed bundles (DSSE + in-toto, ed25519) and signed records (SSHSIG), verified in Node and by the standard tools.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  allowedSigners,
  DSSE_PAYLOAD_TYPE,
  type DsseEnvelope,
  fileSigner,
  generateSigningKey,
  keyIdOf,
  kmsSigner,
  pae,
  parseSshSignature,
  sealBundle,
  signBundle,
  sshKeygenSign,
  sshPublicKeyLine,
  sshSignWithKey,
  verifyEnvelope,
  verifySshSignature,
  type EvidenceBundle,
} from "../../../src/evidence";
import { DIGESTS, NOW, REGISTRY, RELEASE } from "../../policy/fixtures";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "nova-signing-"));
  dirs.push(d);
  return d;
}

function bundle(): EvidenceBundle {
  return sealBundle({
    schemaVersion: 2,
    stack: "production",
    project: "nova-rollout",
    release: RELEASE,
    imageDigests: DIGESTS,
    createdAt: NOW.toISOString(),
    judgedWith: {
      coverage: { statements: 60, branches: 50, functions: 70, lines: 60 },
      drillMaxAgeDays: 7,
      stagingMaxAgeHours: 72,
      sampleDataMaxAgeDays: 7,
      stagingStack: "staging",
      releaseCut: null,
      imageRegistry: REGISTRY,
    },
    checks: [
      {
        id: "coverage",
        title: "Coverage",
        verdict: "fail",
        found: "ok",
        threshold: "ok",
        artifact: null,
        remedy: "x",
      },
    ],
    waivers: [],
  });
}

function keyFile(dir: string): { file: string; publicPem: string } {
  const k = generateSigningKey();
  const file = path.join(dir, "preflight.key");
  fs.writeFileSync(file, k.privatePem, { mode: 0o600 });
  return { file, publicPem: k.publicPem };
}

describe("DSSE envelopes of in-toto statements", () => {
  it("PAE is DSSEv1 SP len(type) SP type SP len(body) SP body", () => {
    expect(pae("t", Buffer.from("hello")).toString()).toBe("DSSEv1 1 t 5 hello");
  });

  it("a signed bundle verifies against its key and carries the digests as subjects", async () => {
    const d = tmp();
    const { file, publicPem } = keyFile(d);
    const env = await signBundle(bundle(), fileSigner(file));
    const v = verifyEnvelope(JSON.stringify(env), [{ name: "ci", publicKey: publicPem }]);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.signer).toBe("ci");
    expect(v.statement.subject).toEqual([
      { name: `${REGISTRY}/nova-rms-api`, digest: { sha256: "a".repeat(64) } },
      { name: `${REGISTRY}/nova-rms-worker`, digest: { sha256: "b".repeat(64) } },
    ]);
    expect(env.signatures[0]?.keyid).toBe(keyIdOf(publicPem));
  });

  const mutate = (env: DsseEnvelope, f: (statement: Record<string, unknown>) => void): DsseEnvelope => {
    const st = JSON.parse(Buffer.from(env.payload, "base64").toString()) as Record<string, unknown>;
    f(st);
    return { ...env, payload: Buffer.from(JSON.stringify(st)).toString("base64") };
  };

  it.each([
    [
      "verdicts flipped and the hash recomputed",
      (env: DsseEnvelope) =>
        mutate(env, (st) => {
          const b = st["predicate"] as EvidenceBundle;
          const { contentSha256: _drop, ...body } = b;
          st["predicate"] = sealBundle({
            ...body,
            checks: body.checks.map((c) => ({ ...c, verdict: "pass" })),
          });
        }),
      /does not verify/,
    ],
    [
      "re-dated",
      (env: DsseEnvelope) =>
        mutate(env, (st) => {
          (st["predicate"] as { createdAt: string }).createdAt = new Date().toISOString();
        }),
      /does not verify/,
    ],
    [
      "re-bound to other digests",
      (env: DsseEnvelope) =>
        mutate(env, (st) => {
          (st["subject"] as { digest: { sha256: string } }[])[0]!.digest.sha256 = "c".repeat(64);
        }),
      /does not verify/,
    ],
  ])("rejects a bundle %s", async (_what, spoil, expected) => {
    const d = tmp();
    const { file, publicPem } = keyFile(d);
    const env = spoil(await signBundle(bundle(), fileSigner(file)));
    const v = verifyEnvelope(JSON.stringify(env), [{ name: "ci", publicKey: publicPem }]);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.error).toMatch(expected);
  });

  it("rejects a bundle signed by a key not in the trust list", async () => {
    const d = tmp();
    const { file } = keyFile(d);
    const trusted = generateSigningKey();
    const env = await signBundle(bundle(), fileSigner(file));
    const v = verifyEnvelope(JSON.stringify(env), [{ name: "ci", publicKey: trusted.publicPem }]);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.error).toMatch(/not a key in the committed trust list/);
  });

  it("a KMS signer signs through the client and checks what it returns (mock KMS)", async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
    const calls: string[] = [];
    const client = {
      getPublicKey: (name: string) => {
        calls.push(`get ${name}`);
        return Promise.resolve({ pem: publicKey.export({ type: "spki", format: "pem" }).toString() });
      },
      asymmetricSign: (name: string, data: Buffer) => {
        calls.push(`sign ${name}`);
        return Promise.resolve(crypto.sign(null, data, privateKey));
      },
    };
    const signer = await kmsSigner(
      client,
      "projects/p/locations/l/keyRings/r/cryptoKeys/preflight/cryptoKeyVersions/1",
    );
    const env = await signBundle(bundle(), signer);
    const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(verifyEnvelope(JSON.stringify(env), [{ name: "kms", publicKey: pem }]).ok).toBe(true);
    expect(calls).toHaveLength(2);
    const liar = { ...client, asymmetricSign: () => Promise.resolve(Buffer.alloc(64)) };
    await expect((await kmsSigner(liar, "k")).sign(Buffer.from("x"))).rejects.toThrow(/does not verify/);
  });

  it("an auditor verifies the envelope with openssl alone (pkeyutl -verify -rawin over the PAE)", async () => {
    const d = tmp();
    const { file, publicPem } = keyFile(d);
    const env = await signBundle(bundle(), fileSigner(file));
    // What the auditor does, from the envelope file and the roster's public key:
    const payload = Buffer.from(env.payload, "base64");
    fs.writeFileSync(path.join(d, "pae.bin"), pae(DSSE_PAYLOAD_TYPE, payload));
    fs.writeFileSync(path.join(d, "sig.bin"), Buffer.from(env.signatures[0]!.sig, "base64"));
    fs.writeFileSync(path.join(d, "pub.pem"), publicPem);
    const ok = opensslVerify(d);
    expect(ok).toMatch(/Signature Verified Successfully/);
    fs.writeFileSync(
      path.join(d, "pae.bin"),
      pae(DSSE_PAYLOAD_TYPE, Buffer.concat([payload, Buffer.from(" ")])),
    );
    expect(() => opensslVerify(d, "pipe")).toThrow();
  });
});

/** `openssl pkeyutl -verify -rawin` of `pae.bin` against `sig.bin` and `pub.pem` in `dir` (the auditor's command). */
function opensslVerify(dir: string, stdio?: "pipe"): string {
  const argv = [
    "pkeyutl",
    "-verify",
    "-pubin",
    "-inkey",
    "pub.pem",
    "-rawin",
    "-in",
    "pae.bin",
    "-sigfile",
    "sig.bin",
  ];
  return execFileSync("openssl", argv, {
    cwd: dir,
    encoding: "utf8",
    ...(stdio !== undefined ? { stdio } : {}),
  });
}

describe("SSH signatures on records", () => {
  function sshKey(d: string, name = "id"): { file: string; pub: string } {
    const file = path.join(d, name);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
    return { file, pub: fs.readFileSync(`${file}.pub`, "utf8") };
  }

  it("verifies a signature made by ssh-keygen -Y sign, and rejects another key, namespace or content", () => {
    const d = tmp();
    const alice = sshKey(d, "alice");
    const bob = sshKey(d, "bob");
    const record = path.join(d, "approval.json");
    fs.writeFileSync(record, '{"kind":"approval"}\n');
    sshKeygenSign(record, alice.file);
    const sig = fs.readFileSync(`${record}.sig`, "utf8");
    expect(verifySshSignature(fs.readFileSync(record), sig, alice.pub)).toBeUndefined();
    expect(verifySshSignature(fs.readFileSync(record), sig, bob.pub)).toMatch(/signed by key SHA256:/);
    expect(verifySshSignature(Buffer.from('{"kind":"approval","x":1}\n'), sig, alice.pub)).toMatch(
      /does not verify/,
    );
    expect(verifySshSignature(fs.readFileSync(record), sig, alice.pub, "git")).toMatch(/namespace/);
    expect(parseSshSignature(sig).hashAlgorithm).toBe("sha512");
  });

  it("rejects keys other than ed25519 with a clear reason", () => {
    const d = tmp();
    const file = path.join(d, "rsa");
    execFileSync("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", file]);
    const record = path.join(d, "r.json");
    fs.writeFileSync(record, "{}\n");
    sshKeygenSign(record, file);
    const pub = fs.readFileSync(`${file}.pub`, "utf8");
    expect(
      verifySshSignature(fs.readFileSync(record), fs.readFileSync(`${record}.sig`, "utf8"), pub),
    ).toMatch(/ssh-ed25519 only/);
  });

  it("an auditor verifies a record with ssh-keygen -Y verify and allowed_signers generated from the roster", () => {
    const d = tmp();
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
    const roster = {
      people: [{ name: "Dana Lee", roles: ["cto"], sshPublicKey: sshPublicKeyLine(publicKey) }],
      preflightKeys: [],
    };
    const record = path.join(d, "approval.json");
    fs.writeFileSync(record, '{"kind":"approval","approvedBy":"Dana Lee"}\n');
    fs.writeFileSync(`${record}.sig`, sshSignWithKey(fs.readFileSync(record), privateKey));
    fs.writeFileSync(path.join(d, "allowed_signers"), allowedSigners(roster));
    const out = execFileSync(
      "ssh-keygen",
      [
        "-Y",
        "verify",
        "-f",
        "allowed_signers",
        "-I",
        "Dana_Lee",
        "-n",
        "nova-rollout",
        "-s",
        "approval.json.sig",
      ],
      { cwd: d, input: fs.readFileSync(record), encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] },
    );
    expect(out).toMatch(/Good "nova-rollout" signature for Dana_Lee/);
    expect(() =>
      execFileSync(
        "ssh-keygen",
        [
          "-Y",
          "verify",
          "-f",
          "allowed_signers",
          "-I",
          "Dana_Lee",
          "-n",
          "nova-rollout",
          "-s",
          "approval.json.sig",
        ],
        { cwd: d, input: Buffer.from("{}\n"), stdio: ["pipe", "pipe", "pipe"] },
      ),
    ).toThrow();
  });
});
