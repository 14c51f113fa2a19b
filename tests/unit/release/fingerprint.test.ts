import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { treeFingerprint, workloadFingerprint } from "../../../src/release/fingerprint";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "nova-fingerprint-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const chart = path.resolve(__dirname, "../../../charts/nova-stack");

function copyChart(name: string): string {
  const dir = path.join(root, name, "nova-stack");
  fs.cpSync(chart, dir, { recursive: true });
  return dir;
}

describe("workload fingerprints", () => {
  it("are the same for the same chart in two checkouts at different paths", () => {
    expect(treeFingerprint(copyChart("a"))).toBe(treeFingerprint(copyChart("b/deeper")));
  });

  it("change when any chart file changes", () => {
    const dir = copyChart("c");
    const before = treeFingerprint(dir);
    fs.appendFileSync(path.join(dir, "values.yaml"), "\n# tweak\n");
    expect(treeFingerprint(dir)).not.toBe(before);
  });

  it.each([
    ["api replicas", { apiReplicas: 3 }],
    ["autoscaling", { autoscalingEnabled: true }],
    ["the target CPU", { targetCpuPercent: 60 }],
  ])("change when %s change", (_what, change) => {
    const scaling = { apiReplicas: 2, workerReplicas: 2, autoscalingEnabled: false, targetCpuPercent: 70 };
    expect(workloadFingerprint("c", { scaling: { ...scaling, ...change } })).not.toBe(
      workloadFingerprint("c", { scaling }),
    );
  });

  it("do not depend on key order", () => {
    expect(workloadFingerprint("c", { a: 1, b: 2 })).toBe(workloadFingerprint("c", { b: 2, a: 1 }));
  });
});
