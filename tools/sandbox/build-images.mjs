#!/usr/bin/env node
// Builds the two sandbox images as OCI image layouts, byte-for-byte reproducibly:
//   node tools/sandbox/build-images.mjs <outDir>
// writes <outDir>/<name>/ (oci-layout, index.json, blobs/sha256/*) tagged `sandbox`, and <outDir>/<name>.digest.
// The layer is a ustar archive written by GNU tar with sorted names, mtime 0, owner/group 0 and fixed modes,
// compressed with `gzip -n` (no name or timestamp in the header); config and manifest are JSON with fixed key order,
// so every machine gets the same digests. Needs GNU tar and gzip.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const outDir = path.resolve(process.argv[2] ?? ".sandbox/images");

const IMAGES = [
  {
    name: "nova-rms-api",
    port: 8080,
    files: {
      "app/server.js":
        "// Placeholder: the sandbox runs pods on kwok fake nodes, so this image is never executed.\n" +
        "require('node:http').createServer((q, s) => s.end('ok')).listen(8080);\n",
      "app/IMAGE": "nova-rms-api sandbox\n",
    },
  },
  {
    name: "nova-rms-worker",
    port: 3001,
    files: {
      "app/server.js":
        "// Placeholder: the sandbox runs pods on kwok fake nodes, so this image is never executed.\n" +
        "require('node:http').createServer((q, s) => s.end('ok')).listen(3001);\n",
      "app/IMAGE": "nova-rms-worker sandbox\n",
    },
  },
];

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

function writeBlob(layoutDir, buf) {
  const digest = sha256(buf);
  fs.writeFileSync(path.join(layoutDir, "blobs", "sha256", digest), buf);
  return { digest: `sha256:${digest}`, size: buf.length };
}

function buildLayer(files) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "nova-image-"));
  try {
    for (const [rel, content] of Object.entries(files)) {
      const file = path.join(root, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
    }
    const tar = execFileSync(
      "tar",
      [
        "--sort=name",
        "--mtime=@0",
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        "--mode=u=rwX,go=rX",
        "--format=ustar",
        "-C",
        root,
        "-cf",
        "-",
        ...Object.keys(files)
          .map((f) => f.split("/")[0])
          .filter((v, i, a) => a.indexOf(v) === i)
          .sort(),
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const gz = execFileSync("gzip", ["-n", "-9", "-c"], { input: tar, maxBuffer: 64 * 1024 * 1024 });
    return { tar, gz };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

fs.mkdirSync(outDir, { recursive: true });
for (const image of IMAGES) {
  const layoutDir = path.join(outDir, image.name);
  fs.rmSync(layoutDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(layoutDir, "blobs", "sha256"), { recursive: true });

  const { tar, gz } = buildLayer(image.files);
  const layer = writeBlob(layoutDir, gz);
  const config = {
    architecture: "amd64",
    os: "linux",
    created: "1970-01-01T00:00:00Z",
    config: {
      User: "10001:10001",
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_ENV=production"],
      Entrypoint: ["node", "/app/server.js"],
      WorkingDir: "/app",
      ExposedPorts: { [`${image.port}/tcp`]: {} },
      Labels: {
        "org.opencontainers.image.title": image.name,
        "org.opencontainers.image.version": "sandbox",
        "dev.nova.rollout.sandbox": "true",
      },
    },
    rootfs: { type: "layers", diff_ids: [`sha256:${sha256(tar)}`] },
    history: [{ created: "1970-01-01T00:00:00Z", created_by: "tools/sandbox/build-images.mjs" }],
  };
  const configBlob = writeBlob(layoutDir, Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configBlob },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
  };
  const manifestBlob = writeBlob(layoutDir, Buffer.from(JSON.stringify(manifest)));
  fs.writeFileSync(path.join(layoutDir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  fs.writeFileSync(
    path.join(layoutDir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...manifestBlob,
          annotations: { "org.opencontainers.image.ref.name": "sandbox" },
        },
      ],
    }),
  );
  fs.writeFileSync(path.join(outDir, `${image.name}.digest`), manifestBlob.digest);
  console.log(`${image.name} ${manifestBlob.digest}`);
}
