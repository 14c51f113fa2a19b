// The nova-platform CrossGuard pack. Constructing PolicyPack starts the analyzer server, so only the engine loads
// this file (through platform/policy/package.json "main": "../../dist/platform-policy/pack.js", bundled by
// scripts/bundle.mjs); tests import ./policies instead.
import { PolicyPack } from "@pulumi/policy";
import { platformPolicies } from "./policies";

new PolicyPack("nova-platform", {
  description:
    "Security baseline of the Nova platform stack: GKE, registries, secrets, dump bucket, IAM, protection.",
  policies: platformPolicies,
});
