/**
 * A stand-in Kubernetes API server for the unit and policy layers (vitest globalSetup): HTTPS on loopback with its
 * own CA, answering the one request the stack classification makes, the cluster's production marker. Its kubeconfig
 * (path in NOVA_TEST_KUBECONFIG) has contexts for an unmarked cluster (`nova-prod`, `nova-sandbox`, `nova-staging`)
 * and one whose marker says production (`marked-production`), so tests classify stacks the way the program does
 * against a real cluster, without one.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { CLUSTER_MARKER } from "../../src/contract";

/** The token of the context whose cluster is marked production. */
export const MARKED_TOKEN = "marked-production";
export const UNMARKED_CONTEXTS = ["nova-prod", "nova-sandbox", "nova-staging"] as const;
export const MARKED_CONTEXT = "marked-production";

export default async function setup(): Promise<() => Promise<void>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-kube-standin-"));
  const key = path.join(dir, "server.key");
  const cert = path.join(dir, "server.crt");
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=nova-test-apiserver"],
      ...["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    ],
    { stdio: "ignore" },
  );
  const markerPath = `/api/v1/namespaces/${CLUSTER_MARKER.namespace}/configmaps/${CLUSTER_MARKER.name}`;
  const server = https.createServer(
    { key: fs.readFileSync(key), cert: fs.readFileSync(cert) },
    (req, res) => {
      if (req.url === markerPath && req.headers.authorization === `Bearer ${MARKED_TOKEN}`) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ kind: "ConfigMap", data: { [CLUSTER_MARKER.environmentKey]: "production" } }),
        );
        return;
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", code: 404 }));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const ca = fs.readFileSync(cert).toString("base64");
  const context = (name: string, token: string) => ({
    cluster: { name, cluster: { server: `https://127.0.0.1:${port}`, "certificate-authority-data": ca } },
    user: { name, user: { token } },
    context: { name, context: { cluster: name, user: name } },
  });
  const all = [
    ...UNMARKED_CONTEXTS.map((c) => context(c, "unmarked-cluster")),
    context(MARKED_CONTEXT, MARKED_TOKEN),
  ];
  const kubeconfig = path.join(dir, "kubeconfig.yaml");
  fs.writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      "current-context": "nova-prod",
      clusters: all.map((c) => c.cluster),
      users: all.map((c) => c.user),
      contexts: all.map((c) => c.context),
    }),
  );
  process.env.NOVA_TEST_KUBECONFIG = kubeconfig;
  return async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  };
}

/** The stand-in's kubeconfig text (throws when the layer did not start the stand-in). */
export function standinKubeconfig(): string {
  const file = process.env.NOVA_TEST_KUBECONFIG;
  if (file === undefined) {
    throw new Error(
      "NOVA_TEST_KUBECONFIG is not set: the unit and policy layers start tests/support/kube-api-standin.ts",
    );
  }
  return fs.readFileSync(file, "utf8");
}
