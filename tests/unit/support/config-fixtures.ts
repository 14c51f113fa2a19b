/** Raw stack config maps (as `pulumi config` stores them: text values) for tests. */
export const DIGEST_A = `sha256:${"a".repeat(64)}`;
export const DIGEST_B = `sha256:${"b".repeat(64)}`;

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
    backupDestination: "gs://nova-prod-backups/pre-release",
    migrationCommand: "npm run migrate",
    apiBaseUrl: "https://api.nova.example",
    workerBaseUrl: "http://nova-worker.nova-prod.svc:3001",
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
