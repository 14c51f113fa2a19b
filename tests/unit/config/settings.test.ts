import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigValidationError, parseStackSettings } from "../../../src/config";
import { backupDestinationProblem, databaseTarget, sameDatabase } from "../../../src/config/schema";
import { DIGEST_A, productionRaw, sandboxRaw, without } from "../support/config-fixtures";

const opts = { stack: "production", projectDir: "/repo" };

function problemKeys(raw: Record<string, unknown>, isSecret?: (k: string) => boolean): string[] {
  try {
    parseStackSettings(raw, { ...opts, ...(isSecret ? { isSecret } : {}) });
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.problems.map((p) => p.key).sort();
    throw err;
  }
  return [];
}

function captureProblems(raw: Record<string, unknown>): { key: string; message: string }[] {
  try {
    parseStackSettings(raw, opts);
  } catch (err) {
    if (err instanceof ConfigValidationError) return [...err.problems];
    throw err;
  }
  return [];
}

const k = (...keys: string[]) => keys.map((x) => `nova-rollout:${x}`).sort();

/** The message a config is refused with, or "" when it is accepted. */
function messageOf(raw: Record<string, unknown>): string {
  try {
    parseStackSettings(raw, opts);
  } catch (err) {
    return (err as Error).message;
  }
  return "";
}

describe("parseStackSettings: valid stacks", () => {
  it("types a production config", () => {
    const s = parseStackSettings(productionRaw(), opts);
    expect(s.environment).toBe("production");
    expect(s.cluster).toEqual({
      mode: "gke",
      project: "nova-prod",
      region: "us-central1",
      clusterName: "nova-prod",
      nodeCount: 3,
      machineType: "e2-standard-4",
    });
    expect(s.scaling).toEqual({
      apiReplicas: 3,
      workerReplicas: 2,
      autoscalingEnabled: true,
      apiMaxReplicas: 10,
      workerMaxReplicas: 6,
      targetCpuPercent: 70,
    });
    expect(s.images.api).toEqual({ service: "api", repository: "nova-rms-api", digest: DIGEST_A });
    expect(s.pausedCronJobs).toEqual(["nova-billing-drill"]);
    expect(s.ciSchedules).toEqual({ workflows: [], apiUrl: "https://api.github.com", dryRun: false });
    expect(s.verification.attempts).toBe(5);
    expect(s.kubectlTimeoutSeconds).toBe(120);
    expect(s.evidenceDir).toBe("/repo/tests/drills/logs");
  });

  it("resolves relative paths against the project and keeps URLs", () => {
    const s = parseStackSettings(sandboxRaw(), { stack: "local", projectDir: "/repo" });
    expect(s.cluster).toMatchObject({ kubeconfigPath: "/repo/.sandbox/kubeconfig", context: "nova-sandbox" });
    expect(s.database.backupDestination).toBe("/repo/.sandbox/backups");
    expect(parseStackSettings(productionRaw(), opts).database.backupDestination).toBe(
      "gs://nova-prod-backups/pre-release",
    );
  });

  it("treats an empty value as unset (Pulumi.yaml declares optional keys with empty defaults)", () => {
    const s = parseStackSettings(productionRaw({ syntheticE2eCommand: "", kubeconfigPath: " " }), opts);
    expect(s.verification.syntheticE2eCommand).toBeUndefined();
  });

  it("accepts typed values as well as their text form", () => {
    const s = parseStackSettings(
      productionRaw({ apiReplicas: 4, autoscalingEnabled: false, pausedCronJobs: ["a"] }),
      opts,
    );
    expect(s.scaling.apiReplicas).toBe(4);
    expect(s.pausedCronJobs).toEqual(["a"]);
    const bounded = parseStackSettings(productionRaw({ kubectlTimeoutSeconds: "45" }), opts);
    expect(bounded.kubectlTimeoutSeconds).toBe(45);
  });
});

