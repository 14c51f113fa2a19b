import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { DIGEST_A, DIGEST_B, productionRaw } from "./support/config-fixtures";
import { installMocks, promiseOf, settle, type MockState } from "./support/mocks";

// The whole program on a production-shaped stack (GKE, Artifact Registry, Secret Manager), under mocks, as a preview:
// no evidence is on file, so the program guard warns instead of refusing (program-guard.test.ts covers the refusal).
let mocks: MockState;
let program: typeof import("../../index");

beforeAll(async () => {
  const raw = productionRaw({ secretSource: "gcp-secret-manager", secretManagerPrefix: "nova-prod-" });
  delete raw.databaseUrl;
  delete raw.jwtSigningKey;
  delete raw.billingApiKey;
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(raw).map(([k, v]) => [`nova-rollout:${k}`, String(v)])),
    ["nova-rollout:rehearsalDatabaseUrl", "nova-rollout:secretsChecksumKey"],
  );
  mocks = installMocks({
    stack: "production",
    preview: true,
    calls: {
      "gcp:artifactregistry/getDockerImage:getDockerImage": (i) => ({
        selfLink: `us-docker.pkg.dev/nova-prod/nova/x@${String(i.imageName).startsWith("nova-rms-api") ? DIGEST_A : DIGEST_B}`,
      }),
      "gcp:secretmanager/getSecretVersion:getSecretVersion": (i) => ({
        secretData: `from-${String(i.secret)}`,
      }),
    },
  });
  program = await import("../../index");
  await promiseOf(program.verificationResults);
  await settle();
});

describe("the program on a production stack", () => {
  it("creates the GKE cluster first, protected, and builds the provider from it", () => {
    const custom = mocks.resources.filter((r) => !r.type.startsWith("nova:"));
    expect(custom[0]?.type).toBe("gcp:container/cluster:Cluster");
    expect(mocks.named("nova-gke").inputs).toMatchObject({ name: "nova-prod", deletionProtection: true });
    expect(mocks.named("nova-k8s").dependsOn).toEqual(expect.arrayContaining(["nova-gke"]));
  });

  it("checks both digests in Artifact Registry and reads secrets from Secret Manager", async () => {
    const images = mocks.calls
      .filter((c) => c.token.includes("getDockerImage"))
      .map((c) => c.inputs.imageName);
    expect(images.sort()).toEqual(["nova-rms-api:2026.11.3", "nova-rms-worker:2026.11.3"]);
    const secrets = mocks.calls
      .filter((c) => c.token.includes("getSecretVersion"))
      .map((c) => c.inputs.secret);
    expect(secrets.sort()).toEqual([
      "nova-prod-billing-api-key",
      "nova-prod-database-url",
      "nova-prod-jwt-signing-key",
    ]);
    expect(await promiseOf(program.imageDigests)).toEqual({ api: DIGEST_A, worker: DIGEST_B });
  });

  it("renders the production values file with autoscaling and runs the verification on the real URLs", () => {
    const chart = mocks.named("nova-release");
    const values = chart.inputs.values as { api: { autoscaling: { enabled: boolean; maxReplicas: number } } };
    expect(values.api.autoscaling).toMatchObject({ enabled: true, maxReplicas: 10 });
    expect(chart.inputs.valueYamlFiles).toHaveLength(1);
    expect(mocks.named("nova-verify-api-health").inputs.create).toContain(
      "https://api.nova.example/v1/health",
    );
  });

  it("streams the production dump to the backup bucket", () => {
    const script = String(mocks.named("nova-db-dump").inputs.create);
    expect(script).toMatch(/location=gs:\/\/nova-prod-backups\/pre-release\/production-2026\.11\.3-/);
    expect(script).toContain('gcloud storage cp --no-clobber - "$partial"');
  });

  it("keys the secrets checksum with nova-rollout:secretsChecksumKey, which no resource input carries", async () => {
    const { secretsChecksum } = await import("../../components/app-secrets");
    const key = String(productionRaw().secretsChecksumKey);
    const meta = mocks.named("nova-secret").inputs.metadata as { annotations: Record<string, string> };
    const fromSecretManager = {
      DATABASE_URL: "from-nova-prod-database-url",
      JWT_SIGNING_KEY: "from-nova-prod-jwt-signing-key",
      BILLING_API_KEY: "from-nova-prod-billing-api-key",
    };
    expect(meta.annotations["rollout.nova.dev/checksum"]).toBe(secretsChecksum(fromSecretManager, key));
    expect(JSON.stringify(mocks.resources)).not.toContain(key);
  });

  it("registers no docker resource (images are never built in production)", () => {
    expect(mocks.resources.filter((r) => r.type.startsWith("docker:"))).toEqual([]);
  });
});
