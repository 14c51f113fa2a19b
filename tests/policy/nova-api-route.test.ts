import { describe, expect, it } from "vitest";
import { apiRoute } from "../../policy/policies";
import { enforcementFor, fileConfig, runResourcePolicy } from "./harness";
import { API_HOST, PRODUCTION_API_ROUTE, SANDBOX_PROJECT } from "./fixtures";
import { usePolicyTestContext } from "./support";

const fixture = usePolicyTestContext();

const HOST = API_HOST;
const ENTRY = PRODUCTION_API_ROUTE;
/** extraConfig that leaves the API's public entry out of the fixture's stack file. */
const NO_ENTRY = { "nova-rollout:apiIngress": undefined };
const SET_ENTRY = (host: string) =>
  `pulumi config set nova-rollout:apiIngress '{"host":"${host}","staticIpName":"<platform output apiAddressName>","certificateName":"<platform output apiCertificateName>"}' (the platform stack's static address and managed certificate), then re-run pulumi preview`;
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";

/** The Ingress the chart renders for the API (templates/ingress-api.yaml), for `host`. */
function apiIngress(host: string, service = "nova-api"): Record<string, unknown> {
  return {
    metadata: { name: "nova-api", namespace: "nova-prod" },
    spec: {
      ingressClassName: "gce",
      rules: [
        {
          host,
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: service, port: { name: "http" } } },
              },
            ],
          },
        },
      ],
    },
  };
}

function run(
  file: "production" | "staging" | "local",
  type = "pulumi:pulumi:Stack",
  props: Record<string, unknown> = {},
) {
  return runResourcePolicy(apiRoute, {
    type,
    stack: fixture.project.stack,
    props,
    config: fileConfig(apiRoute, file, { projectDir: fixture.project.dir }),
  });
}

