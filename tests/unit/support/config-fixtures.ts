import * as pulumi from "@pulumi/pulumi";
/** Raw stack config maps (as `pulumi config` stores them: text values) for tests. */
export const DIGEST_A = `sha256:${"a".repeat(64)}`;
export const DIGEST_B = `sha256:${"b".repeat(64)}`;

/** The API's public entry of {@link productionRaw}: the platform stack's address and certificate names for nova-prod. */
export const PRODUCTION_API_INGRESS = {
  host: "api.nova.example",
  staticIpName: "nova-prod-api-ip",
  certificateName: "nova-prod-api-cert",
} as const;

export function productionRaw(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    environment: "production",
    namespace: "nova-prod",
    clusterMode: "gke",
    gcpProject: "nova-prod",
    gcpRegion: "us-central1",
    gkeClusterName: "nova-prod",
    imageRegistry: "us-docker.pkg.dev/nova-prod/nova",
    imageTag: "2026.11.3",
    apiImageDigest: DIGEST_A,
    workerImageDigest: DIGEST_B,
    imageResolver: "artifact-registry",
    apiReplicas: "3",
    workerReplicas: "2",
    autoscalingEnabled: "true",
    apiMaxReplicas: "10",
    workerMaxReplicas: "6",
    secretSource: "config",
    databaseUrl: "postgres://nova:pw@db.internal:5432/nova",
    jwtSigningKey: "jwt-signing-key-value",
    billingApiKey: "billing-api-key-value",
    rehearsalDatabaseUrl: "postgres://nova:pw@db-rehearsal.internal:5432/nova_rehearsal",
    secretsChecksumKey: "0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012a3b4c5d6e7",
    backupDestination: "gs://nova-prod-backups/pre-release",
    migrationCommand: "npm run migrate",
    // Production serves the API through its Ingress (required there); apiBaseUrl names its host.
    apiIngress: JSON.stringify(PRODUCTION_API_INGRESS),
    apiBaseUrl: "https://api.nova.example",
    alertmanagerUrl: "http://alertmanager.monitoring.svc:9093",
    ...overrides,
  };
}

export function sandboxRaw(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    environment: "sandbox",
    namespace: "nova-sandbox",
    clusterMode: "kubeconfig",
    kubeconfigPath: ".sandbox/kubeconfig",
    kubeconfigContext: "nova-sandbox",
    imageRegistry: "127.0.0.1:35000/nova",
    imageTag: "sandbox",
    apiImageDigest: DIGEST_A,
    workerImageDigest: DIGEST_B,
    imageResolver: "pinned",
    apiReplicas: "2",
    workerReplicas: "1",
    databaseUrl: "postgres://nova@127.0.0.1:55432/nova",
    jwtSigningKey: "sandbox-jwt",
    billingApiKey: "sandbox-billing",
    rehearsalDatabaseUrl: "postgres://nova@127.0.0.1:55432/nova_rehearsal",
    secretsChecksumKey: "sandbox-checksum-key-9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    backupDestination: ".sandbox/backups",
    migrationCommand: "psql -v ON_ERROR_STOP=1 -c 'select 1'",
    apiBaseUrl: "http://127.0.0.1:38080",
    workerBaseUrl: "http://127.0.0.1:33001",
    alertmanagerUrl: "http://127.0.0.1:39093",
    ...overrides,
  };
}

/** Returns a copy of `raw` without `key`. */
export function without(raw: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  const copy = { ...raw };
  for (const key of keys) delete copy[key];
  return copy;
}

/** The secret keys of the raw fixtures (stored encrypted by `pulumi config set --secret`). */
export const SECRET_CONFIG_KEYS = [
  "databaseUrl",
  "jwtSigningKey",
  "billingApiKey",
  "rehearsalDatabaseUrl",
  "secretsChecksumKey",
] as const;

/** Gives the program a raw stack config, as the engine would (values as text, the secret keys marked). */
export function useStackConfig(raw: Record<string, unknown>): void {
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(raw).map(([k, v]) => [`nova-rollout:${k}`, String(v)])),
    SECRET_CONFIG_KEYS.map((k) => `nova-rollout:${k}`),
  );
}
