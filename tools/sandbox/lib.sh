# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables below are used by the scripts that source this file
# Shared by tools/sandbox/up.sh and down.sh: paths, ports and process helpers of the sandbox.

# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

SANDBOX_DIR="$NOVA_REPO_ROOT/.sandbox"
PID_DIR="$SANDBOX_DIR/pids"
LOG_DIR="$SANDBOX_DIR/logs"
PKI_DIR="$SANDBOX_DIR/pki"
KUBECONFIG_FILE="$SANDBOX_DIR/kubeconfig"
KUBE_CONTEXT=nova-sandbox

# Ports (all on 127.0.0.1).
ETCD_PORT=32379
ETCD_PEER_PORT=32380
APISERVER_PORT=36443
CONTROLLER_MANAGER_PORT=36444
SCHEDULER_PORT=36445
KWOK_PORT=36446
POSTGRES_PORT=55432
REGISTRY_PORT=35000
STANDIN_API_PORT=38080
STANDIN_WORKER_PORT=33001
STANDIN_ALERTMANAGER_PORT=39093
STANDIN_PROMETHEUS_PORT=39090
STANDIN_WEBHOOK_PORT=38090

# Components in start order; down.sh stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok postgres registry standins)

pid_of() {
  local f="$PID_DIR/$1.pid"
  [[ -f "$f" ]] && cat "$f"
}

is_running() {
  local pid
  pid="$(pid_of "$1")" || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

# stop_component NAME: SIGTERM, wait up to 20 s, then SIGKILL; removes the pid file.
stop_component() {
  local name="$1" pid i
  pid="$(pid_of "$name")" || return 0
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$PID_DIR/$name.pid"
}
