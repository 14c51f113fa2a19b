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
# The token-protected registry (the production registry's stand-in for `rollout promote`) and its token realm.
AUTH_REGISTRY_PORT=35001
TOKEN_REALM_PORT=35002
# The committed production registry's address, served on the sandbox (up.sh): its registry and the HTTPS front (an
# HTTP proxy that answers CONNECT us-docker.pkg.dev:443 with TLS for that name).
PRODUCTION_REGISTRY_HOST=us-docker.pkg.dev
PRODUCTION_REGISTRY="$PRODUCTION_REGISTRY_HOST/nova-prod/nova"
PROD_REGISTRY_PORT=35003
REGISTRY_FRONT_PORT=35004
STANDIN_API_PORT=38080
STANDIN_WORKER_PORT=33001
STANDIN_ALERTMANAGER_PORT=39093
STANDIN_PROMETHEUS_PORT=39090
STANDIN_WEBHOOK_PORT=38090
STANDIN_GRAFANA_PORT=33000
# The GitHub API stand-in (Actions workflows enable/disable) for the CI schedules' pause.
STANDIN_GITHUB_PORT=38091
# The Ingress controller and load balancer of IngressClass gce (tools/sandbox/ingress-gateway.mjs): HTTPS for the hosts
# of the cluster's Ingresses, published in their status.
INGRESS_GATEWAY_PORT=38443

# Components in start order; down.sh stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok postgres registry token-realm auth-registry prod-registry registry-front standins github-standin ingress-gateway)
# The built control plane: neither built nor started, nor stopped by down.sh, when the sandbox targets your own
# cluster (NOVA_SANDBOX_CLUSTER_KUBECONFIG / NOVA_SANDBOX_CLUSTER_CONTEXT).
CONTROL_PLANE=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

# Which cluster the sandbox uses, written by up.sh: NOVA_SANDBOX_CLUSTER=built|byo, and for byo the kubeconfig and
# context it was given. .sandbox/kubeconfig (context nova-sandbox) always points at that cluster.
CLUSTER_RECORD="$SANDBOX_DIR/cluster.env"

# record_value KEY: a value from the cluster record (empty when absent).
record_value() {
  [[ -f "$CLUSTER_RECORD" ]] || return 0
  sed -n "s/^$1=//p" "$CLUSTER_RECORD" | tail -n 1
}

is_control_plane() {
  local c
  for c in "${CONTROL_PLANE[@]}"; do [[ "$c" == "$1" ]] && return 0; done
  return 1
}

# byo_server_is_local URL: true for the API servers of local clusters: loopback, localhost, *.docker.internal
# (Docker Desktop), *.local, private IPv4 ranges (minikube/k3d/kind networks) and IPv6 loopback/ULA.
byo_server_is_local() {
  local host="${1#*://}"
  host="${host%%/*}"
  if [[ "$host" == \[* ]]; then host="${host#\[}" && host="${host%%]*}"; else host="${host%:*}"; fi
  host="${host,,}"
  case "$host" in
  localhost | *.localhost | *.docker.internal | *.local | ::1 | fd*:*) return 0 ;;
  127.* | 10.* | 192.168.* | 0.0.0.0) return 0 ;;
  172.*)
    local second="${host#172.}"
    second="${second%%.*}"
    [[ "$second" =~ ^[0-9]+$ ]] && ((second >= 16 && second <= 31))
    return
    ;;
  esac
  return 1
}

# byo_kubeconfig SRC CONTEXT DEST: writes DEST (mode 600, atomically) with only CONTEXT of the kubeconfig SRC (empty:
# kubectl's default, $KUBECONFIG or ~/.kube/config; an empty CONTEXT is its current context), credentials and
# certificates embedded, the context renamed to $KUBE_CONTEXT and made current. SRC is only read. Prints the
# context it used; fails with a message naming what is wrong.
byo_kubeconfig() {
  local src="$1" ctx="$2" dest="$3" tmp
  local -a from=()
  [[ -z "$src" ]] || from=(--kubeconfig "$src")
  if [[ -n "$src" && ! -r "$src" ]]; then
    echo "kubeconfig $src is not readable" >&2
    return 1
  fi
  if [[ -z "$ctx" ]]; then
    ctx="$(kubectl config "${from[@]}" current-context 2>/dev/null)" || {
      echo "kubeconfig ${src:-(default)} has no current context: set NOVA_SANDBOX_CLUSTER_CONTEXT" >&2
      return 1
    }
  fi
  local contexts
  contexts="$(kubectl config "${from[@]}" get-contexts -o name 2>/dev/null)" || contexts=""
  if ! grep -qxF -- "$ctx" <<<"$contexts"; then
    echo "context '$ctx' is not in kubeconfig ${src:-(default)}" >&2
    return 1
  fi
  mkdir -p "$(dirname "$dest")"
  tmp="$(mktemp "$dest.XXXXXX")"
  if ! kubectl config "${from[@]}" view --raw --minify --flatten --context "$ctx" >"$tmp" 2>/dev/null; then
    rm -f "$tmp"
    echo "could not read context '$ctx' from kubeconfig ${src:-(default)}" >&2
    return 1
  fi
  if [[ "$ctx" != "$KUBE_CONTEXT" ]]; then
    kubectl config --kubeconfig "$tmp" rename-context "$ctx" "$KUBE_CONTEXT" >/dev/null
  fi
  kubectl config --kubeconfig "$tmp" use-context "$KUBE_CONTEXT" >/dev/null
  chmod 600 "$tmp"
  mv -f "$tmp" "$dest"
  printf '%s\n' "$ctx"
}

# kubeconfig_server FILE: the API server URL of the current context of a kubeconfig.
kubeconfig_server() {
  kubectl config --kubeconfig "$1" view --minify -o jsonpath='{.clusters[0].cluster.server}' 2>/dev/null
}

pid_of() {
  local f="$PID_DIR/$1.pid"
  [[ -f "$f" ]] && cat "$f"
}

# pid_alive PID: the process exists and has not exited (a zombie, not yet reaped, counts as gone).
pid_alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
  [[ "$state" != "Z" && "$state" != "X" ]]
}

is_running() {
  local pid
  pid="$(pid_of "$1")" || return 1
  [[ -n "$pid" ]] && pid_alive "$pid"
}

# stop_component NAME: SIGTERM, wait up to 20 s, then SIGKILL; removes the pid file.
stop_component() {
  local name="$1" pid i
  pid="$(pid_of "$name")" || return 0
  if [[ -n "$pid" ]] && pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      pid_alive "$pid" || break
      sleep 0.2
    done
    if pid_alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$PID_DIR/$name.pid"
}
