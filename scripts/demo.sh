#!/usr/bin/env bash
# The main job on a fresh machine: toolchain, sandbox cluster, then preview and `up` of the sandbox stack `local`
# (Pulumi.local.yaml) on the embedded defaults: a file backend in .pulumi-local/, the sandbox passphrase, the policy
# pack with the sandbox enforcement. Prints the stack outputs. The sandbox keeps running; stop it with
# `npm run sandbox:down`. The sandbox defaults apply to the stack `local` only, so NOVA_STACK is pinned to it here
# (tools/env.sh reads it).
set -euo pipefail
cd "$(dirname "$0")/.."
export NOVA_STACK=local

step() { printf '\n==> %s\n' "$*" >&2; }

step "toolchain (npm run setup)"
npm run --silent setup
step "build"
npm run --silent build
step "sandbox cluster (npm run sandbox:up)"
npm run --silent sandbox:up
# shellcheck source=../tools/env.sh
source tools/env.sh
pulumi stack select local --create --non-interactive >/dev/null
step "preview (policy pack attached)"
node dist/cli/index.js preview --stack local
step "up"
node dist/cli/index.js up --stack local
step "outputs"
pulumi stack output --stack local
