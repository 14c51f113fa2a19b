/**
 * Signed bundles: the preflight bundle as the predicate of an in-toto Statement v1 (subjects: the api and worker
 * images with their sha256 digests) inside a DSSE envelope signed with ed25519 over the DSSE pre-authentication
 * encoding (PAE). Anyone can verify an envelope with the public key and `openssl pkeyutl -verify -rawin`.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { z } from "zod";
import { IMAGE_REPOSITORIES, type ImageRepository } from "../contract";
import { bundleSchema, type EvidenceBundle, describeZodError, sha256 } from "./model";

export const DSSE_PAYLOAD_TYPE = "application/vnd.in-toto+json";
export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const PREDICATE_TYPE = "https://nova-rollout.dev/readiness-bundle/v1";
/** The suffix of a signed bundle (the envelope) next to `<ts>-preflight.json`. */
export const ENVELOPE_SUFFIX = "-preflight.dsse.json";

/** Signs the PAE bytes of an envelope. A file key, or a cloud KMS key in CI. */
export interface Signer {
  readonly keyid: string;
  sign(pae: Buffer): Promise<Buffer>;
}

export const dsseEnvelopeSchema = z
  .object({
    payloadType: z.string(),
    payload: z.string(),
    signatures: z.array(z.object({ keyid: z.string(), sig: z.string() }).loose()),
  })
  .loose();
export type DsseEnvelope = z.infer<typeof dsseEnvelopeSchema>;

export interface InTotoStatement {
  readonly _type: string;
  readonly subject: readonly { name: string; digest: { sha256: string } }[];
  readonly predicateType: string;
  readonly predicate: EvidenceBundle;
}

/** DSSE v1 pre-authentication encoding: `"DSSEv1" SP len(type) SP type SP len(body) SP body`. */
export function pae(payloadType: string, body: Buffer): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, "utf8"),
    type,
    Buffer.from(` ${body.length} `, "utf8"),
    body,
  ]);
}

/** The key id of an ed25519 public key: `SHA256:` + hex sha256 of its SubjectPublicKeyInfo DER. */
export function keyIdOf(key: crypto.KeyObject | string): string {
  const pub = typeof key === "string" ? crypto.createPublicKey(key) : key;
  const spki = pub.export({ type: "spki", format: "der" });
  return `SHA256:${sha256(spki)}`;
}

/** A signer for an ed25519 private key in a PEM (PKCS#8) file. */
export function fileSigner(file: string): Signer {
  const key = crypto.createPrivateKey(fs.readFileSync(file));
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(
      `${file} is a ${key.asymmetricKeyType ?? "unknown"} key; the preflight signs with ed25519`,
    );
  }
  const keyid = keyIdOf(crypto.createPublicKey(key));
  return { keyid, sign: (data) => Promise.resolve(crypto.sign(null, data, key)) };
}

/** The part of a cloud KMS client the CI signer needs (e.g. Cloud KMS `asymmetricSign` with an Ed25519 key). */
export interface KmsClient {
  getPublicKey(keyName: string): Promise<{ pem: string }>;
  asymmetricSign(keyName: string, data: Buffer): Promise<Buffer>;
}

/** A signer backed by a KMS key: the private key never leaves the KMS; the key id is that of its public key. */
export async function kmsSigner(client: KmsClient, keyName: string): Promise<Signer> {
  const { pem } = await client.getPublicKey(keyName);
  const pub = crypto.createPublicKey(pem);
  if (pub.asymmetricKeyType !== "ed25519") {
    throw new Error(
      `KMS key ${keyName} is ${pub.asymmetricKeyType ?? "unknown"}; the preflight signs with ed25519`,
    );
  }
  const keyid = keyIdOf(pub);
  return {
    keyid,
    sign: async (data) => {
      const sig = await client.asymmetricSign(keyName, data);
      if (!crypto.verify(null, data, pub, sig)) {
        throw new Error(`KMS key ${keyName} returned a signature that does not verify with its public key`);
      }
      return sig;
    },
  };
}

