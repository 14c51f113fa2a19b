import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, promiseOf, settle, type MockState } from "../support/mocks";
import { recordProtect, stackFileConfig } from "./support";

// The platform's kubeconfig variant (the sandbox), under mocks: only the Kubernetes parts, no GCP at all.
let mocks: MockState;
let wire: Map<string, boolean>;
let program: Record<string, unknown>;

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-platform-"));
  const kubeconfig = path.join(dir, "kubeconfig");
  fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\n");
  pulumi.runtime.setAllConfig(
    { ...stackFileConfig("platform-sandbox"), "nova-platform:kubeconfigPath": kubeconfig },
    [],
  );
  mocks = installMocks({ project: "nova-platform", stack: "platform-sandbox" });
  wire = recordProtect();
  program = await import("../../../platform/index");
  await promiseOf(program.namespace as pulumi.Output<string>);
  await settle();
});

describe("the platform program on platform-sandbox (clusterMode kubeconfig)", () => {
  it("registers no gcp or docker resource and makes no gcp or docker invoke", () => {
    expect(mocks.resources.length).toBeGreaterThan(0);
    expect(mocks.resources.filter((r) => /^(gcp|docker):/.test(r.type))).toEqual([]);
    expect(mocks.calls.filter((c) => /^(gcp|docker):/.test(c.token))).toEqual([]);
  });

  it("creates exactly the marker (with its reader role), the namespace and the service account", () => {
    const custom = mocks.resources
      .filter((r) => !r.type.startsWith("nova:"))
      .map((r) => r.type)
      .sort();
    expect(custom).toEqual([
      "kubernetes:core/v1:ConfigMap",
      "kubernetes:core/v1:Namespace",
      "kubernetes:core/v1:ServiceAccount",
      "kubernetes:rbac.authorization.k8s.io/v1:Role",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
      "pulumi:providers:kubernetes",
    ]);
    expect(mocks.named("nova-platform-marker").inputs.data).toEqual({
      environment: "sandbox",
      stack: "platform-sandbox",
    });
    expect(mocks.named("nova-platform-ksa").inputs.metadata).not.toHaveProperty([
      "annotations",
      "iam.gke.io/gcp-service-account",
    ]);
  });

  it("uses the configured kubeconfig context and leaves the sandbox unprotected", () => {
    expect(mocks.named("nova-platform-k8s").inputs).toMatchObject({ context: "nova-sandbox" });
    expect(wire.get("nova-platform-marker")).toBe(false);
    expect(program.kubeconfigContext).toBe("nova-sandbox");
    expect(program.clusterEndpoint).toBeUndefined();
    expect(program.imageRegistry).toBeUndefined();
  });

  it("loads no GCP SDK at all", () => {
    expect(
      Object.keys(require.cache).some((k) => k.includes(`${path.sep}@pulumi${path.sep}gcp${path.sep}`)),
    ).toBe(false);
  });
});
