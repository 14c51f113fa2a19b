import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { boundedInterpreter } from "../../../src/util/timeout";

describe("boundedInterpreter", () => {
  it("kills the script's whole process group past the bound and fails the step with 124", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nova-bound-"));
    const pidFile = path.join(dir, "child.pid");
    const [cmd = "", ...rest] = boundedInterpreter(1, ["/bin/bash", "-c"]);
    const started = Date.now();
    // The script starts a child that would outlive it (a stuck pg_dump), then waits.
    const r = spawnSync(cmd, [...rest, `sleep 60 & echo $! > ${pidFile}; wait`], { encoding: "utf8" });
    expect(r.status).toBe(124);
    expect(Date.now() - started).toBeLessThan(15_000);
    const child = Number(fs.readFileSync(pidFile, "utf8").trim());
    // Gone, or a zombie waiting for its new parent to reap it: either way no longer running.
    const running = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${child}/stat`, "utf8"));
      } catch {
        return false;
      }
    };
    const until = Date.now() + 3_000;
    while (running() && Date.now() < until) spawnSync("sleep", ["0.1"]);
    expect(running()).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a bound that is not a whole number of seconds", () => {
    expect(() => boundedInterpreter(0, ["/bin/bash", "-c"])).toThrow(/whole number of seconds/);
    expect(() => boundedInterpreter(1.5, ["/bin/bash", "-c"])).toThrow(/whole number of seconds/);
  });
});
