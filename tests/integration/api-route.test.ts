// The API's public entry in production shape: a production-shaped checkout of this repository (compiled program,
// chart, committed policy configs), a ready release aimed at the sandbox cluster, the committed *production*
// enforcement and the real engine. The stack configures the API's Ingress; the pack's nova-api-route judges every
// Ingress the chart renders towards the API, so an edited chart that routes the API under another host is refused
// before anything is written, as is a config whose apiBaseUrl names another host or that drops the Ingress (both
// refused by the program itself).
// An update then renders the Ingress; the sandbox's load balancer (tools/sandbox/ingress-gateway.mjs, GKE's for class
// gce) publishes its address in the Ingress's status and routes the host to the API's Service through a port-forward
// made through the API server. The API checks ask https://<host>/v1/health at that address, the certificate verified
// for the host; an Ingress that no longer routes the host fails them although the API itself answers.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../cli/errors";
import { kubectl, SANDBOX, sandboxImageDigests } from "./harness";
import { ProductionWorld } from "./production-world";
import type { EvidenceProject } from "./scenario";

const STACK = "it-prod-route";
const HOST = "api.it-prod-route.nova-rms.example";
const INGRESS = {
  host: HOST,
  staticIpName: "nova-it-route-api-ip",
  certificateName: "nova-it-route-api-cert",
};
let world: ProductionWorld;
let stack: Stack;
let evidence: EvidenceProject;

const rolloutUp = () =>
  world.rollout(["up", "--stack", STACK, "--no-auto-rollback"], {
    NOVA_OPERATOR: world.sre.name,
    NOVA_SSH_KEY_FILE: world.sre.keyFile,
  });

const results = async () =>
  ((await stack.outputs())["verificationResults"]?.value ?? []) as {
    check: string;
    ok: boolean;
    detail: string;
  }[];

/** The preview's whole output, and whether it was refused. */
async function preview(): Promise<{ refused: boolean; text: string }> {
  const lines: string[] = [];
  try {
    await stack.preview({ ...world.committed("production"), onOutput: (s) => void lines.push(s) });
    return { refused: false, text: lines.join("") };
  } catch (err) {
    return { refused: true, text: `${lines.join("")}\n${err instanceof Error ? err.message : String(err)}` };
  }
}

/** An Ingress an edited chart adds: every path of another host to the API's Service. */
const MIRROR = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: nova-api-mirror
  namespace: {{ .Release.Namespace }}
spec:
  ingressClassName: gce
  rules:
    - host: api.nova-rms.mirror.example
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: nova-api
                port:
                  name: http
`;

beforeAll(async () => {
  world = await ProductionWorld.create("nova-prod-route-it-", [STACK]);
  stack = await world.projectStack(
    STACK,
    world.prodConfig(STACK, { apiIngress: JSON.stringify(INGRESS), apiBaseUrl: `https://${HOST}` }),
  );
  evidence = world.evidence(STACK);
  await world.ready(evidence, "sandbox", sandboxImageDigests());
}, 600_000);

afterAll(async () => {
  await world?.dispose();
}, 600_000);

