import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, promiseOf, settle, unwrap, type MockState } from "../support/mocks";

let mocks: MockState;
let mod: typeof import("../../../components/post-deploy-verification");

beforeAll(async () => {
  mocks = installMocks();
  mod = await import("../../../components/post-deploy-verification");
});

const base = {
  probeScript: "/repo/dist/src/verify/probe.js",
  apiBaseUrl: "https://api.example/",
  workerBaseUrl: "http://worker:3001",
  namespace: "nova-test",
  alertmanagerUrl: "http://am:9093",
  budget: { attempts: 4, timeoutSeconds: 7 },
  triggers: [pulumi.output("sha256:a"), "sha256:b"],
};

describe("PostDeployVerification", () => {
  it("runs health, metrics, readyz and alert checks with retries and a timeout", async () => {
    const v = new mod.PostDeployVerification("v", base);
    const results = await promiseOf(v.results);
    expect(results).toHaveLength(4);
    await settle();
    const health = mocks.named("v-api-health");
    expect(health.inputs.create).toBe(
      "node /repo/dist/src/verify/probe.js http --name api-health --url https://api.example/v1/health --attempts 4 --timeout 7 --backoff-ms 2000",
    );
    expect(health.inputs.triggers).toEqual(["sha256:a", "sha256:b"]);
    expect(mocks.named("v-api-metrics").inputs.create).toContain("--prometheus");
    expect(mocks.named("v-worker-readyz").inputs.create).toContain("http://worker:3001/readyz");
    expect(mocks.named("v-alerts-quiet").inputs.create).toContain(
      "alerts --name alerts-quiet --url http://am:9093",
    );
  });

  it("adds the synthetic E2E and billing-drill dry run when configured", async () => {
    const v = new mod.PostDeployVerification("w", {
      ...base,
      syntheticE2eCommand: "npm run e2e",
      billingDrillDryRunCommand: "npm run drill -- --dry-run",
    });
    expect(v.checks).toHaveLength(6);
    await settle();
    expect(mocks.named("w-synthetic-e2e").inputs.create).toMatch(
      /exec --name synthetic-e2e .* -- 'npm run e2e'$/,
    );
    expect(mocks.named("w-billing-drill-dry-run").inputs.create).toMatch(/ -- 'npm run drill -- --dry-run'$/);
    // No extra environment: the commands get the probe's allow-list only.
    expect(mocks.named("w-synthetic-e2e").inputs.environment).toBeUndefined();
  });

  it("passes commandEnvironment to the exec checks only, as secrets named for redaction", async () => {
    new mod.PostDeployVerification("x", {
      ...base,
      syntheticE2eCommand: "npm run e2e",
      billingDrillDryRunCommand: "npm run drill",
      commandEnvironment: { E2E_TOKEN: "tok-123", API_KEY: pulumi.output("key-456") },
    });
    await settle();
    for (const name of ["x-synthetic-e2e", "x-billing-drill-dry-run"]) {
      const cmd = mocks.named(name);
      expect(unwrap(cmd.inputs.environment)).toEqual({
        secret: true,
        value: { E2E_TOKEN: "tok-123", API_KEY: "key-456" },
      });
      expect(cmd.inputs.create).toContain("--secret-env API_KEY --secret-env E2E_TOKEN");
      expect(JSON.stringify(cmd.inputs.create)).not.toMatch(/tok-123|key-456/);
    }
    for (const name of ["x-api-health", "x-api-metrics", "x-worker-readyz", "x-alerts-quiet"]) {
      expect(mocks.named(name).inputs.environment).toBeUndefined();
    }
  });

  it.each([
    [{}, []],
    [
      { syntheticE2eCommand: "e2e" },
      [["synthetic-e2e", { kind: "exec", command: "e2e", vars: { NOVA_API_BASE_URL: "https://a" } }]],
    ],
    [
      { billingDrillDryRunCommand: "drill", commandEnvironment: { B: "1", A: "2" } },
      [
        [
          "billing-drill-dry-run",
          { kind: "exec", command: "drill", secretEnv: ["A", "B"], vars: { NOVA_API_BASE_URL: "https://a" } },
        ],
      ],
    ],
    [
      { syntheticE2eCommand: "e2e", commandDir: "/src/nova-rms", keptFilesDir: "/ev/prod/verification" },
      [
        [
          "synthetic-e2e",
          {
            kind: "exec",
            command: "e2e",
            vars: { NOVA_API_BASE_URL: "https://a" },
            cwd: "/src/nova-rms",
            keep: ["playwright-report", "test-results"],
            keepInto: "/ev/prod/verification",
          },
        ],
      ],
    ],
  ])("verificationChecks(%j) adds %j after the four HTTP checks", (extra, execs) => {
    const checks = mod.verificationChecks({
      apiBaseUrl: "https://a",
      workerBaseUrl: "https://w",
      namespace: "nova-test",
      alertmanagerUrl: "https://am",
      ...extra,
    });
    expect(checks.slice(0, 4).map(([n]) => n)).toEqual([
      "api-health",
      "api-metrics",
      "worker-readyz",
      "alerts-quiet",
    ]);
    expect(checks.slice(4)).toEqual(execs);
  });

  it("sends each authorization to its own service's probe only, as a secret variable, never on the command line", async () => {
    new mod.PostDeployVerification("auth", {
      ...base,
      alertMatchers: ['namespace="nova-prod"', 'severity=~"critical|page"'],
      alertmanagerAuthorization: pulumi.secret("Bearer am-token-1"),
      prometheusAuthorization: "Basic cHJvbTpwdw==",
      prometheusUrl: "http://prom:9090",
      metricChecks: [
        {
          name: "traffic",
          query: "sum(up)",
          condition: "> 0",
          evaluations: 1,
          intervalSeconds: 1,
          failureLimit: 0,
        },
      ],
      syntheticE2eCommand: "npm run e2e",
      inconclusiveFails: true,
    });
    await settle();
    const alerts = mocks.named("auth-alerts-quiet");
    expect(unwrap(alerts.inputs.environment)).toEqual({
      secret: true,
      value: { NOVA_ALERTMANAGER_AUTHORIZATION: "Bearer am-token-1" },
    });
    expect(alerts.inputs.create).toContain(
      `--matcher 'namespace="nova-prod"' --matcher 'severity=~"critical|page"' --inconclusive-fails`,
    );
    const metric = mocks.named("auth-metric-traffic");
    expect(unwrap(metric.inputs.environment)).toEqual({
      secret: true,
      value: { NOVA_PROMETHEUS_AUTHORIZATION: "Basic cHJvbTpwdw==" },
    });
    for (const name of ["auth-api-health", "auth-api-metrics", "auth-worker-readyz", "auth-synthetic-e2e"]) {
      expect(mocks.named(name).inputs.environment, name).toBeUndefined();
    }
    for (const r of mocks.resources.filter((x) => x.name.startsWith("auth-"))) {
      expect(JSON.stringify(r.inputs.create ?? "")).not.toMatch(/am-token-1|cHJvbTpwdw==/);
    }
  });

  it("checks the worker through a port-forward to its Deployment, the kubeconfig a secret of that probe only", async () => {
    const { workerBaseUrl: _direct, ...forwarded } = base;
    new mod.PostDeployVerification("fwd", {
      ...forwarded,
      namespace: "nova-prod",
      kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config # kc-marker-7"),
      kubeContext: "gke_nova-prod_us-central1_nova-prod",
    });
    await settle();
    const worker = mocks.named("fwd-worker-readyz");
    expect(worker.inputs.create).toBe(
      "node /repo/dist/src/verify/probe.js forward --name worker-readyz --namespace nova-prod --resource deploy/nova-worker " +
        "--port 3001 --path /readyz --context gke_nova-prod_us-central1_nova-prod --attempts 4 --timeout 7 --backoff-ms 2000",
    );
    expect(unwrap(worker.inputs.environment)).toEqual({
      secret: true,
      value: { NOVA_KUBECONFIG: "apiVersion: v1\nkind: Config # kc-marker-7" },
    });
    for (const name of ["fwd-api-health", "fwd-api-metrics", "fwd-alerts-quiet"]) {
      expect(mocks.named(name).inputs.environment, name).toBeUndefined();
    }
    for (const r of mocks.resources.filter((x) => x.name.startsWith("fwd-"))) {
      expect(JSON.stringify(r.inputs.create ?? "")).not.toContain("kc-marker-7");
    }
  });

  it("an alerts check without inconclusiveFails tolerates an Alertmanager without an answer", async () => {
    new mod.PostDeployVerification("lax", { ...base, alertMatchers: ['namespace="sandbox"'] });
    await settle();
    const create = String(mocks.named("lax-alerts-quiet").inputs.create);
    expect(create).toContain(`--matcher 'namespace="sandbox"'`);
    expect(create).not.toContain("--inconclusive-fails");
  });

  it("refuses a budget without attempts", () => {
    expect(
      () => new mod.PostDeployVerification("z", { ...base, budget: { attempts: 0, timeoutSeconds: 1 } }),
    ).toThrow(/invalid retry budget/);
  });

  it.each([
    ['{"check":"api-health","ok":true,"attempts":2,"elapsedMs":5,"detail":"200"}', true],
    ['progress\n{"check":"api-health","ok":false,"attempts":5,"elapsedMs":9,"detail":"500"}', false],
    ["", false],
    ["not json", false],
    ['{"ok":"yes"}', false],
  ])("parses probe output %j as ok=%s (no output is never a pass)", (stdout, ok) => {
    expect(mod.parseCheckResult("api-health", stdout).ok).toBe(ok);
  });
});
