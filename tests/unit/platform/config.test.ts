import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  parsePlatformSettings,
  platformConfigSchema,
  PlatformConfigError,
  secretIdOf,
} from "../../../platform/config";
import { PLATFORM_DIR, stackFileKeys } from "./support";

const gke = {
  environment: "production",
  clusterMode: "gke",
  gcpProject: "nova-prod",
  gcpRegion: "us-central1",
  clusterName: "nova-prod",
  dumpBucket: "nova-prod-db-backups",
  apiHost: "api.nova-rms.example",
  namespace: "nova-prod",
};
const kube = {
  environment: "sandbox",
  clusterMode: "kubeconfig",
  kubeconfigPath: "../.sandbox/kubeconfig",
  kubeconfigContext: "nova-sandbox",
  namespace: "nova-platform-sandbox",
};
const opts = { stack: "platform-test", projectDir: "/repo/platform" };

function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parsePlatformSettings(raw, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(PlatformConfigError);
    return (err as PlatformConfigError).problems.map((p) => `${p.key}: ${p.message}`);
  }
  return [];
}

describe("platform config", () => {
  it("parses the committed production and sandbox stacks", () => {
    const prod = parsePlatformSettings(stackFileKeys("platform-production"), opts);
    expect(prod.environment).toBe("production");
    expect(prod.protect).toBe(true);
    expect(prod.cluster.mode).toBe("gke");
    const sandbox = parsePlatformSettings(stackFileKeys("platform-sandbox"), opts);
    expect(sandbox.cluster).toEqual({
      mode: "kubeconfig",
      kubeconfigPath: "/repo/.sandbox/kubeconfig",
      context: "nova-sandbox",
    });
    expect(sandbox.protect).toBe(false);
  });

  it("names the Secret Manager secrets the way the release's AppSecrets reads them", () => {
    const s = parsePlatformSettings({ ...gke, secretPrefix: "nova-prod-" }, opts);
    expect(s.cluster.mode === "gke" && s.cluster.secrets.ids).toEqual({
      databaseUrl: "nova-prod-database-url",
      jwtSigningKey: "nova-prod-jwt-signing-key",
      billingApiKey: "nova-prod-billing-api-key",
    });
    expect(secretIdOf("nova-", "billingApiKey")).toBe("nova-billing-api-key");
  });

  it("reports every missing GKE key at once", () => {
    expect(problemsOf({ environment: "production", clusterMode: "gke", namespace: "nova-prod" })).toEqual([
      "nova-platform:gcpProject: required with clusterMode gke",
      "nova-platform:gcpRegion: required with clusterMode gke",
      "nova-platform:clusterName: required with clusterMode gke",
      "nova-platform:dumpBucket: required with clusterMode gke",
      "nova-platform:apiHost: required with clusterMode gke",
    ]);
  });

  describe.each([
    [
      "production unprotected",
      { ...gke, protect: "false" },
      "nova-platform:protect: production platform resources",
    ],
    [
      "production kubeconfig unprotected",
      { ...kube, environment: "production", protect: false },
      "nova-platform:protect:",
    ],
    ["unknown key", { ...gke, clusterNmae: "x" }, "nova-platform:clusterNmae: unknown key"],
    [
      "bad environment",
      { ...gke, environment: "prod" },
      "nova-platform:environment: expected sandbox, staging or production",
    ],
    [
      "bad release channel",
      { ...gke, releaseChannel: "EXTENDED" },
      "nova-platform:releaseChannel: expected RAPID",
    ],
    [
      "authorized network not a CIDR",
      { ...gke, authorizedNetworks: '["0.0.0.0"]' },
      "nova-platform:authorizedNetworks: [0] expected an IPv4 CIDR",
    ],
    [
      "octet out of range",
      { ...gke, masterCidr: "172.316.0.0/28" },
      "nova-platform:masterCidr: expected an IPv4 CIDR",
    ],
    [
      "public member",
      { ...gke, secretAccessors: '["allUsers"]' },
      "nova-platform:secretAccessors: [0] expected an IAM member",
    ],
    [
      "all authenticated users",
      { ...gke, dumpWriters: ["allAuthenticatedUsers"] },
      "nova-platform:dumpWriters: [0] expected an IAM member",
    ],
    [
      "bucket name",
      { ...gke, dumpBucket: "Nova_Backups!" },
      "nova-platform:dumpBucket: expected a bucket name",
    ],
    [
      "retention zero",
      { ...gke, dumpRetentionDays: "0" },
      "nova-platform:dumpRetentionDays: expected a whole number ≥ 1",
    ],
    [
      "host not qualified",
      { ...gke, apiHost: "api" },
      "nova-platform:apiHost: expected a fully qualified host name",
    ],
    [
      "maintenance not RFC 3339",
      { ...gke, maintenanceStart: "03:00" },
      "nova-platform:maintenanceStart: expected an RFC 3339",
    ],
    [
      "maintenance ends first",
      { ...gke, maintenanceStart: "2026-01-03T07:00:00Z", maintenanceEnd: "2026-01-03T03:00:00Z" },
      "nova-platform:maintenanceEnd: must be after",
    ],
    [
      "node bounds",
      { ...gke, nodeMinCount: 4, nodeMaxCount: "3" },
      "nova-platform:nodeMaxCount: must be ≥ nodeMinCount",
    ],
    [
      "kubeconfig keys",
      { environment: "sandbox", namespace: "nova-x" },
      "nova-platform:kubeconfigPath: required with clusterMode kubeconfig",
    ],
    [
      "namespace",
      { ...kube, namespace: "Nova_Prod" },
      "nova-platform:namespace: expected the release namespace (a DNS-1123 label)",
    ],
  ])("%s", (_name, raw, expected) => {
    it("is refused with a message naming the key", () => {
      const problems = problemsOf(raw);
      expect(problems.some((p) => p.startsWith(expected))).toBe(true);
    });
  });

  it("lists every problem in one message with how to fix them", () => {
    expect(() =>
      parsePlatformSettings({ ...gke, protect: false, apiHost: "api", dumpRetentionDays: 0 }, opts),
    ).toThrow(/has 3 problems:[\s\S]*dumpRetentionDays[\s\S]*apiHost[\s\S]*protect[\s\S]*pulumi config set/);
  });

  describe("platform/Pulumi.yaml", () => {
    const project = parse(fs.readFileSync(path.join(PLATFORM_DIR, "Pulumi.yaml"), "utf8")) as {
      main: string;
      config: Record<string, { type: string; default?: unknown; description?: string }>;
    };

    it("declares every key of the schema, with a type and a description, and nothing else", () => {
      expect(Object.keys(project.config).sort()).toEqual(Object.keys(platformConfigSchema.shape).sort());
      for (const [key, decl] of Object.entries(project.config)) {
        expect([key, typeof decl.description === "string" && decl.description.length > 10]).toEqual([
          key,
          true,
        ]);
      }
    });

    it("declares the schema's defaults: the engine's defaults change no setting", () => {
      for (const required of [gke, kube]) {
        const defaults = Object.fromEntries(
          Object.entries(project.config)
            .filter(([, d]) => d.default !== undefined)
            .map(([k, d]) => [k, typeof d.default === "string" ? d.default : JSON.stringify(d.default)]),
        );
        expect(parsePlatformSettings({ ...defaults, ...required }, opts)).toEqual(
          parsePlatformSettings(required, opts),
        );
      }
    });

    it("runs the compiled program (no type-check at preview)", () => {
      expect(project.main).toBe("../dist/platform/index.js");
    });
  });
});
