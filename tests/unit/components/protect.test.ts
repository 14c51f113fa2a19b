import * as pulumi from "@pulumi/pulumi";
import type { Deployment } from "@pulumi/pulumi/automation";
import { beforeAll, describe, expect, it } from "vitest";
import { protectedUrns, unprotectAll } from "../../integration/protect";
import { installMocks, settle, type MockState } from "../support/mocks";

// `protect` is a resource option, not an input: the mocks' newResource never sees it. Two views of it, both checked:
// - the Resource object: @pulumi/pulumi 3.248 stores the resolved option (after inheritance from the parent) in the
//   internal field `__protect` (resource.js: `this.__protect = opts.protect`);
// - the wire: the RegisterResourceRequest the engine receives carries it (`req.setProtect` only when defined).

/** The resolved `protect` option of a resource, read from the SDK's internal field. */
function protectOf(resource: pulumi.Resource): boolean | undefined {
  const field: unknown = Reflect.get(resource, "__protect");
  return typeof field === "boolean" ? field : undefined;
}

/** The part of a RegisterResourceRequest this test reads. */
interface ProtectRequest {
  getName(): string;
  hasProtect(): boolean;
  getProtect(): boolean | undefined;
}

let mocks: MockState;
/** `protect` as sent to the engine, by logical name (absent: the option was not set). */
const wire = new Map<string, boolean>();
let cluster: typeof import("../../../components/cluster-connection");
let release: typeof import("../../../components");
let secrets: typeof import("../../../components/app-secrets");

beforeAll(async () => {
  mocks = installMocks();
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: ProtectRequest, cb: unknown): Promise<unknown>;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    if (req.hasProtect()) wire.set(req.getName(), req.getProtect() === true);
    return register(req, cb);
  };
  cluster = await import("../../../components/cluster-connection");
  release = await import("../../../components");
  secrets = await import("../../../components/app-secrets");
});

/** Whether the engine was asked to protect the resource with this logical name (which must have registered). */
function sentProtected(name: string): boolean {
  mocks.named(name);
  return wire.get(name) ?? false;
}

const namespaceArgs = {
  name: "nova-prod",
  environment: "production" as const,
  release: "2026.11.3",
  digests: { api: "sha256:a", worker: "sha256:b" },
};

const secretArgs = {
  namespace: "nova-prod",
  entries: [{ key: "databaseUrl", envName: "DATABASE_URL" }],
  required: ["databaseUrl"],
  source: { kind: "config" as const, values: { databaseUrl: pulumi.secret("postgres://x") } },
  checksumKey: pulumi.secret("k".repeat(32)),
};

const gkeArgs = {
  mode: "gke" as const,
  project: "nova-prod",
  region: "us-central1",
  clusterName: "nova-prod",
  nodeCount: 3,
  machineType: "e2-standard-4",
};

describe("ReleaseNamespace protect", () => {
  it("protects the Namespace with protect: true", async () => {
    const ns = new release.ReleaseNamespace("ns-on", { ...namespaceArgs, protect: true });
    await settle();
    expect(protectOf(ns.namespace)).toBe(true);
    expect(sentProtected("ns-on-namespace")).toBe(true);
  });

  it.each([
    ["false", { protect: false }],
    ["omitted", {}],
  ])("does not protect the Namespace when protect is %s", async (label, extra) => {
    const name = `ns-${label}`;
    const ns = new release.ReleaseNamespace(name, { ...namespaceArgs, ...extra });
    await settle();
    expect(protectOf(ns.namespace) ?? false).toBe(false);
    expect(sentProtected(`${name}-namespace`)).toBe(false);
  });

  it("keeps Pulumi's inheritance when omitted, and an explicit false wins over a protected component", async () => {
    const inherited = new release.ReleaseNamespace("ns-inh", namespaceArgs, { protect: true });
    const overridden = new release.ReleaseNamespace(
      "ns-ovr",
      { ...namespaceArgs, protect: false },
      { protect: true },
    );
    await settle();
    expect(protectOf(inherited.namespace)).toBe(true);
    expect(sentProtected("ns-inh-namespace")).toBe(true);
    expect(protectOf(overridden.namespace)).toBe(false);
    expect(sentProtected("ns-ovr-namespace")).toBe(false);
  });

  it("changes nothing else on the Namespace", async () => {
    new release.ReleaseNamespace("ns-same-on", { ...namespaceArgs, protect: true });
    new release.ReleaseNamespace("ns-same-off", namespaceArgs);
    await settle();
    expect(mocks.named("ns-same-on-namespace").inputs).toEqual(mocks.named("ns-same-off-namespace").inputs);
  });
});

