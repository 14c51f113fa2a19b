// The preflight signed by a Cloud KMS key version (`--signing-key gcpkms://…`) through `gcloud kms`: here the sandbox's
// gcloud stand-in (tools/sandbox/bin/gcloud) holds the Ed25519 key as KMS would; what it signs verifies with the
// public key the roster lists (the same key id), and with no other.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gcloudKmsClient, openPreflightSigner, parseKmsKeyVersion } from "../../../src/evidence/kms-gcloud";
import { DSSE_PAYLOAD_TYPE, keyIdOf, pae } from "../../../src/evidence/signing";

const REPO = path.resolve(__dirname, "../../..");
const GCLOUD = path.join(REPO, "tools", "sandbox", "bin", "gcloud");
const kms = fs.mkdtempSync(path.join(os.tmpdir(), "nova-kms-test-"));
afterAll(() => fs.rmSync(kms, { recursive: true, force: true }));
const VERSION =
  "projects/nova-prod/locations/global/keyRings/pulumi/cryptoKeys/preflight-signing/cryptoKeyVersions/1";

const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
const keyFile = path.join(kms, "nova-prod", "global", "pulumi", "preflight-signing", "1.pem");
fs.mkdirSync(path.dirname(keyFile), { recursive: true });
fs.writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));
process.env["NOVA_SANDBOX_KMS"] = kms;
const client = () => gcloudKmsClient(GCLOUD);

describe("the preflight's Cloud KMS signer", () => {
  it("signs with the key version through gcloud kms; the signature verifies with its public key only", async () => {
    const signer = await openPreflightSigner(`gcpkms://${VERSION}`, {}, client);
    // The key id the roster matches: that of the KMS key's public key.
    expect(signer?.keyid).toBe(keyIdOf(publicKey));
    const signed = pae(DSSE_PAYLOAD_TYPE, Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}'));
    const sig = (await signer?.sign(signed)) ?? Buffer.alloc(0);
    expect(crypto.verify(null, signed, publicKey, sig)).toBe(true);
    expect(crypto.verify(null, signed, crypto.generateKeyPairSync("ed25519").publicKey, sig)).toBe(false);
  });

  it("names a key version that does not exist, in gcloud's words", async () => {
    await expect(
      openPreflightSigner(`gcpkms://${VERSION.replace(/\/1$/, "/9")}`, {}, client),
    ).rejects.toThrow(
      /gcloud kms keys versions failed: .*NOT_FOUND: crypto key version preflight-signing\/9/,
    );
  });

  it("refuses a gcpkms:// name that is not a key version, before calling KMS", async () => {
    await expect(
      openPreflightSigner(
        "gcpkms://projects/nova-prod/locations/global/keyRings/pulumi/cryptoKeys/preflight-signing",
        {},
        () => {
          throw new Error("KMS must not be called");
        },
      ),
    ).rejects.toThrow(/is not a Cloud KMS key version; expected gcpkms:\/\/projects\/<project>/);
    expect(parseKmsKeyVersion(VERSION)).toEqual({
      project: "nova-prod",
      location: "global",
      keyRing: "pulumi",
      key: "preflight-signing",
      version: "1",
    });
  });

  it("still takes a PEM file, and nothing when no key is named", async () => {
    expect((await openPreflightSigner(keyFile, {}))?.keyid).toMatch(/^SHA256:/);
    expect(await openPreflightSigner(undefined, {})).toBeUndefined();
  });
});
