// Bundles the Pulumi program and the policy pack into one file each (with source maps), so that starting either
// reads a handful of files instead of hundreds of modules. Run by `npm run build` after `tsc` (which type-checks and
// still emits dist/ for the CLI). See docs/architecture.md, "Build".
//
//   dist/program.js                    the program (Pulumi.yaml `main`)
//   dist/cluster-marker-read.js        the cluster marker reader the program spawns (beside it, as it looks for it)
//   dist/policy/pack.js                the policy pack (policy/package.json `main`)
//   dist/policy/cluster-marker-read.js the same reader, beside the pack
//   dist/platform-policy/pack.js       the platform stack's pack (platform/policy/package.json `main`)
//   dist/cli/index.js                  the rollout CLI, over tsc's output of the same file (its other modules are
//                                      then unused; `dist/src/evidence/cluster-marker-read.js` is still the reader
//                                      the CLI spawns)
//
// Files stay where the code expects them relative to `__dirname`: the program's project directory is the parent of
// `dist/`, the pack searches upward from `dist/policy/` for Pulumi.yaml, the chart is read from the project directory.
import { build } from "esbuild";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Modules of the SDK's closure serializer (`pulumi.runtime.serializeFunction`, for function-serializing resources)
 * that `@pulumi/pulumi` loads at start: `typescript` (~9 MB, the largest single cost of loading the SDK) and
 * `@npmcli/arborist`. The policy pack never serializes a function, so its bundle gets a stand-in that fails loudly
 * if anything ever uses it.
 */
const CLOSURE_ONLY = ["typescript", "@npmcli/arborist"];

/** esbuild plugin: each of `names` resolves to a module whose every use throws a clear error. */
function standIns(names) {
  const escape = (n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const filter = new RegExp(`^(${names.map(escape).join("|")})$`);
  return {
    name: "stand-ins",
    setup(b) {
      b.onResolve({ filter }, (args) => ({ path: args.path, namespace: "stand-in" }));
      b.onLoad({ filter: /.*/, namespace: "stand-in" }, (args) => ({
        loader: "js",
        contents: `const name = ${JSON.stringify(args.path)};
module.exports = new Proxy({}, {
  get(_, key) {
    if (typeof key === "symbol" || key === "__esModule" || key === "then") return undefined;
    throw new Error(name + " is not part of the policy pack bundle (scripts/bundle.mjs); it was asked for " + String(key));
  },
  ownKeys: () => [],
});
`,
      }));
    },
  };
}

/**
 * Left to Node's module loader, and why:
 * - in the program, `@pulumi/pulumi` (every subpath): the language host's harness (`@pulumi/pulumi/cmd/run`) loads
 *   the whole SDK from node_modules before our file and keeps the engine connection, config and resource state in
 *   that copy; the program must register its resources through the same SDK, and a bundled copy would be loaded
 *   a second time on top of it.
 * - in the program, `@pulumi/kubernetes` and `@pulumi/command`: resource SDKs that load each resource module on
 *   first use (a bundle would parse every Kubernetes type at start: 15 MB instead of ~120 small modules).
 * - everywhere, `@pulumi/gcp`: loaded only inside the GKE / Secret Manager / Artifact Registry branches
 *   (src/util/cloud-sdks.ts); bundled, every start would parse it (86 MB).
 * The pack bundles `@pulumi/policy` and the `@pulumi/pulumi` it uses: its harness
 * (`@pulumi/pulumi/cmd/run-policy-pack`) loads only the SDK's settings and logging, the pack's analyzer server and
 * the SDK's serialization run from the bundle (the SDK keeps its runtime state in process globals, shared by both
 * copies).
 */
const PROGRAM_EXTERNAL = ["@pulumi/*"];
const PACK_EXTERNAL = ["@pulumi/kubernetes", "@pulumi/command", "@pulumi/gcp"];

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // Source maps for stack traces (the SDK's harness registers source-map-support); positions only.
  sourcemap: "linked",
  sourcesContent: false,
  // Class and function names survive (errors are told apart by name; no renaming on collisions).
  keepNames: true,
  logLevel: "warning",
  // The tsc build's settings (target, module interop) apply to the sources as well.
  tsconfig: join(root, "tsconfig.build.json"),
  metafile: true,
};

/**
 * The CLI leaves the whole Pulumi SDK to Node's loader: it loads the Automation API only on first use (cli/engine.ts)
 * and `@pulumi/gcp` only for a GKE stack, so bundling either would make every start parse it.
 */
const CLI_EXTERNAL = ["@pulumi/*"];

const bundles = [
  { entryPoints: ["index.ts"], outfile: "dist/program.js", external: PROGRAM_EXTERNAL },
  {
    entryPoints: ["src/evidence/cluster-marker-read.ts"],
    outfile: "dist/cluster-marker-read.js",
    external: PROGRAM_EXTERNAL,
  },
  {
    entryPoints: ["policy/index.ts"],
    outfile: "dist/policy/pack.js",
    external: PACK_EXTERNAL,
    plugins: [standIns(CLOSURE_ONLY)],
  },
  {
    entryPoints: ["src/evidence/cluster-marker-read.ts"],
    outfile: "dist/policy/cluster-marker-read.js",
    external: PROGRAM_EXTERNAL,
  },
  {
    entryPoints: ["platform/policy/index.ts"],
    outfile: "dist/platform-policy/pack.js",
    external: PACK_EXTERNAL,
    plugins: [standIns(CLOSURE_ONLY)],
  },
  { entryPoints: ["cli/index.ts"], outfile: "dist/cli/index.js", external: CLI_EXTERNAL },
];

const started = Date.now();
for (const b of bundles) {
  mkdirSync(join(root, dirname(b.outfile)), { recursive: true });
  const result = await build({ ...common, ...b });
  const inputs = Object.keys(result.metafile.inputs).length;
  const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)?.bytes ?? 0;
  console.log(`bundle ${b.outfile}: ${inputs} modules, ${(bytes / 1024).toFixed(0)} KiB`);
}
console.log(`bundled in ${Date.now() - started} ms`);