// Each malformed config names exactly the keys that are wrong.
const malformed: [string, Record<string, unknown>, string[]][] = [
  ["unknown environment", productionRaw({ environment: "prod" }), k("environment")],
  ["missing environment", without(productionRaw(), "environment"), k("environment")],
  ["namespace with capitals", productionRaw({ namespace: "Nova-Prod" }), k("namespace")],
  ["namespace too long", productionRaw({ namespace: "n".repeat(64) }), k("namespace")],
  ["unknown cluster mode", productionRaw({ clusterMode: "eks" }), k("clusterMode")],
  [
    "gke without region and cluster name",
    without(productionRaw(), "gcpRegion", "gkeClusterName"),
    k("gcpRegion", "gkeClusterName"),
  ],
  [
    "kubeconfig mode without path and context",
    productionRaw({ clusterMode: "kubeconfig" }),
    k("kubeconfigPath", "kubeconfigContext"),
  ],
  [
    "registry with scheme",
    productionRaw({ imageRegistry: "https://us-docker.pkg.dev/x" }),
    k("imageRegistry"),
  ],
  ["tag with a slash", productionRaw({ imageTag: "release/1" }), k("imageTag")],
  ["digest is a tag", productionRaw({ apiImageDigest: "latest" }), k("apiImageDigest")],
  ["digest too short", productionRaw({ workerImageDigest: "sha256:abc" }), k("workerImageDigest")],
  [
    "tag-only images",
    without(productionRaw(), "apiImageDigest", "workerImageDigest"),
    k("apiImageDigest", "workerImageDigest"),
  ],
  ["unknown resolver", productionRaw({ imageResolver: "ecr" }), k("imageResolver")],
  ["the removed docker resolver", productionRaw({ imageResolver: "docker" }), k("imageResolver")],
  [
    "the removed build resolver with its build contexts",
    productionRaw({
      environment: "staging",
      imageResolver: "build",
      apiBuildContext: "a",
      workerBuildContext: "b",
    }),
    k("imageResolver", "apiBuildContext", "workerBuildContext"),
  ],
  ["replicas zero", productionRaw({ workerReplicas: "0" }), k("workerReplicas")],
  ["replicas not a number", productionRaw({ apiReplicas: "three" }), k("apiReplicas")],
  ["replicas fractional", productionRaw({ apiReplicas: "2.5" }), k("apiReplicas")],
  ["single api replica in production", productionRaw({ apiReplicas: "1" }), k("apiReplicas")],
  ["autoscaling flag not boolean", productionRaw({ autoscalingEnabled: "yes" }), k("autoscalingEnabled")],
  ["max below replicas", productionRaw({ apiMaxReplicas: "2" }), k("apiMaxReplicas")],
  ["cpu target over 100", productionRaw({ autoscalingTargetCpu: "150" }), k("autoscalingTargetCpu")],
  ["missing required secret", without(productionRaw(), "databaseUrl"), k("databaseUrl")],
  [
    "unknown required secret",
    productionRaw({ requiredSecrets: '["databaseUrl","sessionKey"]' }),
    k("requiredSecrets"),
  ],
  ["required secrets not a list", productionRaw({ requiredSecrets: "databaseUrl" }), k("requiredSecrets")],
  ["unknown secret source", productionRaw({ secretSource: "vault" }), k("secretSource")],
  [
    "secret manager without project",
    without(
      productionRaw({
        secretSource: "gcp-secret-manager",
        clusterMode: "kubeconfig",
        kubeconfigPath: "k",
        kubeconfigContext: "c",
        imageResolver: "pinned",
      }),
      "gcpProject",
    ),
    k("gcpProject"),
  ],
  ["missing backup destination", without(productionRaw(), "backupDestination"), k("backupDestination")],
  ["missing rehearsal database", without(productionRaw(), "rehearsalDatabaseUrl"), k("rehearsalDatabaseUrl")],
  ["missing checksum key", without(productionRaw(), "secretsChecksumKey"), k("secretsChecksumKey")],
  ["missing checksum key (sandbox)", without(sandboxRaw(), "secretsChecksumKey"), k("secretsChecksumKey")],
  ["checksum key too short", productionRaw({ secretsChecksumKey: "a".repeat(31) }), k("secretsChecksumKey")],
  [
    "checksum key equal to an application secret",
    productionRaw({ jwtSigningKey: "j".repeat(40), secretsChecksumKey: "j".repeat(40) }),
    k("secretsChecksumKey"),
  ],
  ["api URL without scheme", productionRaw({ apiBaseUrl: "api.nova.example" }), k("apiBaseUrl")],
  ["alertmanager URL is ftp", productionRaw({ alertmanagerUrl: "ftp://am" }), k("alertmanagerUrl")],
  [
    "paused cron jobs with an empty name",
    productionRaw({ pausedCronJobs: '["nova-billing-drill",""]' }),
    k("pausedCronJobs"),
  ],
  ["verify attempts zero", productionRaw({ verifyAttempts: "0" }), k("verifyAttempts")],
  ["verify timeout too long", productionRaw({ verifyTimeoutSeconds: "601" }), k("verifyTimeoutSeconds")],
  ["a typo in a key", productionRaw({ apiReplica: "3" }), k("apiReplica")],
  [
    "sandbox on gke with the artifact-registry resolver",
    sandboxRaw({
      clusterMode: "gke",
      gcpProject: "p",
      gcpRegion: "r",
      gkeClusterName: "c",
      imageResolver: "artifact-registry",
    }),
    k("clusterMode", "imageResolver"),
  ],
  [
    "sandbox with secret manager",
    sandboxRaw({ secretSource: "gcp-secret-manager", gcpProject: "p" }),
    k("secretSource"),
  ],
  [
    "several type errors at once",
    productionRaw({ environment: "qa", apiReplicas: "-1", namespace: "_", imageTag: "", bogus: 1 }),
    k("environment", "apiReplicas", "namespace", "imageTag", "bogus"),
  ],
];

