import * as http from "node:http";
import { type AddressInfo } from "node:net";
import { afterAll, beforeAll, bench, describe } from "vitest";
import { httpAttempt, withRetries } from "../src/verify/probe";

// Baseline: one bare fetch of the same loopback endpoint; measured: the probe with its retry/timeout wrapper.
let server: http.Server;
let url = "";

beforeAll(async () => {
  server = http.createServer((_req, res) => res.end("nova_up 1\n"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("post-deploy probe overhead", () => {
  bench("baseline: bare fetch", async () => {
    await (await fetch(url)).text();
  });
  bench("probe: withRetries(httpAttempt, prometheus check)", async () => {
    await withRetries("bench", httpAttempt(url, true), { attempts: 1, timeoutMs: 5000, backoffMs: 1 });
  });
});
