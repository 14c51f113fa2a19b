// The whole program on a sandbox stack under mocks: its config set as the engine would (secrets marked), the mocks
// installed, the program loaded and settled. Shared by the tests that read what the program registers.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { standinKubeconfig } from "../../support/kube-api-standin";
import { sandboxRaw } from "./config-fixtures";
import { installMocks, promiseOf, settle, type MockState } from "./mocks";

const SECRET_CONFIG = [
  "databaseUrl",
  "jwtSigningKey",
  "billingApiKey",
  "rehearsalDatabaseUrl",
  "secretsChecksumKey",
];

export async function loadSandboxProgram(): Promise<{
  mocks: MockState;
  program: typeof import("../../../index");
}> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-kube-"));
  const kubeconfig = path.join(dir, "kubeconfig");
  // The layer's stand-in API server (an unmarked cluster), as the sandbox's kubeconfig reaches the sandbox cluster.
  fs.writeFileSync(kubeconfig, standinKubeconfig());
  const raw = sandboxRaw({
    kubeconfigPath: kubeconfig,
    imageResolver: "registry-api",
    syntheticE2eCommand: "true",
    ciSchedules: '["nova-rms/nova-rms:nightly-e2e.yml"]',
  });
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(raw).map(([k, v]) => [`nova-rollout:${k}`, String(v)])),
    SECRET_CONFIG.map((k) => `nova-rollout:${k}`),
  );
  const mocks = installMocks({ stack: "local" });
  const program = await import("../../../index");
  await promiseOf(program.verificationResults);
  await settle();
  return { mocks, program };
}