describe("parseStackSettings: malformed configs name every bad key", () => {
  it("names each CI schedule that is not owner/repo:workflow.yml, with the API address, at once", () => {
    const raw = productionRaw({
      ciSchedules: '["nova-rms/nova-rms:billing.yml","nightly.yml"]',
      githubApiUrl: "api.github.com",
    });
    expect(problemKeys(raw)).toEqual(k("ciSchedules", "githubApiUrl"));
    expect(messageOf(raw)).toContain("expected owner/repo:workflow.yml");
    const ok = parseStackSettings(
      sandboxRaw({ ciSchedules: '["nova-rms/nova-rms:billing.yml"]', ciSchedulesDryRun: "true" }),
      {
        stack: "local",
        projectDir: "/repo",
      },
    );
    expect(ok.ciSchedules).toEqual({
      workflows: ["nova-rms/nova-rms:billing.yml"],
      apiUrl: "https://api.github.com",
      dryRun: true,
    });
    // A production release cannot be told to only pretend to pause its schedules.
    const dry = productionRaw({
      ciSchedules: '["nova-rms/nova-rms:billing.yml"]',
      ciSchedulesDryRun: "true",
    });
    expect(problemKeys(dry)).toEqual(k("ciSchedulesDryRun"));
    expect(messageOf(dry)).toContain("a production release pauses its CI schedules");
  });

  it("checks the worker through a port-forward unless a URL is named, which production refuses", () => {
    const { workerBaseUrl: _url, ...withoutUrl } = sandboxRaw();
    const settings = parseStackSettings(withoutUrl, { stack: "local", projectDir: "/repo" });
    expect(settings.verification.workerBaseUrl).toBeUndefined();
    expect(settings.verification.namespace).toBe(settings.namespace);
    const direct = parseStackSettings(sandboxRaw({ workerBaseUrl: "http://127.0.0.1:33001" }), {
      stack: "local",
      projectDir: "/repo",
    }).verification;
    expect(direct.workerBaseUrl).toBe("http://127.0.0.1:33001");
    expect(
      parseStackSettings(productionRaw(), { stack: "production", projectDir: "/repo" }).verification,
    ).not.toHaveProperty("workerBaseUrl");
    const named = productionRaw({ workerBaseUrl: "https://worker.nova-prod.internal" });
    expect(problemKeys(named)).toEqual(k("workerBaseUrl"));
    expect(messageOf(named)).toContain("through a port-forward to deploy/nova-worker");
  });

  it("reads the staging cluster's CronJobs with its kubeconfig resolved, and names a malformed entry", () => {
    const ok = parseStackSettings(
      productionRaw({
        stagingCronJobs:
          '{"kubeconfigPath":".kube/nova-staging.yaml","kubeconfigContext":"gke_nova-staging","namespace":"nova-staging"}',
      }),
      { stack: "production", projectDir: "/repo" },
    );
    expect(ok.stagingCronJobs).toEqual({
      kubeconfigPath: "/repo/.kube/nova-staging.yaml",
      context: "gke_nova-staging",
      namespace: "nova-staging",
      cronJobs: ["nova-billing-drill"],
    });
    expect(
      parseStackSettings(productionRaw({}), { stack: "production", projectDir: "/repo" }).stagingCronJobs,
    ).toBe(undefined);
    const bad = productionRaw({
      stagingCronJobs:
        '{"kubeconfigPath":".kube/nova-staging.yaml","namespace":"nova-staging","cluster":"x"}',
      githubApiUrl: "api.github.com",
    });
    expect([...new Set(problemKeys(bad))]).toEqual(k("githubApiUrl", "stagingCronJobs"));
    expect(messageOf(bad)).toMatch(/stagingCronJobs.*kubeconfigContext/s);
  });

  it("has a table of at least 25 cases", () => expect(malformed.length).toBeGreaterThanOrEqual(25));

  it.each(malformed)("%s", (_name, raw, keys) => {
    expect(problemKeys(raw)).toEqual(keys);
  });

  it("renders one message with every key, the expectation and the fix, without a stack trace", () => {
    let message = "";
    try {
      parseStackSettings(productionRaw({ apiReplicas: "0", namespace: "X" }), opts);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      [
        'Stack config of "production" has 2 problems:',
        "  - nova-rollout:namespace: expected a DNS-1123 label (lowercase letters, digits and '-')",
        "  - nova-rollout:apiReplicas: expected a whole number ≥ 1",
        "Fix each with `pulumi config set <key> <value> --stack production` (add --secret for secrets), then run again.",
      ].join("\n"),
    );
    expect(message).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it("says what replaces the removed docker and build resolvers and build-context keys, with every other problem", () => {
    let error: unknown;
    try {
      parseStackSettings(
        productionRaw({
          environment: "staging",
          imageResolver: "build",
          apiBuildContext: "../nova-rms/services/api",
          workerBuildContext: "../nova-rms/services/worker",
          apiReplicas: "0",
        }),
        { ...opts, stack: "staging" },
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const { problems, message } = error as ConfigValidationError;
    const of = (key: string) => problems.find((p) => p.key === `nova-rollout:${key}`)?.message ?? "";
    expect(of("imageResolver")).toMatch(/^the build resolver was removed .*release-images workflow/);
    expect(of("imageResolver")).toMatch(
      /use imageResolver registry-api with apiImageDigest and workerImageDigest pinned/,
    );
    for (const key of ["apiBuildContext", "workerBuildContext"]) {
      expect(of(key)).toMatch(/^was removed with the build resolver/);
      expect(of(key)).toContain(`\`pulumi config rm nova-rollout:${key}\``);
      expect(of(key)).toContain("use imageResolver registry-api");
    }
    expect(of("apiReplicas")).toBe("expected a whole number ≥ 1");
    expect(problems).toHaveLength(4);
    expect(message).not.toMatch(/unknown key|\bat .*\.ts:\d+/);

    const docker = captureProblems(productionRaw({ imageResolver: "docker" }));
    expect(docker).toEqual([
      {
        key: "nova-rollout:imageResolver",
        message: expect.stringMatching(
          /^the docker resolver was removed \(registry-api makes the same digest check without the docker provider\); use imageResolver registry-api/,
        ),
      },
    ]);
  });

  it("names secrets stored in plain text when the engine says which keys are secret", () => {
    const secretKeys = new Set(["nova-rollout:databaseUrl", "nova-rollout:rehearsalDatabaseUrl"]);
    expect(problemKeys(productionRaw(), (key) => secretKeys.has(key))).toEqual(
      k("billingApiKey", "jwtSigningKey", "secretsChecksumKey"),
    );
  });

  it("rejects every replica count below 1 and accepts every one from 2 to 100 in production", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 0 }), (n) => {
        expect(problemKeys(productionRaw({ apiReplicas: String(n) }))).toContain("nova-rollout:apiReplicas");
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 100 }), (n) => {
        const s = parseStackSettings(productionRaw({ apiReplicas: String(n), apiMaxReplicas: "500" }), opts);
        expect(s.scaling.apiReplicas).toBe(n);
      }),
    );
  });

  it("rejects any digest that is not sha256 and 64 lowercase hex characters", () => {
    fc.assert(
      fc.property(
        fc
          .string({ minLength: 1, maxLength: 80 })
          .filter((s) => !/^sha256:[a-f0-9]{64}$/.test(s) && s.trim() !== ""),
        (digest) => {
          expect(problemKeys(productionRaw({ apiImageDigest: digest }))).toEqual(k("apiImageDigest"));
        },
      ),
    );
  });
});

