# shellcheck shell=bash
# Source this file (`source tools/env.sh`) to use the toolchain set up by `npm run setup`.
# It only exports variables; it never builds anything and never prints secrets.
#
# Which toolchain: NOVA_TOOLCHAIN=offline|path when set, else what `npm run setup` chose last
# ($NOVA_CACHE_DIR/toolchain.env, see tools/lib/resolve.sh), else offline.
#
# Offline toolchain (the pinned build; what the integration tests use) exports:
#   PATH                 $NOVA_CACHE_DIR/bin first (pulumi, plugins, etcd, kube-*, kwok, helm, ...)
#   PULUMI_HOME          $NOVA_CACHE_DIR/pulumi-home (plugins installed from our own builds)
#   PULUMI_SKIP_UPDATE_CHECK, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, PULUMI_DISABLE_REGISTRY_RESOLVE,
#   PULUMI_IGNORE_AMBIENT_PLUGINS = true
# Your Pulumi CLI on PATH (`path`):
#   PATH                 $NOVA_CACHE_DIR/tools-bin first (etcd, kube-*, kwok, helm, kube-score, actionlint; no
#                        pulumi-* binaries, so your `pulumi`, its language host and its plugins are the ones used)
#   PULUMI_HOME and the PULUMI_* engine settings above are NOT set: yours apply (values this file set earlier in
#   the same shell for the offline toolchain are removed).
# Either way KUBECONFIG is NOT changed; the sandbox kubeconfig is $NOVA_SANDBOX_KUBECONFIG.
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
case "${NOVA_TOOLCHAIN:-}" in
offline | path) _nova_toolchain="$NOVA_TOOLCHAIN" ;;
*)
  [[ -z "${NOVA_TOOLCHAIN:-}" || "$NOVA_TOOLCHAIN" == auto ]] ||
    echo "tools/env.sh: NOVA_TOOLCHAIN=$NOVA_TOOLCHAIN is not offline, path or auto; using the recorded choice" >&2
  _nova_toolchain=""
  if [[ -f "$NOVA_CACHE_DIR/toolchain.env" ]]; then
    _nova_toolchain="$(sed -n 's/^NOVA_TOOLCHAIN_RESOLVED=//p' "$NOVA_CACHE_DIR/toolchain.env" 2>/dev/null || true)"
    _nova_toolchain="${_nova_toolchain##*$'\n'}"
  fi
  ;;
esac
[[ "$_nova_toolchain" == path ]] || _nova_toolchain=offline
# _nova_path_without DIR: $PATH without DIR.
_nova_path_without() {
  local out="" p
  local -a parts
  IFS=: read -ra parts <<<"$PATH"
  for p in "${parts[@]}"; do [[ -z "$p" || "$p" == "$1" ]] || out="${out:+$out:}$p"; done
  printf '%s' "$out"
}
if [[ "$_nova_toolchain" == offline ]]; then
  export PULUMI_HOME="$NOVA_CACHE_DIR/pulumi-home"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_DISABLE_REGISTRY_RESOLVE=true
  # Plugins come from PULUMI_HOME (exact versions) and the language host from beside `pulumi`, never from PATH.
  export PULUMI_IGNORE_AMBIENT_PLUGINS=true
  _nova_bin="$NOVA_CACHE_DIR/bin"
  _nova_other_bin="$NOVA_CACHE_DIR/tools-bin"
else
  # The user's CLI: its own PULUMI_HOME, language host and plugin acquisition. Drop what an earlier `source` for
  # the offline toolchain set in this shell.
  if [[ "${NOVA_TOOLCHAIN_ACTIVE:-}" == offline ]]; then
    unset PULUMI_SKIP_UPDATE_CHECK PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION PULUMI_DISABLE_REGISTRY_RESOLVE \
      PULUMI_IGNORE_AMBIENT_PLUGINS
  fi
  if [[ "${PULUMI_HOME:-}" == "$NOVA_CACHE_DIR/pulumi-home" ]]; then unset PULUMI_HOME; fi
  _nova_bin="$NOVA_CACHE_DIR/tools-bin"
  _nova_other_bin="$NOVA_CACHE_DIR/bin"
fi
export NOVA_TOOLCHAIN_ACTIVE="$_nova_toolchain"
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
*":$_nova_other_bin:"*) PATH="$(_nova_path_without "$_nova_other_bin")" ;;
esac
case ":$PATH:" in
*":$_nova_bin:"*) ;;
*) PATH="$_nova_bin:$PATH" ;;
esac
export PATH
if [[ "$_nova_toolchain" == offline ]]; then mkdir -p "$PULUMI_HOME"; fi
unset _nova_env_root _nova_sandbox_backend _nova_toolchain _nova_bin _nova_other_bin
unset -f _nova_path_without