/** Generates an ed25519 key pair as PEM (private PKCS#8, public SPKI). */
export function generateSigningKey(): { privatePem: string; publicPem: string; keyid: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
  return {
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    keyid: keyIdOf(publicKey),
  };
}

/** The image name a subject carries: `<registry>/nova-rms-api`. */
export function subjectName(registry: string | null, image: ImageRepository): string {
  return `${registry ?? "(no-registry)"}/${image}`;
}

/** The in-toto Statement of a bundle. */
export function statementFor(bundle: EvidenceBundle): InTotoStatement {
  const hex = (d: string) => d.replace(/^sha256:/, "");
  return {
    _type: STATEMENT_TYPE,
    subject: [
      {
        name: subjectName(bundle.judgedWith.imageRegistry, IMAGE_REPOSITORIES.api),
        digest: { sha256: hex(bundle.imageDigests.api) },
      },
      {
        name: subjectName(bundle.judgedWith.imageRegistry, IMAGE_REPOSITORIES.worker),
        digest: { sha256: hex(bundle.imageDigests.worker) },
      },
    ],
    predicateType: PREDICATE_TYPE,
    predicate: bundle,
  };
}

/** Signs a bundle: the DSSE envelope of its in-toto Statement. */
export async function signBundle(bundle: EvidenceBundle, signer: Signer): Promise<DsseEnvelope> {
  const payload = Buffer.from(JSON.stringify(statementFor(bundle)), "utf8");
  const sig = await signer.sign(pae(DSSE_PAYLOAD_TYPE, payload));
  return {
    payloadType: DSSE_PAYLOAD_TYPE,
    payload: payload.toString("base64"),
    signatures: [{ keyid: signer.keyid, sig: sig.toString("base64") }],
  };
}

/** A preflight key the committed trust list names. */
export interface TrustedKey {
  readonly name: string;
  /** PEM (SPKI) ed25519 public key: `-----BEGIN PUBLIC KEY-----`, as `rollout keys generate` prints it. */
  readonly publicKey: string;
}

/**
 * Reads a trusted preflight key: one PEM SubjectPublicKeyInfo block (`-----BEGIN PUBLIC KEY-----`) holding an ed25519
 * key. Returns the key, or why the text is not one (a private key, another PEM block, unreadable base64 or DER, an RSA
 * or EC key). Never throws and never repeats the text (a private key pasted by mistake must not be printed).
 */
export function parseTrustedPublicKey(
  pem: string,
): { readonly key: crypto.KeyObject } | { readonly problem: string } {
  const text = pem.trim();
  const labels = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1] ?? "");
  if (labels.some((l) => l.includes("PRIVATE KEY"))) {
    return {
      problem:
        "is a private key; the roster holds public keys only (remove it, rotate the key, and list its public half from `openssl pkey -pubout`)",
    };
  }
  if (labels.length !== 1 || labels[0] !== "PUBLIC KEY" || !/-----END PUBLIC KEY-----$/.test(text)) {
    const found = labels.length === 0 ? "no PEM block" : labels.map((l) => `a ${l} block`).join(" and ");
    return {
      problem: `is not a PEM public key (found ${found}; expected one -----BEGIN PUBLIC KEY----- block, as \`rollout keys generate\` prints it)`,
    };
  }
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey({ key: text, format: "pem" });
  } catch (e) {
    const reason = (e as Error).message.replace(/^error:[0-9A-F]+:/i, "");
    return { problem: `cannot be read as a public key (${reason}): the PEM block is damaged` };
  }
  if (key.asymmetricKeyType !== "ed25519") {
    return {
      problem: `is a key of type ${key.asymmetricKeyType ?? "unknown"}; preflight bundles are signed with ed25519 keys only`,
    };
  }
  return { key };
}