describe("database URL normalisation (databaseTarget, sameDatabase)", () => {
  const live = "postgres://nova:pw@db.internal:5432/nova";
  it.each([
    ["the identical URL", live, true],
    ["other credentials", "postgresql://admin:other@db.internal:5432/nova", true],
    ["no credentials, default port", "postgres://db.internal/nova", true],
    ["host in capitals with a trailing dot", "postgres://u@DB.Internal.:5432/nova", true],
    ["a query string", "postgres://db.internal/nova?sslmode=require&application_name=x", true],
    ["a fragment of a multi-host list", "postgres://replica.internal:5432,db.internal/nova", true],
    ["libpq key=value form", "host=db.internal port=5432 dbname=nova user=x password='p w'", true],
    ["host and port as query parameters", "postgres:///nova?host=db.internal&port=5432", true],
    ["another database", "postgres://nova:pw@db.internal:5432/nova_rehearsal", false],
    ["another port", "postgres://nova:pw@db.internal:5433/nova", false],
    ["another host", "postgres://nova:pw@db-rehearsal.internal/nova", false],
    ["database name differs in case", "postgres://db.internal/Nova", false],
    ["not a connection string", "[encrypted]", false],
    ["another scheme", "mysql://db.internal:5432/nova", false],
  ])("%s: same as the live database = %s", (_name, url, same) => {
    expect(sameDatabase(live, url)).toBe(same);
    expect(sameDatabase(url, live)).toBe(same);
  });

  it.each([
    ["postgres://u@localhost/nova", "postgresql://u@127.0.0.1:5432/nova", true],
    ["postgres://u@127.0.0.2/nova", "postgres://u@[::1]:5432/nova", true],
    ["postgres:///nova", "postgres://localhost/nova", true],
    ["postgres:///nova?host=/var/run/postgresql", "postgres://127.0.0.1/nova", true],
    ["postgres://postgres@localhost:55432", "postgres://postgres@127.0.0.1:55432/postgres", true],
    ["postgres://u@localhost/nova", "postgres://u@10.0.0.1/nova", false],
    ["host=localhost dbname=nova", "postgres://u@127.0.0.1/nova", true],
    ["postgres://u@%2Fvar%2Frun%2Fpostgresql/nova", "postgres://localhost/nova", true],
  ])("%s and %s reach the same database = %s", (a, b, same) => {
    expect(sameDatabase(a, b)).toBe(same);
  });

  it.each([
    [
      "postgres://U:P@Db.Example:6543/app?sslmode=require",
      { endpoints: ["db.example:6543"], database: "app" },
    ],
    ["postgresql://a:1,B:2/app", { endpoints: ["a:1", "b:2"], database: "app" }],
    ["postgres://[2001:DB8::1]:5433/app", { endpoints: ["2001:db8::1:5433"], database: "app" }],
    ["postgres://u@h", { endpoints: ["h:5432"], database: "u" }],
    ["host=h1,h2 port=5433 dbname='my db'", { endpoints: ["h1:5433", "h2:5433"], database: "my db" }],
    ["nothing=here", { endpoints: ["localhost:5432"], database: "" }],
  ])("databaseTarget(%s)", (url, target) => {
    expect(databaseTarget(url)).toEqual(target);
  });
});

