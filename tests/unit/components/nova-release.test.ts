// NovaRelease's values through the real chart: a release rewrites only what it changes. The values are
// `releaseValues` exactly as the component passes them (the patchForce annotation included), rendered by helm
// (found like the chart tests find it; a missing helm fails).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type NovaReleaseArgs,
  PATCH_FORCE_ANNOTATION,
  releaseValues,
  valuesFileFor,
} from "../../../components/nova-release";
import { CHART_DIR, type K8sObject, at, parseManifests, runHelm } from "../../chart/helm";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "nova-release-values-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const digest = (byte: string) => `sha256:${byte.repeat(32)}`;

function args(
  environment: NovaReleaseArgs["environment"],
  release: string,
  api: string,
  worker: string,
): NovaReleaseArgs {
  return {
    chartPath: CHART_DIR,
    valuesFiles: [valuesFileFor(CHART_DIR, environment)],
    namespace: "nova-prod",
    environment,
    imageRegistry: "us-docker.pkg.dev/nova-prod/nova",
    release,
    images: {
      api: { repository: "nova-rms-api", digest: api },
      worker: { repository: "nova-rms-worker", digest: worker },
    },
    scaling: {
      autoscalingEnabled: environment === "production",
      targetCpuPercent: 70,
      api: { replicas: 3, maxReplicas: 10 },
      worker: { replicas: 2, maxReplicas: 6 },
    },
    secretName: "nova-app-secrets",
    secretChecksum: "c0ffee",
  };
}

/** Renders the chart with the component's values files and `releaseValues(a)`, keyed by `kind/name`. */
function render(a: NovaReleaseArgs, file: string): Map<string, K8sObject> {
  const values = path.join(work, `${file}.json`);
  fs.writeFileSync(values, JSON.stringify(releaseValues(a)));
  const files = [...a.valuesFiles, values].flatMap((f) => ["--values", f]);
  const result = runHelm(["template", "nova", a.chartPath, "--namespace", "nova-prod", ...files]);
  expect(result.status, `${result.command}\n${result.stderr}`).toBe(0);
  return new Map(parseManifests(result.stdout).map((o) => [`${o.kind}/${o.metadata.name}`, o]));
}

const WORKLOADS = ["CronJob/nova-billing-drill", "Deployment/nova-api", "Deployment/nova-worker"];

describe.each(["production", "staging", "sandbox"] as const)("NovaRelease values in %s", (environment) => {
  it.each([
    { change: "digests only", release: "2026.11.3" },
    { change: "digests and release id", release: "2026.12.1" },
  ])("two releases ($change) render identical non-workload objects", (c) => {
    const first = render(args(environment, "2026.11.3", digest("a1"), digest("b2")), `${environment}-1`);
    const second = render(args(environment, c.release, digest("c3"), digest("d4")), `${environment}-2`);
    expect([...second.keys()].sort()).toEqual([...first.keys()].sort());
    const others = [...first.keys()].filter((id) => !WORKLOADS.includes(id));
    expect(others.length).toBeGreaterThanOrEqual(10);
    for (const id of others) expect(second.get(id), id).toEqual(first.get(id));
    for (const id of WORKLOADS) expect(second.get(id), id).not.toEqual(first.get(id));
    // The patchForce annotation is on every object, and the same on both sides: it never makes a diff itself.
    for (const o of [...first.values(), ...second.values()]) {
      expect(at(o, "metadata", "annotations", PATCH_FORCE_ANNOTATION), `${o.kind}/${o.metadata.name}`).toBe(
        "true",
      );
    }
    // The release a workload runs is on the workload and its pods.
    for (const id of WORKLOADS) {
      const o = second.get(id);
      expect(at(o, "metadata", "labels", "rollout.nova.dev/release"), id).toBe(c.release);
    }
  });
});

describe("NovaRelease with the API's public entry", () => {
  const entry = {
    host: "api.nova-rms.example",
    staticIpName: "nova-prod-api-ip",
    certificateName: "nova-prod-api-cert",
    className: "gce",
  };

  it("renders the Ingress from apiIngress, unchanged by a release, and none without it", () => {
    const without = render(args("production", "2026.11.3", digest("a1"), digest("b2")), "entry-0");
    expect([...without.keys()].filter((id) => id.startsWith("Ingress/"))).toEqual([]);
    const first = render(
      { ...args("production", "2026.11.3", digest("a1"), digest("b2")), apiIngress: entry },
      "entry-1",
    );
    const second = render(
      { ...args("production", "2026.12.1", digest("c3"), digest("d4")), apiIngress: entry },
      "entry-2",
    );
    const ingress = first.get("Ingress/nova-api");
    expect(at(ingress, "spec", "rules", 0, "host")).toBe("api.nova-rms.example");
    expect(at(ingress, "metadata", "annotations", "kubernetes.io/ingress.global-static-ip-name")).toBe(
      "nova-prod-api-ip",
    );
    expect(at(ingress, "metadata", "annotations", PATCH_FORCE_ANNOTATION)).toBe("true");
    // The public entry does not move with a release: no update, no await of the load balancer.
    expect(second.get("Ingress/nova-api")).toEqual(ingress);
    expect(second.get("Service/nova-api")).toEqual(first.get("Service/nova-api"));
  });
});
