#!/usr/bin/env bash
# Stops every sandbox process started by up.sh (in reverse start order) and waits for each to exit.
# Safe to run twice. State (.sandbox/etcd, pg, registry, pki) is kept; `down.sh --purge` removes .sandbox.
#
# With a bring-your-own cluster (up.sh with NOVA_SANDBOX_CLUSTER_KUBECONFIG / NOVA_SANDBOX_CLUSTER_CONTEXT) only
# PostgreSQL, the registry and the stand-ins are stopped: your cluster is never stopped or changed, and neither is
# your kubeconfig (.sandbox/kubeconfig is a copy). A built control plane still running from an earlier up.sh
# without a cluster of your own is left too; `--control-plane` (or `--purge`, which deletes its state) stops it.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=false
control_plane=false
for arg in "$@"; do
  case "$arg" in
  --purge) purge=true ;;
  --control-plane) control_plane=true ;;
  *) die "unknown argument: $arg (expected --purge or --control-plane)" ;;
  esac
done

byo=false
[[ "$(record_value NOVA_SANDBOX_CLUSTER)" == byo ]] && byo=true

echo "nova sandbox: stopping ($SANDBOX_DIR)"
if $byo; then
  log_line cluster "not touched" "your context $(record_value NOVA_SANDBOX_CLUSTER_CONTEXT) from" \
    "$(record_value NOVA_SANDBOX_CLUSTER_KUBECONFIG) ($(record_value NOVA_SANDBOX_CLUSTER_SERVER))"
fi
for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
  name="${COMPONENTS[$i]}"
  if $byo && is_control_plane "$name" && ! $control_plane && ! $purge; then
    if is_running "$name"; then
      log_line "$name" "left running" "built control plane from an earlier up.sh (--control-plane stops it)"
    fi
    continue
  fi
  if [[ "$name" == postgres && -f "$SANDBOX_DIR/pg/data/postmaster.pid" ]]; then
    # pg_ctl stop waits for a clean shutdown (fast mode: disconnect clients, checkpoint).
    if [[ "$(id -u)" == 0 ]]; then
      runuser -u postgres -- pg_ctl -D "$SANDBOX_DIR/pg/data" -m fast -w stop >/dev/null 2>&1 || true
    else
      pg_ctl -D "$SANDBOX_DIR/pg/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
  fi
  if is_running "$name"; then
    stop_component "$name"
    log_line "$name" stopped
  else
    rm -f "$PID_DIR/$name.pid"
    log_line "$name" "not running"
  fi
done
if $purge; then
  rm -rf "$SANDBOX_DIR"
  echo "removed $SANDBOX_DIR"
fi
