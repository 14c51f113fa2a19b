#!/usr/bin/env bash
# The whole rollout playbook on the sandbox, step by step as an operator runs it, against a Nova RMS checkout:
#   0. the app: a copy of the fixture checkout (tests/fixtures/nova-rms) in .sandbox/<stack>/nova-rms at its release,
#      cut now; its STATUS, TODO and release runbook updated for the launch after the cut, the app's own staging
#      steps run (pnpm drill:billing, seed:sample-data, test:coverage, test:e2e), the release tag published to the
#      sandbox registry (as the release-images workflow does);
#   1. pin      the tag's digests into both stack files;
#      staging  the release deployed and verified on the staging stand-in `playbook-staging` first;
#   2. preflight the playbook's checks in the app checkout, signed with the sandbox's throwaway preflight key;
#   3. freeze   the change freeze, declared and signed by the sandbox release manager;
#   4. approve  the release, approved and signed by the sandbox CTO;
#   5. up       gate, database dump and rehearsal, jobs paused, chart, post-deploy verification in the app, resume;
#   6. post-launch: the freeze lifted, the launch written into the app's STATUS.md and TODO.md.
# The stacks are `playbook` and `playbook-staging` (NOVA_PLAYBOOK_STACK names another pair; Pulumi.<stack>.yaml,
# written here from Pulumi.local.yaml: a namespace of their own, the app's release, a metric check, appDir and the
# evidence in the app checkout) on the sandbox's embedded defaults (a file backend in .pulumi-local/, the sandbox
# passphrase) unless PULUMI_BACKEND_URL / PULUMI_CONFIG_PASSPHRASE(_FILE) are set. Every step must pass: the script
# stops at the first that does not. The sandbox keeps running (npm run sandbox:down).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
STACK="${NOVA_PLAYBOOK_STACK:-playbook}"
STAGING="$STACK-staging"
APP_REL=".sandbox/$STACK/nova-rms"
APP="$ROOT/$APP_REL"
RELEASE="$(node -p 'require("./tests/fixtures/nova-rms/package.json").version')"
TRUST="$ROOT/.sandbox/trust"

step() { printf '\n==> %s\n' "$*" >&2; }
run() {
  printf '$ %s\n' "$*" >&2
  "$@"
}
rollout() { run node "$ROOT/dist/cli/index.js" "$@"; }

step "toolchain, build, sandbox"
npm run --silent setup
# NOVA_PLAYBOOK_BUILT=1: dist/ is current (the test suite built it before running this script).
[[ "${NOVA_PLAYBOOK_BUILT:-0}" == 1 ]] || npm run --silent build
npm run --silent sandbox:up
# shellcheck source=../tools/env.sh
NOVA_STACK=local source tools/env.sh
# The app's scripts run with pnpm, as the playbook writes them (a devDependency of this project).
export PATH="$ROOT/node_modules/.bin:$PATH"

step "0. the Nova RMS checkout at release $RELEASE ($APP_REL): cut, docs updated, staging steps run"
rm -rf "$APP"
mkdir -p "$APP"
(cd tests/fixtures/nova-rms && tar --exclude='./coverage' --exclude='./playwright-report' --exclude='./node_modules' \
  --exclude='./tests/drills/logs/*' -cf - .) | (cd "$APP" && tar -xf -)
CUT="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
sleep 1
# The app's release PR, merged after the cut: the launch scope in STATUS, TODO and the release runbook.
printf '\n- %s: launch of %s scheduled (freeze, approval, rollout).\n' "$CUT" "$RELEASE" |
  tee -a "$APP/STATUS.md" "$APP/TODO.md" "$APP/docs/runbooks/release.md" >/dev/null
(
  cd "$APP"
  run pnpm --silent drill:billing --env-file tests/drills/staging.drill.env
  run pnpm --silent seed:sample-data
  run pnpm --silent test:coverage
  run pnpm --silent test:e2e --project=chromium
) >&2
for repo in nova-rms-api nova-rms-worker; do
  run skopeo copy --quiet --preserve-digests --src-tls-verify=false --dest-tls-verify=false \
    "docker://127.0.0.1:35000/nova/$repo:sandbox" "docker://127.0.0.1:35000/nova/$repo:$RELEASE"
done

# The metric check the sandbox's Prometheus stand-in answers (it evaluates vector(<n>) itself), as stack file YAML.
METRIC_CHECKS='  nova-rollout:metricChecks:\n    - name: error-ratio\n      query: vector(0)\n      condition: "< 0.01"\n      evaluations: 1\n      intervalSeconds: 1'
# The stack files: the sandbox stack's, each in its own namespace, at the app's release, judging the app checkout.
for s in "$STAGING" "$STACK"; do
  sed -e "s|^  nova-rollout:namespace: nova-sandbox\$|  nova-rollout:namespace: nova-$s|" \
    -e "s|^  nova-rollout:imageTag: sandbox\$|  nova-rollout:imageTag: \"$RELEASE\"|" \
    -e "s|^  nova-rollout:evidenceDir: tests/drills/logs\$|  nova-rollout:evidenceDir: tests/drills/logs\n  nova-rollout:appDir: $APP_REL|" \
    -e "s|^  nova-rollout:alertmanagerUrl: \(.*\)\$|  nova-rollout:alertmanagerUrl: \1\n  nova-rollout:prometheusUrl: http://127.0.0.1:39090\n$METRIC_CHECKS|" \
    -e '/^  nova-rollout:syntheticE2eCommand:/d' \
    -e "s|^# The sandbox stack:|# Written by scripts/playbook.sh from Pulumi.local.yaml. The sandbox stack:|" \
    Pulumi.local.yaml >"Pulumi.$s.yaml"
  pulumi stack select "$s" --create --non-interactive >/dev/null
  # The read-only account the app's E2E signs in with after the deploy: a secret, never printed or kept in plain text.
  printf '{"E2E_READONLY_EMAIL":"readonly@nova.test","E2E_READONLY_PASSWORD":"%s"}' "$(openssl rand -hex 16)" |
    pulumi config set --secret nova-rollout:verificationEnvironment --stack "$s"
done

step "1. pin: the tag's digests in Pulumi.$STAGING.yaml and Pulumi.$STACK.yaml"
rollout pin --stack "$STAGING" --tag "$RELEASE"
rollout pin --stack "$STACK" --tag "$RELEASE"

step "   staging: the release deployed and verified on $STAGING first"
rollout up --stack "$STAGING" --yes

step "2. preflight: the playbook's checks in the app checkout"
rollout preflight --stack "$STACK" --staging-stack "$STAGING" --staging-env staging --release-cut "$CUT"

step "3. freeze: declared by the release manager"
rollout freeze --stack "$STACK" --end +2h --reason "launch of $RELEASE" \
  --declared-by sandbox-release-manager --ssh-key "$TRUST/sandbox-release-manager" --no-announce

step "4. approve: the CTO approves the release for the release manager"
rollout approve --stack "$STACK" --approved-by sandbox-cto --deployer sandbox-release-manager \
  --ssh-key "$TRUST/sandbox-cto"

step "5. up: gate, pre-apply, chart, verification"
rollout up --stack "$STACK" --yes

step "6. post-launch: freeze lifted, launch written into the app's STATUS.md and TODO.md"
rollout post-launch --stack "$STACK" --by sandbox-release-manager --ssh-key "$TRUST/sandbox-release-manager" \
  --no-announce

step "done: release $RELEASE is live in namespace nova-$STACK; the evidence is in $APP_REL/tests/drills/logs/$STACK"