describe("AppSecrets protect", () => {
  it("protects the Kubernetes Secret with protect: true", async () => {
    const s = new secrets.AppSecrets("sec-on", { ...secretArgs, protect: true });
    await settle();
    expect(mocks.named("sec-on-secret").type).toBe("kubernetes:core/v1:Secret");
    expect(protectOf(s.secret)).toBe(true);
    expect(sentProtected("sec-on-secret")).toBe(true);
  });

  it.each([
    ["false", { protect: false }],
    ["omitted", {}],
  ])("does not protect the Secret when protect is %s", async (label, extra) => {
    const name = `sec-${label}`;
    const s = new secrets.AppSecrets(name, { ...secretArgs, ...extra });
    await settle();
    expect(protectOf(s.secret) ?? false).toBe(false);
    expect(sentProtected(`${name}-secret`)).toBe(false);
  });
});

describe("ClusterConnection protect", () => {
  it("protects the GKE cluster and node pool by default", async () => {
    new cluster.ClusterConnection("gke-default", gkeArgs);
    await settle();
    expect(sentProtected("gke-default-gke")).toBe(true);
    expect(sentProtected("gke-default-gke-nodes")).toBe(true);
    expect(sentProtected("gke-default-k8s")).toBe(false);
  });

  it("protects the GKE cluster and node pool with protect: true", async () => {
    new cluster.ClusterConnection("gke-on", { ...gkeArgs, protect: true });
    await settle();
    expect(sentProtected("gke-on-gke")).toBe(true);
    expect(sentProtected("gke-on-gke-nodes")).toBe(true);
  });

  it("leaves the GKE cluster and node pool unprotected with protect: false, GCP deletion protection kept", async () => {
    new cluster.ClusterConnection("gke-off", { ...gkeArgs, protect: false });
    await settle();
    expect(sentProtected("gke-off-gke")).toBe(false);
    expect(sentProtected("gke-off-gke-nodes")).toBe(false);
    expect(mocks.named("gke-off-gke").inputs).toMatchObject({ deletionProtection: true });
  });

  it("creates nothing protected in kubeconfig mode", async () => {
    new cluster.ClusterConnection("kc-on", {
      mode: "kubeconfig",
      kubeconfig: "apiVersion: v1",
      context: "sandbox",
      protect: true,
    });
    await settle();
    expect(sentProtected("kc-on-k8s")).toBe(false);
    expect(mocks.byType("gcp:container/cluster:Cluster").map((r) => r.name)).not.toContain("kc-on-gke");
  });
});

describe("integration state helpers (tests/integration/protect.ts)", () => {
  const urn = (name: string) => `urn:pulumi:production::nova-rollout::kubernetes:core/v1:Namespace::${name}`;
  const exported = (): Deployment => ({
    version: 3,
    deployment: {
      manifest: { time: "2026-11-03T00:00:00Z" },
      secrets_providers: { type: "passphrase" },
      resources: [
        { urn: urn("a"), custom: true, protect: true, outputs: { x: 1 } },
        { urn: urn("b"), custom: true },
        { urn: urn("c"), custom: true, protect: true },
      ],
    },
  });

  /** A stand-in for the two Stack methods the helper uses, keeping what was imported. */
  function fakeStack(initial: Deployment) {
    let state = initial;
    const imports: Deployment[] = [];
    return {
      imports,
      exportStack: () => Promise.resolve(state),
      importStack: (d: Deployment) => {
        imports.push(d);
        state = d;
        return Promise.resolve();
      },
    };
  }

  it("lists the protected URNs in state order, none for a stack that never ran", () => {
    expect(protectedUrns(exported())).toEqual([urn("a"), urn("c")]);
    expect(protectedUrns({ version: 3, deployment: { manifest: {} } })).toEqual([]);
    expect(protectedUrns({ version: 3, deployment: null })).toEqual([]);
  });

  it("clears protect on every resource and keeps everything else", async () => {
    const stack = fakeStack(exported());
    await unprotectAll(stack);
    expect(stack.imports).toHaveLength(1);
    const imported = stack.imports[0] as Deployment;
    expect(protectedUrns(imported)).toEqual([]);
    expect(imported).toEqual({
      version: 3,
      deployment: {
        ...(exported().deployment as object),
        resources: [
          { urn: urn("a"), custom: true, protect: false, outputs: { x: 1 } },
          { urn: urn("b"), custom: true, protect: false },
          { urn: urn("c"), custom: true, protect: false },
        ],
      },
    });
  });

  it("leaves the state alone when nothing is protected", async () => {
    const stack = fakeStack({ version: 3, deployment: { resources: [{ urn: urn("b") }] } });
    await unprotectAll(stack);
    expect(stack.imports).toEqual([]);
  });

  it("fails when the import did not take", async () => {
    const stack = { ...fakeStack(exported()), importStack: () => Promise.resolve() };
    await expect(unprotectAll(stack)).rejects.toThrow(/still protected after import/);
  });
});
