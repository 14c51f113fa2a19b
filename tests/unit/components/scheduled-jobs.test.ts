import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, Marker, settle, type MockState } from "../support/mocks";

let mocks: MockState;
let mod: typeof import("../../../components/scheduled-jobs");

beforeAll(async () => {
  mocks = installMocks();
  mod = await import("../../../components/scheduled-jobs");
});

describe("ScheduledJobs", () => {
  it("pauses each CronJob, and resumes it only after verification", async () => {
    const jobs = new mod.ScheduledJobs("jobs", {
      namespace: "nova-prod",
      cronJobs: ["nova-billing-drill", "nova-reports"],
      kubeconfig: pulumi.secret("apiVersion: v1"),
      context: "prod",
      releaseKey: ["r1"],
    });
    const verification = new Marker("verify");
    const resumed = new mod.ResumeScheduledJobs(
      "jobs",
      {
        namespace: "nova-prod",
        cronJobs: ["nova-billing-drill", "nova-reports"],
        kubeconfig: pulumi.secret("apiVersion: v1"),
        context: "prod",
        releaseKey: ["r1"],
        pauses: jobs.pauses,
      },
      { dependsOn: [verification] },
    );
    expect(resumed.resumes).toHaveLength(2);
    await settle();
    const pause = mocks.named("jobs-pause-nova-billing-drill");
    expect(pause.inputs.create).toContain(
      `patch cronjob nova-billing-drill --type=merge --field-manager=nova-rollout-suspend -p '{"spec":{"suspend":true}}'`,
    );
    expect(pause.inputs.create).toContain("--context prod --namespace nova-prod");
    const resume = mocks.named("jobs-resume-nova-reports");
    expect(resume.inputs.create).toContain(`'{"spec":{"suspend":false}}'`);
    // Each resume waits for the verification and for its own pause, and runs again whenever that pause ran again.
    expect(resume.dependsOn).toEqual(expect.arrayContaining(["verify", "jobs-pause-nova-reports"]));
    expect(resume.inputs.triggers).toEqual(["r1", "jobs-pause-nova-reports-id"]);
  });

  it("bounds every kubectl call: the committed default, or the stack's kubectlTimeoutSeconds", async () => {
    new mod.ScheduledJobs("bounded", {
      namespace: "nova-prod",
      cronJobs: ["nova-billing-drill"],
      kubeconfig: pulumi.secret("apiVersion: v1"),
      releaseKey: ["r1"],
      timeoutSeconds: 45,
    });
    new mod.ScheduledJobs("defaulted", {
      namespace: "nova-prod",
      cronJobs: ["nova-billing-drill"],
      kubeconfig: pulumi.secret("apiVersion: v1"),
      releaseKey: ["r1"],
    });
    await settle();
    const bounded = String(mocks.named("bounded-pause-nova-billing-drill").inputs.create);
    expect(bounded).toMatch(/^k\(\) \{ bounded 45 kubectl --request-timeout=45s /m);
    expect(bounded).toContain('timeout --kill-after=10 "$secs" "$@"');
    expect(String(mocks.named("defaulted-pause-nova-billing-drill").inputs.create)).toMatch(
      /^k\(\) \{ bounded 120 kubectl --request-timeout=120s /m,
    );
    // Every kubectl call of the script goes through the bounded function.
    expect(bounded.split("\n").filter((l) => /(^|[^-])kubectl /.test(l) && !l.startsWith("k()"))).toEqual([]);
  });

  it("refuses a timeout that is not a whole number of seconds", () => {
    expect(
      () =>
        new mod.ScheduledJobs("bad-timeout", {
          namespace: "ns",
          cronJobs: ["a"],
          kubeconfig: "x",
          releaseKey: [],
          timeoutSeconds: 0,
        }),
    ).toThrow(/invalid arguments/);
  });

  it("a kubectl that never answers fails the step once the bound passes, naming the timeout", () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "nova-kubectl-"));
    fs.writeFileSync(path.join(bin, "kubectl"), "#!/bin/sh\nexec sleep 60\n", { mode: 0o755 });
    const started = Date.now();
    const run = spawnSync("sh", ["-c", mod.suspendScript("ns", "nova-billing-drill", true, undefined, 1)], {
      env: { PATH: `${bin}:/usr/bin:/bin`, NOVA_KUBECONFIG: "apiVersion: v1" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.status).toBe(124);
    expect(run.stderr).toMatch(/kubectl did not finish within 1s \(timed out\)/);
    fs.rmSync(bin, { recursive: true, force: true });
  });

  it("refuses resumes that do not pair with the pauses", () => {
    expect(
      () =>
        new mod.ResumeScheduledJobs("odd", {
          namespace: "ns",
          cronJobs: ["a", "b"],
          kubeconfig: "x",
          releaseKey: [],
          pauses: [new Marker("only-one")],
        }),
    ).toThrow(/one pause per CronJob/);
  });

  it.each([true, false])(
    "patches spec.suspend (suspend=%s) as a field manager the kubernetes provider never adopts",
    (suspend) => {
      // pulumi-kubernetes' server-side apply first takes over the fields of these managers (matched by prefix, for
      // Update operations), then applies the chart without `suspend`: a pause made by one of them is undone mid-release.
      const adopted = ["kubectl", "before-first-apply", "pulumi-kubernetes", "pulumi-resource-kubernetes"];
      const manager = /--field-manager=(\S+)/.exec(
        mod.suspendScript("ns", "nova-billing-drill", suspend),
      )?.[1];
      expect(manager).toBe("nova-rollout-suspend");
      expect(adopted.filter((prefix) => manager?.startsWith(prefix))).toEqual([]);
    },
  );

  it("refuses a CronJob listed twice", () => {
    expect(
      () =>
        new mod.ScheduledJobs("dupe", {
          namespace: "ns",
          cronJobs: ["a", "a"],
          kubeconfig: "x",
          releaseKey: [],
        }),
    ).toThrow(/duplicate CronJob names/);
  });

  it.each([
    [true, "paused"],
    [false, "resumed"],
  ])("writes a script that tolerates an absent CronJob (suspend=%s)", (suspend, verb) => {
    const script = mod.suspendScript("ns", "job's", suspend);
    expect(script).toContain("--ignore-not-found -o name");
    // kubectl's own failure stops the script (set -e applies to an assignment, not to a test's substitution).
    expect(script).toMatch(/^found="\$\(k get cronjob .* --ignore-not-found -o name\)"$/m);
    expect(script).toContain(`cronjob/job's ${verb}`);
    expect(script).toContain(`'job'"'"'s'`);
    expect(script).not.toContain("--context");
  });

  it("fails when kubectl fails, and reports an absent CronJob only when kubectl says so", () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "nova-kubectl-"));
    const run = (kubectl: string) => {
      fs.writeFileSync(path.join(bin, "kubectl"), `#!/bin/sh\n${kubectl}\n`, { mode: 0o755 });
      return spawnSync("sh", ["-c", mod.suspendScript("ns", "nova-billing-drill", true)], {
        env: { PATH: `${bin}:/usr/bin:/bin`, NOVA_KUBECONFIG: "apiVersion: v1" },
        encoding: "utf8",
      });
    };
    const denied = run('echo "error: forbidden" >&2; exit 1');
    expect(denied.status).not.toBe(0);
    expect(denied.stdout).not.toMatch(/not found/);
    const absent = run("exit 0"); // --ignore-not-found: nothing printed, exit 0
    expect(absent.status).toBe(0);
    expect(absent.stdout).toMatch(/cronjob\/nova-billing-drill not found in ns: nothing to do/);
    fs.rmSync(bin, { recursive: true, force: true });
  });
});
