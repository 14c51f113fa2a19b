#!/usr/bin/env bash
# The whole test suite on this machine: the offline toolchain (cached after the first run), the sandbox cluster,
# then lint, format, type check, build and every test layer (unit, policy, chart, integration). The sandbox is
# stopped on any exit.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

# The suite pins its tools: the offline toolchain build (even when a Pulumi CLI is on PATH) and the built sandbox
# cluster (never a cluster of the user's own).
export NOVA_TOOLCHAIN=offline
unset NOVA_SANDBOX_CLUSTER_KUBECONFIG NOVA_SANDBOX_CLUSTER_CONTEXT

step "toolchain (npm run setup)"
npm run --silent setup
step "sandbox cluster (npm run sandbox:up)"
trap 'step "stopping the sandbox"; npm run --silent sandbox:down || true' EXIT
npm run --silent sandbox:up
step "lint, format, type check, build and all tests (npm test)"
npm test
