/**
 * The preflight's signing key in Cloud KMS: `--signing-key gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K/
 * cryptoKeyVersions/V` signs the bundle's envelope with that Ed25519 key version through `gcloud kms` (the CI job's
 * workload identity needs `roles/cloudkms.signerVerifier` on the key and nothing else). The private key never leaves
 * KMS; the roster lists its public key like any preflight key.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { fileSigner, type KmsClient, kmsSigner, type Signer } from "./signing";

const execFileAsync = promisify(execFile);

/** The scheme of a Cloud KMS key version given as a signing key. */
export const GCP_KMS_SCHEME = "gcpkms://";

/** The parts of a Cloud KMS key version's resource name. */
export interface KmsKeyVersion {
  readonly project: string;
  readonly location: string;
  readonly keyRing: string;
  readonly key: string;
  readonly version: string;
}

const VERSION_NAME =
  /^projects\/([^/]+)\/locations\/([^/]+)\/keyRings\/([^/]+)\/cryptoKeys\/([^/]+)\/cryptoKeyVersions\/([^/]+)$/;

/** Parses `projects/…/cryptoKeyVersions/V` (with or without `gcpkms://`); throws naming the expected form. */
export function parseKmsKeyVersion(name: string): KmsKeyVersion {
  const m = VERSION_NAME.exec(name.startsWith(GCP_KMS_SCHEME) ? name.slice(GCP_KMS_SCHEME.length) : name);
  if (m === null) {
    throw new Error(
      `${name} is not a Cloud KMS key version; expected gcpkms://projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>/cryptoKeyVersions/<n>`,
    );
  }
  const [, project = "", location = "", keyRing = "", key = "", version = ""] = m;
  return { project, location, keyRing, key, version };
}

/** `gcloud kms` as a {@link KmsClient}: the key version's public key and `asymmetric-sign` of raw data (Ed25519). */
export function gcloudKmsClient(gcloud = "gcloud"): KmsClient {
  const run = async (args: string[]) => {
    try {
      await execFileAsync(gcloud, args, { maxBuffer: 4 * 1024 * 1024 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`gcloud ${args.slice(0, 3).join(" ")} failed: ${(err.stderr ?? err.message).trim()}`);
    }
  };
  const keyFlags = (v: KmsKeyVersion) => [
    "--key",
    v.key,
    "--keyring",
    v.keyRing,
    "--location",
    v.location,
    "--project",
    v.project,
  ];
  const inTemp = async <T>(body: (dir: string) => Promise<T>): Promise<T> => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-kms-"));
    try {
      return await body(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  return {
    getPublicKey: (name) =>
      inTemp(async (dir) => {
        const v = parseKmsKeyVersion(name);
        const out = path.join(dir, "public.pem");
        await run([
          "kms",
          "keys",
          "versions",
          "get-public-key",
          v.version,
          ...keyFlags(v),
          "--output-file",
          out,
        ]);
        return { pem: fs.readFileSync(out, "utf8") };
      }),
    asymmetricSign: (name, data) =>
      inTemp(async (dir) => {
        const v = parseKmsKeyVersion(name);
        const input = path.join(dir, "data");
        const signature = path.join(dir, "signature");
        fs.writeFileSync(input, data);
        await run([
          "kms",
          "asymmetric-sign",
          "--version",
          v.version,
          ...keyFlags(v),
          "--input-file",
          input,
          "--signature-file",
          signature,
        ]);
        return fs.readFileSync(signature);
      }),
  };
}

/**
 * The preflight signer a `--signing-key` (else NOVA_SIGNING_KEY_FILE) names: a Cloud KMS key version
 * (`gcpkms://…`) or an Ed25519 PEM file; undefined when neither is set.
 */
export async function openPreflightSigner(
  option?: string,
  env: NodeJS.ProcessEnv = process.env,
  client: () => KmsClient = gcloudKmsClient,
): Promise<Signer | undefined> {
  const key = option ?? env["NOVA_SIGNING_KEY_FILE"];
  if (key === undefined || key.length === 0) return undefined;
  if (!key.startsWith(GCP_KMS_SCHEME)) return fileSigner(key);
  parseKmsKeyVersion(key);
  return kmsSigner(client(), key.slice(GCP_KMS_SCHEME.length));
}
