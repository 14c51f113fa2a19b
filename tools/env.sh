# shellcheck shell=bash
# Source this file (`source tools/env.sh`) to use the offline toolchain built by `npm run setup`.
# It only exports variables; it never builds anything and never prints secrets.
#
# Exports:
#   PATH                 $NOVA_CACHE_DIR/bin first (pulumi, plugins, etcd, kube-*, kwok, helm)
#   PULUMI_HOME          $NOVA_CACHE_DIR/pulumi-home (plugins installed from our own builds)
#   PULUMI_SKIP_UPDATE_CHECK, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, PULUMI_DISABLE_REGISTRY_RESOLVE,
#   PULUMI_IGNORE_AMBIENT_PLUGINS = true
#   PULUMI_BACKEND_URL   default file://<repo>/.pulumi-local/state (kept when already set)
#   PULUMI_CONFIG_PASSPHRASE  default "nova-sandbox-only" (kept when already set). SANDBOX ONLY: this
#                        passphrase is public; set your own for anything that is not a throwaway local stack.
#   KUBECONFIG is NOT changed; the sandbox kubeconfig is $NOVA_SANDBOX_KUBECONFIG.

_nova_env_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NOVA_REPO_ROOT="$_nova_env_root"
export NOVA_CACHE_DIR="${NOVA_CACHE_DIR:-$HOME/.cache/nova-rollout}"
export PULUMI_HOME="$NOVA_CACHE_DIR/pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
# Plugins come from PULUMI_HOME (exact versions) and the language host from beside `pulumi`, never from PATH.
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$_nova_env_root/.pulumi-local/state}"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-nova-sandbox-only}"
export NOVA_SANDBOX_DIR="$_nova_env_root/.sandbox"
export NOVA_SANDBOX_KUBECONFIG="$_nova_env_root/.sandbox/kubeconfig"
case ":$PATH:" in
*":$NOVA_CACHE_DIR/bin:"*) ;;
*) export PATH="$NOVA_CACHE_DIR/bin:$PATH" ;;
esac
mkdir -p "$_nova_env_root/.pulumi-local/state" "$PULUMI_HOME"
unset _nova_env_root
