// Bring-your-own cluster helpers of tools/sandbox/lib.sh, on temp kubeconfig files only (no cluster is contacted,
// the sandbox is not touched): the given context becomes context nova-sandbox in a copy, the user's file is only
// read, and only local API servers are accepted.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";

const REPO = path.resolve(__dirname, "..", "..", "..");
const LIB = path.join(REPO, "tools", "sandbox", "lib.sh");
const roots: string[] = [];
afterAll(() => {
  for (const dir of roots) fs.rmSync(dir, { recursive: true, force: true });
});

function bash(script: string): { code: number | null; stdout: string; stderr: string } {
  const res = spawnSync("bash", ["-c", `set -euo pipefail\nsource ${JSON.stringify(LIB)}\n${script}`], {
    encoding: "utf8",
    env: { HOME: os.tmpdir(), PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** A kubeconfig with a kind-like context (file-referenced CA) and an unrelated current context. */
function userKubeconfig(): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-byo-"));
  roots.push(dir);
  fs.writeFileSync(path.join(dir, "ca.crt"), "not-a-real-ca\n");
  const file = path.join(dir, "config");
  fs.writeFileSync(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      "current-context: work",
      "clusters:",
      "- name: kind-dev",
      "  cluster: {server: 'https://127.0.0.1:41001', certificate-authority: ca.crt}",
      "- name: work",
      "  cluster: {server: 'https://k8s.example.com'}",
      "contexts:",
      "- name: kind-dev",
      "  context: {cluster: kind-dev, user: kind-dev}",
      "- name: work",
      "  context: {cluster: work, user: work}",
      "users:",
      "- name: kind-dev",
      "  user: {token: kind-token}",
      "- name: work",
      "  user: {token: work-token}",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  return { dir, file };
}

interface Kubeconfig {
  "current-context": string;
  contexts: { name: string; context: { cluster: string; user: string } }[];
  clusters: { name: string; cluster: { server: string; "certificate-authority-data"?: string } }[];
  users: { name: string; user: { token?: string } }[];
}

describe("byo_kubeconfig", () => {
  it("copies only the given context, as nova-sandbox, with the CA embedded; the user's file is unchanged", () => {
    const { dir, file } = userKubeconfig();
    const before = fs.readFileSync(file, "utf8");
    const dest = path.join(dir, "sandbox", "kubeconfig");
    const r = bash(`byo_kubeconfig ${file} kind-dev ${dest}\nkubeconfig_server ${dest}`);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("kind-dev\nhttps://127.0.0.1:41001");
    const doc = parseYaml(fs.readFileSync(dest, "utf8")) as Kubeconfig;
    expect(doc["current-context"]).toBe("nova-sandbox");
    expect(doc.contexts.map((c) => c.name)).toEqual(["nova-sandbox"]);
    expect(doc.clusters.map((c) => c.cluster.server)).toEqual(["https://127.0.0.1:41001"]);
    expect(
      Buffer.from(doc.clusters[0]?.cluster["certificate-authority-data"] ?? "", "base64").toString(),
    ).toBe("not-a-real-ca\n");
    expect(doc.users.map((u) => u.user.token)).toEqual(["kind-token"]);
    expect(fs.statSync(dest).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, "utf8")).toBe(before);
  });

  it("uses the file's current context when none is given", () => {
    const { dir, file } = userKubeconfig();
    const r = bash(`byo_kubeconfig ${file} "" ${path.join(dir, "out")}`);
    expect(r.stdout.trim()).toBe("work");
  });

  it("fails with a clear message for an unknown context or an unreadable file, writing nothing", () => {
    const { dir, file } = userKubeconfig();
    const dest = path.join(dir, "out");
    const unknown = bash(`byo_kubeconfig ${file} minikube ${dest}`);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain(`context 'minikube' is not in kubeconfig ${file}`);
    const missing = bash(`byo_kubeconfig ${path.join(dir, "nope")} kind-dev ${dest}`);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("is not readable");
    expect(fs.existsSync(dest)).toBe(false);
  });
});

describe("byo_server_is_local", () => {
  it("accepts the API servers of kind, k3d, minikube and Docker Desktop, and nothing remote", () => {
    const local = [
      "https://127.0.0.1:41001",
      "https://0.0.0.0:6550",
      "https://192.168.49.2:8443",
      "https://172.18.0.2:6443",
      "https://10.0.0.5:6443",
      "https://kubernetes.docker.internal:6443",
      "https://localhost:6443",
      "https://[::1]:6443",
    ];
    const remote = [
      "https://k8s.example.com",
      "https://34.118.1.2",
      "https://172.32.0.1:6443",
      "https://gke.internal",
    ];
    const r = bash(
      [...local, ...remote]
        .map((u) => `if byo_server_is_local '${u}'; then echo local; else echo remote; fi`)
        .join("\n"),
    );
    expect(r.stdout.trim().split("\n")).toEqual([...local.map(() => "local"), ...remote.map(() => "remote")]);
  });
});