export type EnvelopeVerification =
  | {
      readonly ok: true;
      readonly bundle: EvidenceBundle;
      readonly statement: InTotoStatement;
      readonly keyid: string;
      readonly signer: string;
    }
  | { readonly ok: false; readonly error: string; readonly createdAt?: string };

/**
 * Verifies an envelope against the trusted keys: a signature by one of them over the PAE of the payload, an in-toto
 * Statement v1 of our predicate type whose subjects are the bundle's digests. Never throws.
 */
export function verifyEnvelope(text: string | Buffer, trusted: readonly TrustedKey[]): EnvelopeVerification {
  let env: DsseEnvelope;
  try {
    const parsed = dsseEnvelopeSchema.safeParse(JSON.parse(text.toString()));
    if (!parsed.success)
      return { ok: false, error: `not a DSSE envelope (${describeZodError(parsed.error)})` };
    env = parsed.data;
  } catch (e) {
    return { ok: false, error: `not JSON (${(e as Error).message})` };
  }
  if (env.payloadType !== DSSE_PAYLOAD_TYPE) {
    return { ok: false, error: `payloadType is ${env.payloadType}, expected ${DSSE_PAYLOAD_TYPE}` };
  }
  const payload = Buffer.from(env.payload, "base64");
  let statement: InTotoStatement | undefined;
  let createdAt: string | undefined;
  try {
    statement = JSON.parse(payload.toString("utf8")) as InTotoStatement;
    const c = (statement.predicate as { createdAt?: unknown } | undefined)?.createdAt;
    createdAt = typeof c === "string" ? c : undefined;
  } catch {
    statement = undefined;
  }
  const signedBytes = pae(env.payloadType, payload);
  const keys: (TrustedKey & { keyid: string; obj: crypto.KeyObject })[] = [];
  for (const k of trusted) {
    const parsed = parseTrustedPublicKey(k.publicKey);
    // The roster loader refuses such a key; a caller's own list gets an answer, not an exception.
    if ("problem" in parsed) return { ok: false, error: `trusted key ${k.name} ${parsed.problem}` };
    keys.push({ ...k, keyid: keyIdOf(parsed.key), obj: parsed.key });
  }
  let matched: (typeof keys)[number] | undefined;
  for (const s of env.signatures) {
    const sig = Buffer.from(s.sig, "base64");
    matched = keys.find((k) => crypto.verify(null, signedBytes, k.obj, sig));
    if (matched !== undefined) break;
  }
  if (matched === undefined) {
    const ids = env.signatures.map((s) => s.keyid).join(", ") || "(no signature)";
    const known = env.signatures.some((s) => keys.some((k) => k.keyid === s.keyid));
    return {
      ok: false,
      error: known
        ? `its signature (key ${ids}) does not verify: the payload was changed after signing`
        : `it is signed by ${ids}, which is not a key in the committed trust list`,
      ...(createdAt !== undefined ? { createdAt } : {}),
    };
  }
  if (statement === undefined) return { ok: false, error: "the payload is not JSON" };
  if (statement._type !== STATEMENT_TYPE || statement.predicateType !== PREDICATE_TYPE) {
    return { ok: false, error: `the payload is not an in-toto Statement v1 of ${PREDICATE_TYPE}` };
  }
  const bundle = bundleSchema.safeParse(statement.predicate);
  if (!bundle.success) {
    return {
      ok: false,
      error: `the predicate is not a readiness bundle (${describeZodError(bundle.error)})`,
    };
  }
  const expected = statementFor(bundle.data).subject;
  const same =
    Array.isArray(statement.subject) &&
    statement.subject.length === expected.length &&
    expected.every((e, i) => {
      const s = statement.subject[i];
      return s?.name === e.name && s.digest?.sha256 === e.digest.sha256;
    });
  if (!same) {
    return { ok: false, error: "the Statement's subjects are not the digests its bundle is bound to" };
  }
  return { ok: true, bundle: bundle.data, statement, keyid: keyIdOf(matched.obj), signer: matched.name };
}
