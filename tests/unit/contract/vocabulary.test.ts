import { describe, expect, it } from "vitest";
import {
  DIGEST_PATTERN,
  K8S_PROVIDER_NAME,
  NAMESPACE_RESOURCE_NAME,
  pauseCommandName,
  resumeCommandName,
  serviceOfRepository,
  VERIFICATION_RESOURCE_PREFIX,
} from "../../../src/contract";
import {
  REQUIRED_VERIFICATION_SUFFIXES,
  verificationAttempts,
  verificationSpecs,
} from "../../../src/verify/checks";

const targets = {
  apiBaseUrl: "http://api.test/",
  workerBaseUrl: "http://worker.test:3001",
  namespace: "nova-test",
  alertmanagerUrl: "http://am.test:9093",
};

describe("src/contract", () => {
  it("names the resources the docs, the policies and the CLI refer to", () => {
    expect(K8S_PROVIDER_NAME).toBe("nova-k8s");
    expect(NAMESPACE_RESOURCE_NAME).toBe("nova-namespace");
    expect(VERIFICATION_RESOURCE_PREFIX).toBe("nova-verify-");
    expect(pauseCommandName("nova-jobs", "nova-billing-drill")).toBe("nova-jobs-pause-nova-billing-drill");
    expect(resumeCommandName("nova-jobs", "nova-billing-drill")).toBe("nova-jobs-resume-nova-billing-drill");
  });

  it("maps repositories to services and recognises digests", () => {
    expect(serviceOfRepository("nova-rms-api")).toBe("api");
    expect(serviceOfRepository("nova-rms-worker")).toBe("worker");
    expect(serviceOfRepository("postgres")).toBeUndefined();
    expect(DIGEST_PATTERN.test(`sha256:${"ab".repeat(32)}`)).toBe(true);
    expect(DIGEST_PATTERN.test(`sha256:${"AB".repeat(32)}`)).toBe(false);
  });
});

describe("src/verify/checks", () => {
  it("defines the checks once, in run order, for the program and the CLI", () => {
    const all = { ...targets, syntheticE2eCommand: "e2e", billingDrillDryRunCommand: "drill" };
    const names = [
      "api-health",
      "api-metrics",
      "worker-readyz",
      "alerts-quiet",
      "synthetic-e2e",
      "billing-drill-dry-run",
    ];
    expect(verificationSpecs(all).map(([n]) => n)).toEqual(names);
    expect(verificationAttempts(all).map(([n]) => n)).toEqual(names);
    expect(verificationAttempts(targets).map(([n]) => n)).toEqual(names.slice(0, 4));
    expect(verificationSpecs(targets)).toEqual([
      ["api-health", { kind: "http", url: "http://api.test/v1/health" }],
      ["api-metrics", { kind: "http", url: "http://api.test/v1/metrics", prometheus: true }],
      ["worker-readyz", { kind: "http", url: "http://worker.test:3001/readyz" }],
      ["alerts-quiet", { kind: "alerts", url: "http://am.test:9093" }],
    ]);
  });

  it("gives the policy pack the suffixes of the checks it requires", () => {
    expect(REQUIRED_VERIFICATION_SUFFIXES).toEqual(["-api-health", "-worker-readyz", "-alerts-quiet"]);
  });
});