describe("nova-api-route", () => {
  it("is mandatory for production and advisory elsewhere", () => {
    expect(enforcementFor(apiRoute, "production")).toBe("mandatory");
    expect(enforcementFor(apiRoute, "staging")).toBe("advisory");
    expect(enforcementFor(apiRoute, "local")).toBe("advisory");
  });

  it("passes a production stack whose apiBaseUrl names the host its Ingress serves", async () => {
    fixture.remakeProject({ extraConfig: ENTRY });
    expect((await run("production")).messages).toEqual([]);
    expect((await run("production", INGRESS, apiIngress(HOST))).messages).toEqual([]);
  });

  it("refuses a production stack that configures no apiIngress, naming the command that sets it", async () => {
    fixture.remakeProject({ extraConfig: NO_ENTRY });
    expect((await run("production")).messages).toEqual([
      `Stack production (production) configures no public entry for the API (nova-rollout:apiIngress); threshold: production serves the API through its Ingress (the GKE load balancer on the platform stack's static address and managed certificate), and its verification probes it there. Fix: ${SET_ENTRY(HOST)}`,
    ]);
    // Mandatory under the production enforcement, and still reported (advisory) under the others'.
    expect((await run("staging")).messages).toHaveLength(1);
    expect((await run("local")).messages).toHaveLength(1);
    // Any gated type: the provider refuses it too.
    expect((await run("production", "pulumi:providers:kubernetes")).messages).toHaveLength(1);
  });

  it("refuses a stack aimed at a protected target without apiIngress, whatever its environment label", async () => {
    fixture.remakeProject({
      environment: "staging",
      extraConfig: { "nova-rollout:namespace": "nova-prod", "nova-rollout:apiBaseUrl": `https://${HOST}` },
    });
    expect((await run("production")).messages).toEqual([
      expect.stringMatching(
        /^Stack production \(production: targets namespace nova-prod\) configures no public entry for the API \(nova-rollout:apiIngress\)/,
      ),
    ]);
  });

  it("names a placeholder host when the stack names no apiBaseUrl host either", async () => {
    fixture.remakeProject({ extraConfig: { ...NO_ENTRY, "nova-rollout:apiBaseUrl": undefined } });
    expect((await run("production")).messages).toEqual([
      expect.stringContaining(`Fix: ${SET_ENTRY("api…")}`),
    ]);
  });

  it("passes staging and sandbox stacks without apiIngress", async () => {
    fixture.remakeProject({
      environment: "staging",
      extraConfig: { "nova-rollout:apiBaseUrl": "http://api.nova-staging.local" },
    });
    for (const file of ["production", "staging", "local"] as const) {
      expect((await run(file)).messages).toEqual([]);
    }
    fixture.remakeProject(SANDBOX_PROJECT);
    for (const file of ["production", "staging", "local"] as const) {
      expect((await run(file)).messages).toEqual([]);
    }
  });

  it("refuses a production stack whose apiBaseUrl names another host than its Ingress, saying what to set", async () => {
    fixture.remakeProject({
      extraConfig: { ...ENTRY, "nova-rollout:apiBaseUrl": "https://api.old.example" },
    });
    expect((await run("production")).messages).toEqual([
      `Stack production (production): nova-rollout:apiBaseUrl names host api.old.example, but the API's Ingress serves ${HOST}; threshold: the verification probes the host the stack routes to. Fix: pulumi config set nova-rollout:apiBaseUrl https://${HOST} (the host the API's Ingress serves), then re-run pulumi preview`,
    ]);
  });

  it("refuses a rendered API Ingress that does not serve the apiBaseUrl host, whatever the config says", async () => {
    // The program could render a route the config does not describe (an edited chart or program): the object decides.
    fixture.remakeProject({ extraConfig: ENTRY });
    const out = await run("production", INGRESS, apiIngress("api.elsewhere.example"));
    expect(out.messages).toEqual([
      expect.stringMatching(
        /^Ingress nova-prod\/nova-api \(production: targets namespace nova-prod\) routes the API for \[api\.elsewhere\.example\], but nova-rollout:apiBaseUrl names host api\.nova-rms\.example; threshold: the verification probes a host this Ingress serves\. Fix: pulumi config set nova-rollout:apiBaseUrl https:\/\/api\.elsewhere\.example/,
      ),
    ]);
  });

  it("leaves Ingresses of other Services alone", async () => {
    fixture.remakeProject({ extraConfig: ENTRY });
    expect((await run("production", INGRESS, apiIngress("grafana.example", "grafana"))).messages).toEqual([]);
  });

  it("refuses an API Ingress when the stack names no apiBaseUrl host (fail closed)", async () => {
    fixture.remakeProject({ extraConfig: { "nova-rollout:apiBaseUrl": "not a url" } });
    expect((await run("production", INGRESS, apiIngress(HOST))).messages).toEqual([
      expect.stringMatching(
        /routes the API for \[api\.nova-rms\.example\], but nova-rollout:apiBaseUrl names no host/,
      ),
    ]);
  });

  it("reports a mismatch on the sandbox stack as advisory under the local enforcement, and leaves it alone under production's", async () => {
    fixture.remakeProject({
      ...SANDBOX_PROJECT,
      extraConfig: {
        ...SANDBOX_PROJECT.extraConfig,
        ...ENTRY,
        "nova-rollout:apiBaseUrl": "http://127.0.0.1:38080",
      },
    });
    expect((await run("local")).messages).toEqual([
      expect.stringMatching(/^Stack local \(sandbox\): nova-rollout:apiBaseUrl names host 127\.0\.0\.1/),
    ]);
    expect((await run("production")).messages).toEqual([]);
  });

  it("checks the gated types and Ingresses only", async () => {
    fixture.remakeProject({
      extraConfig: { ...ENTRY, "nova-rollout:apiBaseUrl": "https://api.old.example" },
    });
    expect((await run("production", "kubernetes:apps/v1:Deployment")).messages).toEqual([]);
    expect((await run("production", "pulumi:providers:kubernetes")).messages).toHaveLength(1);
  });
});
