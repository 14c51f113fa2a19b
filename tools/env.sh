# shellcheck shell=bash
# Source this file (`source tools/env.sh`) to use the offline toolchain built by `npm run setup`.
# It only exports variables; it never builds anything and never prints secrets.
#
# Exports:
#   PATH                 $NOVA_CACHE_DIR/bin first (pulumi, plugins, etcd, kube-*, kwok, helm)
#   PULUMI_HOME          $NOVA_CACHE_DIR/pulumi-home (plugins installed from our own builds)
#   PULUMI_SKIP_UPDATE_CHECK, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, PULUMI_DISABLE_REGISTRY_RESOLVE,
#   PULUMI_IGNORE_AMBIENT_PLUGINS = true
#   KUBECONFIG is NOT changed; the sandbox kubeconfig is $NOVA_SANDBOX_KUBECONFIG.
#
# Sandbox defaults, ONLY when NOVA_STACK is unset, empty or `local` (the sandbox stack, Pulumi.local.yaml):
#   PULUMI_BACKEND_URL   default file://<repo>/.pulumi-local/state (kept when already set)
#   PULUMI_CONFIG_PASSPHRASE  default "nova-sandbox-only" (kept when PULUMI_CONFIG_PASSPHRASE or
#                        PULUMI_CONFIG_PASSPHRASE_FILE is already set). This passphrase is public.
# For any other stack (e.g. `NOVA_STACK=staging source tools/env.sh`) neither default is applied: set your own
# PULUMI_BACKEND_URL (or `pulumi login <url>`) and PULUMI_CONFIG_PASSPHRASE / PULUMI_CONFIG_PASSPHRASE_FILE. Values
# exactly equal to the two sandbox defaults (left over from an earlier `source` for `local`) are unset then, so
# the sandbox backend and passphrase never carry over to another stack.

_nova_env_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_nova_sandbox_backend="file://$_nova_env_root/.pulumi-local/state"
export NOVA_REPO_ROOT="$_nova_env_root"
export NOVA_CACHE_DIR="${NOVA_CACHE_DIR:-$HOME/.cache/nova-rollout}"
export PULUMI_HOME="$NOVA_CACHE_DIR/pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
# Plugins come from PULUMI_HOME (exact versions) and the language host from beside `pulumi`, never from PATH.
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
if [[ -z "${NOVA_STACK:-}" || "$NOVA_STACK" == local ]]; then
  export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-$_nova_sandbox_backend}"
  if [[ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
    export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-nova-sandbox-only}"
  fi
  if [[ "$PULUMI_BACKEND_URL" == "$_nova_sandbox_backend" ]]; then
    mkdir -p "$_nova_env_root/.pulumi-local/state"
  fi
else
  if [[ "${PULUMI_BACKEND_URL:-}" == "$_nova_sandbox_backend" ]]; then
    unset PULUMI_BACKEND_URL
  fi
  if [[ "${PULUMI_CONFIG_PASSPHRASE:-}" == nova-sandbox-only ]]; then
    unset PULUMI_CONFIG_PASSPHRASE
  fi
fi
export NOVA_SANDBOX_DIR="$_nova_env_root/.sandbox"
export NOVA_SANDBOX_KUBECONFIG="$_nova_env_root/.sandbox/kubeconfig"
case ":$PATH:" in
*":$NOVA_CACHE_DIR/bin:"*) ;;
*) export PATH="$NOVA_CACHE_DIR/bin:$PATH" ;;
esac
mkdir -p "$PULUMI_HOME"
unset _nova_env_root _nova_sandbox_backend
