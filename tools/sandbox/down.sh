#!/usr/bin/env bash
# Stops every sandbox process started by up.sh (in reverse start order) and waits for each to exit.
# Safe to run twice. State (.sandbox/etcd, pg, registry, pki) is kept; `down.sh --purge` removes .sandbox.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=false
[[ "${1:-}" == "--purge" ]] && purge=true

echo "nova sandbox: stopping ($SANDBOX_DIR)"
for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
  name="${COMPONENTS[$i]}"
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
