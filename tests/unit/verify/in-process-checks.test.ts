import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verificationAttempts } from "../../../src/verify/checks";

// `rollout verify` runs the checks in process: the same directory, variables and authorization as the program's
// probes, from the stack's decrypted config.
let alertmanager: http.Server;
let base = "";
const seen: (string | undefined)[] = [];
beforeAll(async () => {
  alertmanager = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(req.headers.authorization === "Bearer am-1" ? 200 : 401, {
      "content-type": "application/json",
    });
    res.end("[]");
  });
  await new Promise<void>((r) => alertmanager.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(alertmanager.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => alertmanager.close(() => r())));

const abort = () => new AbortController().signal;

describe("the in-process checks of `rollout verify`", () => {
  const app = fs.mkdtempSync(path.join(os.tmpdir(), "verify-app-"));
  afterAll(() => fs.rmSync(app, { recursive: true, force: true }));
  const targets = {
    apiBaseUrl: "https://api.nova.test",
    workerBaseUrl: "https://worker.nova.test",
    namespace: "nova-test",
    alertmanagerUrl: base,
    syntheticE2eCommand:
      'test "$(pwd -P)" = "$APP" && test "$NOVA_API_BASE_URL" = https://api.nova.test && test "$E2E_PW" = pw-1',
    commandDir: app,
  };

  it("run the commands in the app checkout with the API address and the secret variables", async () => {
    const checks = new Map(
      verificationAttempts(
        { ...targets, alertmanagerUrl: base },
        { commandEnvironment: { E2E_PW: "pw-1", APP: fs.realpathSync(app) } },
      ),
    );
    await expect(checks.get("synthetic-e2e")?.(abort())).resolves.toBe("command succeeded");
    const without = new Map(verificationAttempts({ ...targets, alertmanagerUrl: base }));
    await expect(without.get("synthetic-e2e")?.(abort())).rejects.toThrow(/exit code 1/);
  });

  it("send Alertmanager the stack's authorization", async () => {
    const withAuth = new Map(
      verificationAttempts(
        { ...targets, alertmanagerUrl: base },
        { alertmanagerAuthorization: "Bearer am-1" },
      ),
    );
    await expect(withAuth.get("alerts-quiet")?.(abort())).resolves.toMatch(/no alerts firing/);
    const without = new Map(verificationAttempts({ ...targets, alertmanagerUrl: base }));
    await expect(without.get("alerts-quiet")?.(abort())).rejects.toThrow(/answered 401/);
    expect(seen).toEqual(["Bearer am-1", undefined]);
  });
});
