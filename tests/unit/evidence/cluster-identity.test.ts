import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  normalizeServer,
  prefetchClusterMarker,
  readClusterMarker,
  resolveKubeconfigPath,
} from "../../../src/evidence/cluster-identity";
import { readMarker } from "../../../src/evidence/cluster-marker-read";
import { classifyStack } from "../../../src/evidence/stack-class";
import { loadProductionEnforcement } from "../../../src/evidence/enforcement";
import { settingsFromConfigMap } from "../../../src/config/stack-view";
import { classifySettings } from "../../../src/evidence/stack-class";

const REPO = path.resolve(__dirname, "..", "..", "..");

describe("normalizeServer", () => {
  it.each([
    ["https://K8S.Example.com:443/", "https://k8s.example.com"],
    ["https://k8s.example.com", "https://k8s.example.com"],
    ["https://localhost:36443", "https://127.0.0.1:36443"],
    ["https://127.0.0.1:36443/", "https://127.0.0.1:36443"],
    ["https://[::1]:36443", "https://127.0.0.1:36443"],
    ["HTTPS://10.0.0.1:6443", "https://10.0.0.1:6443"],
    ["https://k8s.example.com/prefix//", "https://k8s.example.com/prefix"],
  ])("%s → %s", (input, want) => {
    expect(normalizeServer(input)).toBe(want);
  });
  it("is undefined for what is not a URL", () => {
    expect(normalizeServer("not a url")).toBeUndefined();
  });
});

describe("resolveKubeconfigPath", () => {
  it("expands ~/ to the home directory and resolves relative paths against the project", () => {
    expect(resolveKubeconfigPath("/p", "~/.kube/config")).toBe(path.join(os.homedir(), ".kube/config"));
    expect(resolveKubeconfigPath("/p", ".sandbox/kubeconfig")).toBe("/p/.sandbox/kubeconfig");
    expect(resolveKubeconfigPath("/p", "/etc/kube")).toBe("/etc/kube");
  });
});

describe("protected targets match however the server is spelled", () => {
  const targets = {
    gcpProjects: ["nova-prod"],
    gkeClusters: [],
    kubeServers: ["https://k8s.nova.example:443"],
    kubeContexts: [],
    namespaces: [],
  };
  it.each(["https://K8S.nova.example", "https://k8s.nova.example:443/", "https://k8s.nova.example/"])(
    "%s is production",
    (kubeServer) => {
      expect(classifyStack({ kubeServer, environment: "staging" }, targets).production).toBe(true);
    },
  );
  it("a GCP project given by number cannot be classified: production", () => {
    const c = classifyStack({ gcpProject: "123456789012", environment: "staging" }, targets);
    expect(c.production).toBe(true);
    expect(c.protectedTargets.join()).toMatch(/project number 123456789012/);
  });
  it("a cluster marked production is production, whatever the stack says", () => {
    const c = classifyStack(
      { clusterMarker: { status: "marked", environment: "production" }, environment: "staging" },
      targets,
    );
    expect(c.production).toBe(true);
    expect(c.protectedTargets.join()).toMatch(/kube-public\/nova-platform says is production/);
  });
  it("a cluster that cannot be asked is production (fail closed)", () => {
    const c = classifyStack(
      { clusterMarker: { status: "unknown", reason: "cannot reach the cluster" }, environment: "sandbox" },
      targets,
    );
    expect(c.production).toBe(true);
    expect(c.protectedTargets.join()).toMatch(/cannot be identified \(cannot reach the cluster\)/);
  });
  it.each([{ status: "unmarked" as const }, { status: "marked" as const, environment: "staging" }])(
    "an unmarked or staging-marked cluster is not production by itself (%j)",
    (clusterMarker) => {
      expect(classifyStack({ clusterMarker, environment: "staging" }, targets).production).toBe(false);
    },
  );
});

describe("classifySettings: a kubeconfig that cannot be read", () => {
  const enforcement = loadProductionEnforcement(REPO);
  const settings = (environment: string) =>
    settingsFromConfigMap(
      "it-x",
      {
        "nova-rollout:environment": environment,
        "nova-rollout:namespace": "it-x",
        "nova-rollout:kubeconfigPath": "does/not/exist/kubeconfig",
        "nova-rollout:imageTag": "2026.12.1",
        "nova-rollout:apiImageDigest": `sha256:${"a".repeat(64)}`,
        "nova-rollout:workerImageDigest": `sha256:${"b".repeat(64)}`,
      },
      "test",
      REPO,
    );
  it("makes a staging stack production, naming the kubeconfig", () => {
    const c = classifySettings(settings("staging"), REPO, enforcement);
    expect(c.production).toBe(true);
    expect(c.protectedTargets.join()).toMatch(/kubeconfig does\/not\/exist\/kubeconfig does not exist/);
  });
  it("leaves a sandbox stack alone (nothing deploys through a kubeconfig the program cannot read)", () => {
    expect(classifySettings(settings("sandbox"), REPO, enforcement).production).toBe(false);
  });
});

