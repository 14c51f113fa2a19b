// Production is a property of the target, not of what the caller's environment or the stack's labels say: on the
// real engine, with the committed production enforcement of a production-shaped checkout (unmodified but for the
// roster the world installs), against the sandbox cluster.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_MARKER } from "../../src/contract";
import { kubectl, removeClusterMarker, SANDBOX } from "./harness";
import { ProductionWorld } from "./production-world";
import { sandboxConfig, stateResources } from "./scenario";

let world: ProductionWorld;

beforeAll(async () => {
  world = await ProductionWorld.create("nova-identity-it-", ["it-prod-dryrun", "it-staging-marked"]);
  expect(fs.existsSync(path.join(world.checkout, "dist", "index.js")), "run `npm run build` first").toBe(
    true,
  );
}, 600_000);

afterAll(async () => {
  await removeClusterMarker();
  await world?.dispose();
}, 900_000);

const kubeResources = async (stack: Awaited<ReturnType<ProductionWorld["projectStack"]>>) =>
  (await stateResources(stack)).filter((r) => /^(kubernetes|command):/.test(r.type));

describe.sequential("the program guard cannot be talked out of production", () => {
  it("plain `pulumi up` with PULUMI_NODEJS_DRY_RUN=true in the caller's environment is a real update: refused, nothing changed", async () => {
    const stack = await world.projectStack("it-prod-dryrun", world.prodConfig("it-prod-dryrun"));
    const { code, out } = await world.run(
      "pulumi",
      ["up", "--stack", "it-prod-dryrun", "--yes", "--non-interactive"],
      {
        PULUMI_NODEJS_DRY_RUN: "true",
      },
    );
    expect(code).not.toBe(0);
    expect(out).toMatch(/Stack it-prod-dryrun is production .*not ready to roll out/);
    expect(out).toMatch(/Nothing was changed\./);
    // The preview phase of `pulumi up` warns; the update phase, which the variable claimed was a preview, refuses.
    expect(out).toMatch(/Updating \(it-prod-dryrun\)/);
    expect(await kubeResources(stack)).toEqual([]);
    expect(await kubectl("get", "namespace", "it-prod-dryrun", "--ignore-not-found", "-o", "name")).toBe("");
  });

  it("a staging-labelled stack reaching a cluster marked production under another context and host name changes nothing", async () => {
    // The platform's marker on the cluster (what the platform stack writes into a production cluster).
    await kubectl(
      "-n",
      CLUSTER_MARKER.namespace,
      "create",
      "configmap",
      CLUSTER_MARKER.name,
      `--from-literal=${CLUSTER_MARKER.environmentKey}=production`,
    );
    // The same API server as the sandbox's, under a context and a host name nothing committed names.
    const kubeconfig = parseYaml(fs.readFileSync(SANDBOX.kubeconfig, "utf8")) as {
      "current-context"?: string;
      contexts: { name: string; context: { cluster: string } }[];
      clusters: { name: string; cluster: { server: string } }[];
    };
    const ctx = kubeconfig.contexts.find((c) => c.name === SANDBOX.context);
    const cluster = kubeconfig.clusters.find((c) => c.name === ctx?.context.cluster);
    expect(cluster?.cluster.server).toBe(SANDBOX.apiServer);
    if (ctx === undefined || cluster === undefined) throw new Error("sandbox kubeconfig without its context");
    ctx.name = "dev-box";
    kubeconfig["current-context"] = "dev-box";
    cluster.cluster.server = SANDBOX.apiServer.replace("127.0.0.1", "localhost");
    const file = path.join(world.checkout, "dev-box.kubeconfig");
    fs.writeFileSync(file, stringify(kubeconfig), { mode: 0o600 });

    const config = sandboxConfig({
      namespace: "it-staging-marked",
      backups: path.join(world.checkout, "backups"),
      evidenceDir: "tests/drills/logs",
      extra: { environment: "staging", kubeconfigPath: file, kubeconfigContext: "dev-box" },
    });
    const stack = await world.projectStack("it-staging-marked", config);

    const plain = await world.run("pulumi", [
      "up",
      "--stack",
      "it-staging-marked",
      "--yes",
      "--non-interactive",
    ]);
    expect(plain.code).not.toBe(0);
    expect(plain.out).toMatch(
      /Stack it-staging-marked is production \(it targets .*kube-public\/nova-platform says is production/,
    );
    expect(plain.out).toMatch(/\[environment\] Stack "it-staging-marked" targets/);
    expect(plain.out).toMatch(/Nothing was changed\./);

    const cli = await world.rollout(["up", "--stack", "it-staging-marked", "--yes"]);
    expect(cli.code).not.toBe(0);
    expect(cli.out).toMatch(/kube-public\/nova-platform says is production/);

    expect(await kubeResources(stack)).toEqual([]);
    expect(await kubectl("get", "namespace", "it-staging-marked", "--ignore-not-found", "-o", "name")).toBe(
      "",
    );
  });
});