describe.sequential("the API's route, committed production enforcement", () => {
  it("a ready release whose Ingress serves the apiBaseUrl host passes the route policy; the plan holds the Ingress", async () => {
    const { refused, text } = await preview();
    expect(refused, text).toBe(false);
    expect(text).toMatch(
      /kubernetes:networking\.k8s\.io\/v1:Ingress\s+nova-release:it-prod-route\/nova-api\b/,
    );
    expect(text).not.toContain("nova-api-route");
  });

  it("a chart edited to route the API under another host is refused by nova-api-route (mandatory); nothing is written", async () => {
    const extra = path.join(world.checkout, "charts", "nova-stack", "templates", "ingress-mirror.yaml");
    fs.writeFileSync(extra, MIRROR);
    try {
      const { refused, text } = await preview();
      expect(refused).toBe(true);
      expect(text).toMatch(/\[mandatory\]\s+nova-api-route/);
      // The refusal names the Ingress's host it will not have the verification miss.
      expect(text.slice(text.search(/\[mandatory\]\s+nova-api-route/))).toContain(
        "api.nova-rms.mirror.example",
      );
      expect(await kubectl("get", "ingress", "-n", STACK, "-o", "name").catch(() => "")).toBe("");
    } finally {
      fs.rmSync(extra);
    }
  });

  it("an apiBaseUrl on another host than the Ingress serves is refused by the program, naming the fix", async () => {
    await stack.setConfig("nova-rollout:apiBaseUrl", { value: "https://api.nova-rms.example" });
    try {
      const { refused, text } = await preview();
      expect(refused).toBe(true);
      expect(text).toContain(`but the API's Ingress serves ${HOST}`);
      expect(text).toContain(`set it to https://${HOST}`);
    } finally {
      await stack.setConfig("nova-rollout:apiBaseUrl", { value: `https://${HOST}` });
    }
  });

  it("a production stack whose config drops the API's Ingress is refused, naming the command that sets it; nothing is written", async () => {
    await stack.removeConfig("nova-rollout:apiIngress");
    try {
      const { refused, text } = await preview();
      expect(refused).toBe(true);
      expect(text).toContain("apiIngress: required in production");
      expect(text).toContain(
        `pulumi config set nova-rollout:apiIngress '{"host":"${HOST}","staticIpName":"<platform output apiAddressName>","certificateName":"<platform output apiCertificateName>"}'`,
      );
      expect(await kubectl("get", "ingress,deployment", "-n", STACK, "-o", "name").catch(() => "")).toBe("");
    } finally {
      await stack.setConfig("nova-rollout:apiIngress", { value: JSON.stringify(INGRESS) });
    }
  });

  it("an update renders the Ingress; its load balancer's address is published and the API checks go through it", async () => {
    const up = await rolloutUp();
    expect(up.code, up.out).toBe(0);
    const status = JSON.parse(
      await kubectl(
        "get",
        "ingress",
        "nova-api",
        "-n",
        STACK,
        "-o",
        "jsonpath={.status.loadBalancer.ingress}",
      ),
    ) as unknown;
    expect(status).toEqual([{ ip: "127.0.0.1", ports: [{ port: 38443, protocol: "TCP" }] }]);
    const byCheck = new Map((await results()).map((r) => [r.check, r]));
    const via = `(through Ingress nova-api in ${STACK} at ${SANDBOX.ingress.address})`;
    expect(byCheck.get("api-health")).toMatchObject({
      ok: true,
      detail: `https://${HOST}/v1/health answered 200 ${via}`,
    });
    expect(byCheck.get("api-metrics")).toMatchObject({
      ok: true,
      detail: `https://${HOST}/v1/metrics answered 200 ${via}`,
    });
    // The certificate is verified for the host: a machine that does not trust the load balancer's CA fails the check.
    const untrusted = await world.rollout(["verify", "--stack", STACK], {}, ["NODE_EXTRA_CA_CERTS"]);
    expect(untrusted.code, untrusted.out).toBe(EXIT.verificationFailed);
    expect(untrusted.out).toMatch(/api-health.*(certificate|self-signed)/);
  }, 900_000);

  it("an Ingress edited to route another host fails the API checks (the load balancer's 404), though the API answers", async () => {
    await kubectl(
      "patch",
      "ingress",
      "nova-api",
      "-n",
      STACK,
      "--type=json",
      "-p",
      '[{"op":"replace","path":"/spec/rules/0/host","value":"elsewhere.nova-rms.example"}]',
    );
    // The load balancer picks up the change within its sync interval.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await fetch(`${SANDBOX.standins.api}/v1/health`)).status).toBe(200);
    const verify = await world.rollout(["verify", "--stack", STACK]);
    expect(verify.code, verify.out).toBe(EXIT.verificationFailed);
    expect(verify.out).toContain(
      `https://${HOST}/v1/health answered 404 (through Ingress nova-api in ${STACK} at ${SANDBOX.ingress.address})`,
    );
    expect(verify.out).toMatch(/pass {2}worker-readyz/);
  }, 900_000);
});
