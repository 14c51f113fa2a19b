// The sandbox's stand-in endpoints (tools/sandbox/standins.mjs) started for a unit test on free loopback ports, so
// the probes are tested against the same stand-ins the engine tests use, without the sandbox.
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";

const SCRIPT = path.resolve(__dirname, "..", "..", "..", "tools", "sandbox", "standins.mjs");
const NAMES = ["api", "worker", "alertmanager", "prometheus", "webhook", "grafana"] as const;

/** A free loopback port (listened on and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningStandins {
  /** Base URL of each stand-in (`http://127.0.0.1:<port>`). */
  readonly urls: Readonly<Record<(typeof NAMES)[number], string>>;
  readonly stop: () => void;
}

/** Starts the stand-ins on free ports and waits until they answer (at most 10 s). */
export async function startStandins(): Promise<RunningStandins> {
  const ports = await Promise.all(NAMES.map(() => freePort()));
  const env: Record<string, string> = { PATH: process.env.PATH ?? "" };
  NAMES.forEach((name, i) => (env[`NOVA_STANDIN_${name.toUpperCase()}_PORT`] = String(ports[i])));
  const child = spawn(process.execPath, [SCRIPT], { stdio: "ignore", env });
  const urls = Object.fromEntries(NAMES.map((name, i) => [name, `http://127.0.0.1:${ports[i]}`])) as Record<
    (typeof NAMES)[number],
    string
  >;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await fetch(`${urls.api}/__mode`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error("the stand-ins did not start");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { urls, stop: () => child.kill() };
}