describe("the rehearsal database must not be the live database", () => {
  it.each([
    ["the same URL", "postgres://nova:pw@db.internal:5432/nova"],
    ["the same database spelled differently", "postgresql://other:creds@DB.INTERNAL/nova?sslmode=require"],
  ])("refuses %s, naming the key without printing either URL", (_name, rehearsal) => {
    let message = "";
    try {
      parseStackSettings(productionRaw({ rehearsalDatabaseUrl: rehearsal }), opts);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigValidationError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/nova-rollout:rehearsalDatabaseUrl: points at the live database/);
    expect(message).toMatch(/pulumi config set --secret nova-rollout:rehearsalDatabaseUrl/);
    expect(message).not.toMatch(/pw|creds|db\.internal|postgres(ql)?:\/\//i);
  });

  it("accepts a scratch database on the same server, and secrets that are placeholders (no engine)", () => {
    expect(problemKeys(productionRaw())).toEqual([]);
    expect(
      problemKeys(
        productionRaw({ rehearsalDatabaseUrl: "postgres://nova:pw@db.internal:5432/nova_scratch" }),
      ),
    ).toEqual([]);
    expect(
      problemKeys(productionRaw({ databaseUrl: "[encrypted]", rehearsalDatabaseUrl: "[encrypted]" })),
    ).toEqual([]);
  });
});

describe("backupDestination: gs:// or a directory; production gs:// only", () => {
  it.each([
    ["gs://nova-prod-backups/pre-release", "production", undefined],
    ["gs://nova-prod-backups", "production", undefined],
    ["/var/backups/nova", "staging", undefined],
    [".sandbox/backups", "sandbox", undefined],
    ["~/backups", "staging", undefined],
    ["s3://bucket/prefix", "staging", /s3: destinations are not supported/],
    ["file:///var/backups", "sandbox", /file: destinations are not supported/],
    ["https://storage.example/x", "staging", /https: destinations are not supported/],
    ["gs://", "staging", /expected gs:\/\/<bucket>/],
    ["gs://Bad_Bucket/x", "staging", /valid bucket name/],
    ["/var/backups/nova", "production", /production dumps go to gs:\/\//],
    ["backups", "production", /production dumps go to gs:\/\//],
  ])("%s in %s", (destination, environment, problem) => {
    const found = backupDestinationProblem(destination, environment);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  it.each([
    [
      "s3 in staging",
      productionRaw({ environment: "staging", backupDestination: "s3://b/p" }),
      k("backupDestination"),
    ],
    [
      "a directory in production",
      productionRaw({ backupDestination: "/var/backups" }),
      k("backupDestination"),
    ],
    ["a relative directory in sandbox", sandboxRaw({ backupDestination: "backups/dumps" }), []],
    [
      "s3 reported together with another malformed key",
      productionRaw({ backupDestination: "s3://b/p", apiReplicas: "zero" }),
      k("apiReplicas", "backupDestination"),
    ],
  ])("%s", (_name, raw, keys) => {
    expect(problemKeys(raw)).toEqual(keys);
  });

  it("resolves an accepted relative directory to an absolute path", () => {
    const s = parseStackSettings(sandboxRaw({ backupDestination: "backups/dumps" }), {
      stack: "s",
      projectDir: "/repo",
    });
    expect(s.database.backupDestination).toBe("/repo/backups/dumps");
  });

  it("never repeats the value (it could carry credentials)", () => {
    expect(backupDestinationProblem("s3://AKIA:secret@bucket/x", "staging")).not.toMatch(/AKIA|secret@/);
  });
});

describe("secretsChecksumKey: a dedicated secret, required in every environment", () => {
  it("reaches the settings as the checksum key, whatever the secret source", () => {
    const key = String(productionRaw().secretsChecksumKey);
    expect(parseStackSettings(productionRaw(), opts).secrets.checksumKey).toBe(key);
    const gsm = productionRaw({ secretSource: "gcp-secret-manager" });
    expect(parseStackSettings(gsm, opts).secrets).toMatchObject({
      source: "gcp-secret-manager",
      checksumKey: key,
    });
  });

  it("names the key and how to make one when it is missing", () => {
    expect(messageOf(without(productionRaw(), "secretsChecksumKey"))).toMatch(
      /nova-rollout:secretsChecksumKey: required as the key of the secrets checksum annotation: .*pulumi config set --secret nova-rollout:secretsChecksumKey "\$\(openssl rand -hex 32\)"/,
    );
  });

  it("refuses a short key or one equal to an application secret without repeating the value", () => {
    const short = "short-checksum-key-value";
    expect(messageOf(productionRaw({ secretsChecksumKey: short }))).toMatch(
      /nova-rollout:secretsChecksumKey: expected a random key of at least 32 characters/,
    );
    expect(messageOf(productionRaw({ secretsChecksumKey: short }))).not.toContain(short);
    const shared = "s".repeat(48);
    const message = messageOf(productionRaw({ billingApiKey: shared, secretsChecksumKey: shared }));
    expect(message).toMatch(/secretsChecksumKey: is the value of one of the application secrets/);
    expect(message).not.toContain(shared);
  });

  it("accepts the placeholder of an encrypted value (a stack file read without the engine)", () => {
    expect(problemKeys(productionRaw({ secretsChecksumKey: "[encrypted]" }))).toEqual([]);
  });
});

describe("apiIngress: the API's public entry, and the verification aimed at it", () => {
  const ENTRY = {
    host: "api.nova.example",
    staticIpName: "nova-prod-api-ip",
    certificateName: "nova-prod-api-cert",
  };

  it("is absent unless configured, and reaches the settings with the default IngressClass", () => {
    const local = { stack: "local", projectDir: "/repo" };
    expect(parseStackSettings(sandboxRaw(), local).apiIngress).toBeUndefined();
    expect(
      parseStackSettings(productionRaw({ environment: "staging", apiIngress: undefined }), opts).apiIngress,
    ).toBeUndefined();
    expect(parseStackSettings(productionRaw({ apiIngress: JSON.stringify(ENTRY) }), opts).apiIngress).toEqual(
      {
        ...ENTRY,
        className: "gce",
      },
    );
  });

  it("is required in production, naming the platform stack's outputs and the command that sets it", () => {
    const bare = without(productionRaw(), "apiIngress");
    expect(problemKeys(bare)).toEqual(k("apiIngress"));
    expect(captureProblems(bare)).toEqual([
      {
        key: "nova-rollout:apiIngress",
        message:
          "required in production: production serves the API through its Ingress (the GKE load balancer on the platform stack's static address and managed certificate) and verifies it there; " +
          `set it with pulumi config set nova-rollout:apiIngress '{"host":"api.nova.example","staticIpName":"<platform output apiAddressName>","certificateName":"<platform output apiCertificateName>"}'`,
      },
    ]);
    // An empty value is unset (Pulumi.yaml's default): refused the same way.
    expect(problemKeys(productionRaw({ apiIngress: "" }))).toEqual(k("apiIngress"));
    expect(messageOf(bare)).not.toMatch(/\n\s+at /);
  });

  it("names a production stack without it alongside any other bad key, at once", () => {
    const message = messageOf(
      without(
        productionRaw({ workerReplicas: "1", workerBaseUrl: "https://worker.nova-prod.internal" }),
        "apiIngress",
      ),
    );
    expect(message).toMatch(/nova-rollout:apiIngress: required in production/);
    expect(message).toMatch(/nova-rollout:workerReplicas: production runs at least 2 worker replicas/);
    expect(message).toMatch(/nova-rollout:workerBaseUrl: production checks the worker/);
    expect(
      problemKeys(
        without(productionRaw({ workerReplicas: "1", workerBaseUrl: "https://w.example" }), "apiIngress"),
      ),
    ).toEqual(k("apiIngress", "workerReplicas", "workerBaseUrl"));
  });

  it("stays optional for sandbox and staging stacks", () => {
    expect(problemKeys(sandboxRaw())).toEqual([]);
    expect(problemKeys(without(productionRaw({ environment: "staging" }), "apiIngress"))).toEqual([]);
  });

  it("refuses an apiBaseUrl on another host than the Ingress serves, naming both", () => {
    const message = messageOf(
      productionRaw({ apiIngress: ENTRY, apiBaseUrl: "http://api.nova-staging.example/v1" }),
    );
    expect(message).toContain(
      "nova-rollout:apiBaseUrl: names host api.nova-staging.example, but the API's Ingress serves api.nova.example",
    );
    expect(message).toContain("set it to https://api.nova.example");
  });

  it("names a malformed entry with what it expects, alongside any other bad key", () => {
    const message = messageOf(
      productionRaw({
        apiIngress: { host: "https://api.nova.example/", staticIpName: "" },
        apiReplicas: "0",
      }),
    );
    expect(message).toMatch(/nova-rollout:apiIngress: \[host\] expected a fully qualified host name/);
    expect(message).toMatch(/nova-rollout:apiIngress: \[staticIpName\] expected the static address's name/);
    expect(message).toMatch(/nova-rollout:apiIngress: \[certificateName\] required/);
    expect(message).toMatch(/nova-rollout:apiReplicas:/);
    expect(messageOf(productionRaw({ apiIngress: { ...ENTRY, tls: true } }))).toMatch(
      /nova-rollout:apiIngress: \[tls\] unknown field; expected \{"host","staticIpName","certificateName"\}/,
    );
  });
});
