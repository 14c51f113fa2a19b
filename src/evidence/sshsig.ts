/**
 * SSH signatures (OpenSSH SSHSIG, `ssh-keygen -Y sign -n nova-rollout`) on records: parsed and verified in Node for
 * ed25519 keys, so the gate needs no ssh binary; people sign with the SSH key (or agent) they already have.
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";

/** The SSHSIG namespace every nova-rollout record is signed in. */
export const SSHSIG_NAMESPACE = "nova-rollout";
const MAGIC = Buffer.from("SSHSIG", "utf8");
const ED25519 = "ssh-ed25519";
/** DER prefix of an ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

function sshString(b: Buffer | string): Buffer {
  const buf = typeof b === "string" ? Buffer.from(b, "utf8") : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(buf.length);
  return Buffer.concat([len, buf]);
}

class Reader {
  private off = 0;
  constructor(private readonly buf: Buffer) {}
  u32(): number {
    if (this.off + 4 > this.buf.length) throw new Error("truncated");
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  bytes(): Buffer {
    const n = this.u32();
    if (this.off + n > this.buf.length) throw new Error("truncated");
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  raw(n: number): Buffer {
    if (this.off + n > this.buf.length) throw new Error("truncated");
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
}

/** An SSH public key line (`ssh-ed25519 AAAA… comment`) as its type and wire blob. */
export function parseSshPublicKey(line: string): { type: string; blob: Buffer } {
  const [type, b64] = line.trim().split(/\s+/);
  if (type === undefined || b64 === undefined) throw new Error("not an SSH public key line");
  const blob = Buffer.from(b64, "base64");
  const inner = new Reader(blob).bytes().toString("utf8");
  if (inner !== type) throw new Error(`key type ${type} does not match its blob (${inner})`);
  return { type, blob };
}

/** OpenSSH fingerprint of a key blob: `SHA256:<base64, no padding>`. */
export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

function ed25519KeyOf(blob: Buffer): crypto.KeyObject {
  const r = new Reader(blob);
  const type = r.bytes().toString("utf8");
  if (type !== ED25519)
    throw new Error(`${type} keys are not accepted; records are signed with ssh-ed25519 keys`);
  const raw = r.bytes();
  if (raw.length !== 32) throw new Error("malformed ssh-ed25519 key");
  return crypto.createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, raw]),
    format: "der",
    type: "spki",
  });
}

export interface SshSignature {
  readonly publicKey: Buffer;
  readonly namespace: string;
  readonly hashAlgorithm: string;
  readonly signatureType: string;
  readonly signature: Buffer;
}

/** Parses an armored `-----BEGIN SSH SIGNATURE-----` block. Throws on malformed input. */
export function parseSshSignature(armored: string): SshSignature {
  const m = /-----BEGIN SSH SIGNATURE-----([\s\S]*?)-----END SSH SIGNATURE-----/.exec(armored);
  if (m?.[1] === undefined) throw new Error("not an armored SSH signature");
  const blob = Buffer.from(m[1].replace(/\s+/g, ""), "base64");
  const r = new Reader(blob);
  if (!r.raw(6).equals(MAGIC)) throw new Error("bad SSHSIG magic");
  const version = r.u32();
  if (version !== 1) throw new Error(`unsupported SSHSIG version ${version}`);
  const publicKey = r.bytes();
  const namespace = r.bytes().toString("utf8");
  r.bytes(); // reserved
  const hashAlgorithm = r.bytes().toString("utf8");
  const sig = new Reader(r.bytes());
  return {
    publicKey,
    namespace,
    hashAlgorithm,
    signatureType: sig.bytes().toString("utf8"),
    signature: sig.bytes(),
  };
}

function signedData(message: Buffer, namespace: string, hashAlgorithm: string): Buffer {
  const algo = hashAlgorithm === "sha512" ? "sha512" : "sha256";
  const digest = crypto.createHash(algo).update(message).digest();
  return Buffer.concat([
    MAGIC,
    sshString(namespace),
    sshString(""),
    sshString(hashAlgorithm),
    sshString(digest),
  ]);
}

/**
 * Verifies an SSHSIG over `message` made by `publicKeyLine` in `namespace`. Returns undefined when it verifies, else
 * why not (never throws).
 */
export function verifySshSignature(
  message: Buffer,
  armored: string,
  publicKeyLine: string,
  namespace = SSHSIG_NAMESPACE,
): string | undefined {
  try {
    const sig = parseSshSignature(armored);
    const expected = parseSshPublicKey(publicKeyLine);
    if (!sig.publicKey.equals(expected.blob)) {
      return `it is signed by key ${sshFingerprint(sig.publicKey)}, not ${sshFingerprint(expected.blob)}`;
    }
    if (sig.namespace !== namespace)
      return `it is signed in namespace "${sig.namespace}", not "${namespace}"`;
    if (sig.hashAlgorithm !== "sha512" && sig.hashAlgorithm !== "sha256") {
      return `hash algorithm ${sig.hashAlgorithm} is not accepted`;
    }
    if (sig.signatureType !== ED25519)
      return `${sig.signatureType} signatures are not accepted (ssh-ed25519 only)`;
    const key = ed25519KeyOf(sig.publicKey);
    return crypto.verify(null, signedData(message, namespace, sig.hashAlgorithm), key, sig.signature)
      ? undefined
      : "the signature does not verify: the record was changed after it was signed";
  } catch (e) {
    return `the signature cannot be read (${(e as Error).message})`;
  }
}

/** Signs `message` as `ssh-keygen -Y sign` would, with an ed25519 KeyObject (tests, throwaway sandbox keys). */
export function sshSignWithKey(
  message: Buffer,
  privateKey: crypto.KeyObject,
  namespace = SSHSIG_NAMESPACE,
): string {
  const publicBlob = sshPublicKeyBlob(crypto.createPublicKey(privateKey));
  const sig = crypto.sign(null, signedData(message, namespace, "sha512"), privateKey);
  const blob = Buffer.concat([
    MAGIC,
    Buffer.from([0, 0, 0, 1]),
    sshString(publicBlob),
    sshString(namespace),
    sshString(""),
    sshString("sha512"),
    sshString(Buffer.concat([sshString(ED25519), sshString(sig)])),
  ]);
  const lines = blob.toString("base64").match(/.{1,70}/g) ?? [];
  return `-----BEGIN SSH SIGNATURE-----\n${lines.join("\n")}\n-----END SSH SIGNATURE-----\n`;
}

/** The SSH wire blob of an ed25519 public KeyObject. */
export function sshPublicKeyBlob(publicKey: crypto.KeyObject): Buffer {
  const der = publicKey.export({ type: "spki", format: "der" });
  return Buffer.concat([sshString(ED25519), sshString(der.subarray(der.length - 32))]);
}

/** `ssh-ed25519 AAAA… <comment>` of an ed25519 public KeyObject. */
export function sshPublicKeyLine(publicKey: crypto.KeyObject, comment = ""): string {
  return `${ED25519} ${sshPublicKeyBlob(publicKey).toString("base64")}${comment ? ` ${comment}` : ""}`;
}

/**
 * Signs `file` with `ssh-keygen -Y sign -n nova-rollout -f <key>`, writing `<file>.sig`. `key` is a private key file,
 * or a public key file whose private half is in the running ssh-agent.
 */
export function sshKeygenSign(file: string, key: string): string {
  fs.rmSync(`${file}.sig`, { force: true });
  execFileSync("ssh-keygen", ["-Y", "sign", "-n", SSHSIG_NAMESPACE, "-f", key, file], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return `${file}.sig`;
}