// A stand-in API server on loopback with its own CA: what the marker reader sees of a real one.
describe("readMarker against an HTTPS API server", () => {
  let dir: string;
  let server: https.Server;
  let port: number;
  let answer: { status: number; body?: unknown } = { status: 404 };
  let seenAuth: string | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-marker-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        path.join(dir, "server.key"),
        "-out",
        path.join(dir, "server.crt"),
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    server = https.createServer(
      {
        key: fs.readFileSync(path.join(dir, "server.key")),
        cert: fs.readFileSync(path.join(dir, "server.crt")),
      },
      (req, res) => {
        seenAuth = req.headers.authorization;
        if (req.url !== "/api/v1/namespaces/kube-public/configmaps/nova-platform") {
          res.writeHead(500).end();
          return;
        }
        res
          .writeHead(answer.status, { "content-type": "application/json" })
          .end(JSON.stringify(answer.body ?? {}));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const kubeconfig = (opts: {
    host?: string;
    user?: Record<string, unknown>;
    cluster?: Record<string, unknown>;
  }) => {
    const file = path.join(dir, `kubeconfig-${Math.random().toString(16).slice(2)}`);
    fs.writeFileSync(
      file,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        "current-context": "renamed-context",
        clusters: [
          {
            name: "c",
            cluster: {
              server: `https://${opts.host ?? "localhost"}:${port}`,
              "certificate-authority-data": fs.readFileSync(path.join(dir, "server.crt")).toString("base64"),
              ...opts.cluster,
            },
          },
        ],
        users: [{ name: "u", user: opts.user ?? { token: "t0ken" } }],
        contexts: [{ name: "renamed-context", context: { cluster: "c", user: "u" } }],
      }),
    );
    return file;
  };
  const marked = { status: 200, body: { data: { environment: "production" } } };

  it("reads a production marker under any context name and host spelling, sending the context's token", async () => {
    answer = marked;
    for (const host of ["localhost", "127.0.0.1"]) {
      expect(await readMarker({ kubeconfig: kubeconfig({ host }) })).toEqual({
        status: "marked",
        environment: "production",
      });
    }
    expect(seenAuth).toBe("Bearer t0ken");
  });

  it("a prefetched marker is read by the reader process while the caller goes on; the classification's read then answers from it", async () => {
    answer = marked;
    seenAuth = undefined;
    const file = kubeconfig({});
    const text = fs.readFileSync(file, "utf8");
    // This process's event loop stays free while the reader runs: the stand-in (in this process) answers it.
    await prefetchClusterMarker(file, text, undefined);
    expect(seenAuth).toBe("Bearer t0ken");
    // The synchronous read of the same kubeconfig and context starts no second reader: it answers what was read.
    answer = { status: 404 };
    expect(readClusterMarker(file, text, undefined)).toEqual({ status: "marked", environment: "production" });
  });

  it("reads the token an exec credential plugin gives", async () => {
    answer = marked;
    const plugin = path.join(dir, "plugin.sh");
    fs.writeFileSync(
      plugin,
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin"}}'\n`,
      { mode: 0o755 },
    );
    const r = await readMarker({
      kubeconfig: kubeconfig({
        user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } },
      }),
    });
    expect(r).toEqual({ status: "marked", environment: "production" });
    expect(seenAuth).toBe("Bearer from-plugin");
  });

  it("no marker (404) is unmarked", async () => {
    answer = { status: 404 };
    expect(await readMarker({ kubeconfig: kubeconfig({}) })).toEqual({ status: "unmarked" });
  });

  it.each([
    ["a forbidden read", { status: 403 }, {}, /answered 403/],
    [
      "a server with another CA",
      marked,
      { "certificate-authority-data": Buffer.from("junk").toString("base64") },
      /cannot reach the cluster/,
    ],
    ["TLS verification skipped", marked, { "insecure-skip-tls-verify": true }, /skips TLS verification/],
  ])("%s is unknown", async (_name, a, cluster, reason) => {
    answer = a;
    const r = await readMarker({ kubeconfig: kubeconfig({ cluster }) });
    expect(r.status).toBe("unknown");
    expect(r.status === "unknown" ? r.reason : "").toMatch(reason);
  });

  it("a context the kubeconfig lacks is unknown", async () => {
    const r = await readMarker({ kubeconfig: kubeconfig({}), context: "nope" });
    expect(r).toEqual({ status: "unknown", reason: "the kubeconfig has no context nope" });
  });
});
