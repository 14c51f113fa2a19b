// The CrossGuard pack. Constructing PolicyPack starts the analyzer server, so only the engine loads this file
// (through policy/package.json "main": "../dist/policy/pack.js", bundled by scripts/bundle.mjs); tests import ./policies instead.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("nova-rollout", {
  description: "Nova RMS readiness gate and rollout safety rules.",
  policies,
});
