#!/usr/bin/env bash
# Starts the local sandbox on 127.0.0.1 (idempotent: running components are kept):
#   etcd :32379, kube-apiserver :36443 (client-cert auth), kube-controller-manager, kube-scheduler,
#   kwok (2 fake nodes, pods become Ready), PostgreSQL :55432 (db `nova`), docker-registry :35000 with the two
#   sandbox images, a token-protected docker-registry :35001 with its token realm :35002 (the production registry's
#   stand-in), stand-in HTTP endpoints :38080 (api), :33001 (worker), :39093 (alertmanager), :39090 (prometheus), :38090 (webhooks),
#   :33000 (grafana).
# State lives in <repo>/.sandbox (kubeconfig: .sandbox/kubeconfig, context nova-sandbox). Stop with down.sh.
#
# Your own local cluster instead of the built control plane (kind, minikube, k3d, Docker Desktop):
#   NOVA_SANDBOX_CLUSTER_KUBECONFIG=<file>   its kubeconfig (default: $KUBECONFIG or ~/.kube/config), only read
#   NOVA_SANDBOX_CLUSTER_CONTEXT=<context>   its context (default: the file's current context)
# Either one selects it: the context is copied into .sandbox/kubeconfig as context nova-sandbox, and etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler and kwok are neither built nor started. PostgreSQL, the
# registry and the stand-ins start as always. The API server must be local (loopback, private address,
# *.docker.internal); NOVA_SANDBOX_CLUSTER_REMOTE_OK=1 allows any. Without either variable the built cluster is used.
set -euo pipefail

BYO_KUBECONFIG="${NOVA_SANDBOX_CLUSTER_KUBECONFIG:-}"
BYO_CONTEXT="${NOVA_SANDBOX_CLUSTER_CONTEXT:-}"
GIVEN_SANDBOX_KUBECONFIG="${NOVA_SANDBOX_KUBECONFIG:-}"

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ -n "$GIVEN_SANDBOX_KUBECONFIG" && "$GIVEN_SANDBOX_KUBECONFIG" != "$KUBECONFIG_FILE" && -z "$BYO_KUBECONFIG" ]]; then
  echo "note: NOVA_SANDBOX_KUBECONFIG is where the sandbox writes its kubeconfig ($KUBECONFIG_FILE), not an input;" \
    "to use your own cluster set NOVA_SANDBOX_CLUSTER_KUBECONFIG (and NOVA_SANDBOX_CLUSTER_CONTEXT)" >&2
fi
# shellcheck source=tools/env.sh
source "$NOVA_REPO_ROOT/tools/env.sh"

mkdir -p "$PID_DIR" "$LOG_DIR" "$PKI_DIR"
T0="$(now_s)"

# fail NAME MESSAGE: print the component's log tail and exit.
fail() {
  log_line "$1" FAILED "$2"
  tail_log "$LOG_DIR/$1.log" 40
  exit 1
}

require_bin() {
  command -v "$1" >/dev/null || die "missing '$1' (run \`npm run setup\`)"
}
for b in kubectl openssl node curl; do require_bin "$b"; done

# start NAME CMD...: run CMD detached in its own session, logging to .sandbox/logs/NAME.log.
start() {
  local name="$1"
  shift
  require_bin "$1"
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$PID_DIR/$name.pid"
}

# wait_for NAME SECONDS CMD...: poll CMD until it succeeds, failing if the process dies or time runs out.
wait_for() {
  local name="$1" timeout="$2" deadline
  shift 2
  deadline=$(($(now_s) + timeout))
  until "$@" >/dev/null 2>&1; do
    if [[ -f "$PID_DIR/$name.pid" ]] && ! is_running "$name"; then fail "$name" "process exited"; fi
    (($(now_s) < deadline)) || fail "$name" "not ready after ${timeout}s"
    sleep 0.5
  done
}

kctl() { kubectl --kubeconfig "$KUBECONFIG_FILE" --context "$KUBE_CONTEXT" "$@"; }

# The sandbox's listening ports lie inside Linux's ephemeral range (32768-60999): an outgoing connection (the API
# server's to etcd, say) can take one before its server starts. Where we may (root), reserve them so the kernel never
# hands them out as source ports; elsewhere a taken port fails its component with the log tail, as before.
reserve_ports() {
  local file=/proc/sys/net/ipv4/ip_local_reserved_ports current wanted p
  [[ -w "$file" ]] || return 0
  current="$(cat "$file")"
  wanted="$current"
  for p in "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$CONTROLLER_MANAGER_PORT" "$SCHEDULER_PORT" "$KWOK_PORT" \
    "$POSTGRES_PORT" "$REGISTRY_PORT" "$AUTH_REGISTRY_PORT" "$TOKEN_REALM_PORT" "$PROD_REGISTRY_PORT" "$REGISTRY_FRONT_PORT" "$STANDIN_API_PORT" "$STANDIN_WORKER_PORT" "$STANDIN_ALERTMANAGER_PORT" \
    "$STANDIN_PROMETHEUS_PORT" "$STANDIN_WEBHOOK_PORT" "$STANDIN_GRAFANA_PORT" "$STANDIN_GITHUB_PORT" "$INGRESS_GATEWAY_PORT"; do
    wanted="${wanted:+$wanted,}$p"
  done
  echo "$wanted" >"$file" 2>/dev/null || true
}
reserve_ports

# ---------------------------------------------------------------------------------------------------- cluster
# Your own local cluster (kind, minikube, k3d, Docker Desktop, ...) instead of the built one: its context is copied
# into .sandbox/kubeconfig as context nova-sandbox (what Pulumi.local.yaml and the tests use) and the built control
# plane is neither built nor started. down.sh never stops or changes a cluster given this way.
if [[ -n "$BYO_KUBECONFIG" || -n "$BYO_CONTEXT" ]]; then
  CLUSTER=byo
  byo_src="$BYO_KUBECONFIG"
  [[ -z "$byo_src" || "$byo_src" == /* ]] || byo_src="$PWD/$byo_src"
  # Everything is checked on a copy first: .sandbox/kubeconfig is replaced only by a usable local context.
  byo_tmp="$SANDBOX_DIR/kubeconfig.byo"
  byo_err="$(mktemp)"
  if ! byo_ctx="$(byo_kubeconfig "$byo_src" "$BYO_CONTEXT" "$byo_tmp" 2>"$byo_err")"; then
    log_line cluster FAILED "bring-your-own cluster: $(cat "$byo_err")"
    rm -f "$byo_err"
    exit 1
  fi
  rm -f "$byo_err"
  byo_from="${byo_src:-${KUBECONFIG:-$HOME/.kube/config}}"
  byo_server="$(kubeconfig_server "$byo_tmp")"
  if ! byo_server_is_local "$byo_server" && [[ "${NOVA_SANDBOX_CLUSTER_REMOTE_OK:-}" != 1 ]]; then
    rm -f "$byo_tmp"
    log_line cluster FAILED "context '$byo_ctx' points at $byo_server, which is not a local cluster; the sandbox" \
      "deploys sandbox settings into it (NOVA_SANDBOX_CLUSTER_REMOTE_OK=1 allows it)"
    exit 1
  fi
  if ! kubectl --kubeconfig "$byo_tmp" --context "$KUBE_CONTEXT" --request-timeout=15s get --raw /readyz \
    >/dev/null 2>&1 &&
    ! kubectl --kubeconfig "$byo_tmp" --context "$KUBE_CONTEXT" --request-timeout=15s get --raw /version \
      >/dev/null 2>&1; then
    rm -f "$byo_tmp"
    log_line cluster FAILED "$byo_server (context $byo_ctx in $byo_from) does not answer: is the cluster running?"
    exit 1
  fi
  {
    echo "NOVA_SANDBOX_CLUSTER=byo"
    echo "NOVA_SANDBOX_CLUSTER_KUBECONFIG=$byo_from"
    echo "NOVA_SANDBOX_CLUSTER_CONTEXT=$byo_ctx"
    echo "NOVA_SANDBOX_CLUSTER_SERVER=$byo_server"
  } >"$CLUSTER_RECORD"
  mv -f "$byo_tmp" "$KUBECONFIG_FILE"
  log_line cluster byo "your context $byo_ctx from $byo_from ($byo_server) as context $KUBE_CONTEXT in $KUBECONFIG_FILE"
  log_line control-plane skipped "${CONTROL_PLANE[*]}: not built or started (bring-your-own cluster)"
  for c in "${CONTROL_PLANE[@]}"; do
    if is_running "$c"; then
      log_line "$c" "left alone" "still running from an earlier up.sh; not used now (down.sh --control-plane stops it)"
    fi
  done
else
  CLUSTER=built
  if [[ "$(record_value NOVA_SANDBOX_CLUSTER)" == byo ]]; then
    # .sandbox/kubeconfig is a copy of the bring-your-own context: write the built cluster's again.
    log_line cluster built "was bring-your-own context $(record_value NOVA_SANDBOX_CLUSTER_CONTEXT); kubeconfig rewritten"
    rm -f "$KUBECONFIG_FILE"
  fi
  printf 'NOVA_SANDBOX_CLUSTER=built\n' >"$CLUSTER_RECORD"
fi

if [[ "$CLUSTER" == built ]]; then
  # ---------------------------------------------------------------------------------------------------- pki
  make_cert() { # NAME SUBJECT EXT
    local name="$1" subj="$2" ext="$3"
    openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/$name.key" -out "$PKI_DIR/$name.csr" \
      -subj "$subj" 2>/dev/null
    openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" -CAcreateserial \
      -days 3650 -sha256 -out "$PKI_DIR/$name.crt" -extfile <(printf '%s\n' "$ext") 2>/dev/null
    rm -f "$PKI_DIR/$name.csr"
  }
  if [[ ! -f "$PKI_DIR/admin.crt" ]]; then
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI_DIR/ca.key" -out "$PKI_DIR/ca.crt" -days 3650 \
      -subj "/CN=nova-sandbox-ca" 2>/dev/null
    make_cert apiserver "/CN=kube-apiserver" "$(printf '%s' \
      "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default," \
      "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" $'\n' \
      "extendedKeyUsage=serverAuth" $'\n' "keyUsage=digitalSignature,keyEncipherment")"
    # One client identity in system:masters for every sandbox component and for the tests.
    make_cert admin "/O=system:masters/CN=nova-sandbox-admin" \
      "$(printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=digitalSignature,keyEncipherment")"
    openssl genrsa -out "$PKI_DIR/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
    umask 022
    log_line pki generated "$PKI_DIR"
  fi
  if [[ ! -f "$PKI_DIR/kwok.crt" ]]; then
    # The fake nodes' kubelet endpoint (kwok's server): the API server reaches it for port-forwards and checks this
    # certificate against the sandbox CA, as it would a real kubelet's.
    umask 077
    make_cert kwok "/CN=nova-sandbox-kubelet" "$(printf '%s\n' "subjectAltName=IP:127.0.0.1" \
      "extendedKeyUsage=serverAuth" "keyUsage=digitalSignature,keyEncipherment")"
    umask 022
  fi
  if [[ ! -f "$KUBECONFIG_FILE" ]]; then
    kubectl config --kubeconfig "$KUBECONFIG_FILE" set-cluster "$KUBE_CONTEXT" \
      --server "https://127.0.0.1:$APISERVER_PORT" --certificate-authority "$PKI_DIR/ca.crt" --embed-certs >/dev/null
    kubectl config --kubeconfig "$KUBECONFIG_FILE" set-credentials nova-sandbox-admin \
      --client-certificate "$PKI_DIR/admin.crt" --client-key "$PKI_DIR/admin.key" --embed-certs >/dev/null
    kubectl config --kubeconfig "$KUBECONFIG_FILE" set-context "$KUBE_CONTEXT" \
      --cluster "$KUBE_CONTEXT" --user nova-sandbox-admin >/dev/null
    kubectl config --kubeconfig "$KUBECONFIG_FILE" use-context "$KUBE_CONTEXT" >/dev/null
    chmod 600 "$KUBECONFIG_FILE"
  fi

  # ---------------------------------------------------------------------------------------------------- etcd
  if is_running etcd; then
    log_line etcd running ":$ETCD_PORT"
  else
    t="$(now_s)"
    start etcd etcd --name nova-sandbox --data-dir "$SANDBOX_DIR/etcd" \
      --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-cluster "nova-sandbox=http://127.0.0.1:$ETCD_PEER_PORT" \
      --log-level warn --quota-backend-bytes 1073741824
    wait_for etcd 60 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
    log_line etcd started ":$ETCD_PORT $(($(now_s) - t))s"
  fi

  # ---------------------------------------------------------------------------------------------------- apiserver
  if is_running kube-apiserver; then
    log_line kube-apiserver running ":$APISERVER_PORT"
  else
    t="$(now_s)"
    # --endpoint-reconciler-type=none: the `kubernetes` Service cannot point at a loopback address.
    start kube-apiserver kube-apiserver \
      --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
      --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
      --tls-cert-file "$PKI_DIR/apiserver.crt" --tls-private-key-file "$PKI_DIR/apiserver.key" \
      --client-ca-file "$PKI_DIR/ca.crt" \
      --service-account-key-file "$PKI_DIR/sa.pub" --service-account-signing-key-file "$PKI_DIR/sa.key" \
      --service-account-issuer https://kubernetes.default.svc.cluster.local \
      --service-cluster-ip-range 10.96.0.0/16 --authorization-mode Node,RBAC --allow-privileged \
      --endpoint-reconciler-type none --profiling=false --enable-priority-and-fairness=false \
      --kubelet-preferred-address-types InternalIP --kubelet-certificate-authority "$PKI_DIR/ca.crt" \
      --kubelet-client-certificate "$PKI_DIR/admin.crt" --kubelet-client-key "$PKI_DIR/admin.key"
    wait_for kube-apiserver 120 kctl get --raw /readyz
    log_line kube-apiserver started ":$APISERVER_PORT $(($(now_s) - t))s"
  fi

  # ---------------------------------------------------------------------------------------------------- controllers
  if is_running kube-controller-manager; then
    log_line kube-controller-manager running
  else
    t="$(now_s)"
    start kube-controller-manager kube-controller-manager \
      --kubeconfig "$KUBECONFIG_FILE" --authentication-kubeconfig "$KUBECONFIG_FILE" \
      --authorization-kubeconfig "$KUBECONFIG_FILE" \
      --bind-address 127.0.0.1 --secure-port "$CONTROLLER_MANAGER_PORT" --leader-elect=false \
      --service-account-private-key-file "$PKI_DIR/sa.key" --root-ca-file "$PKI_DIR/ca.crt" \
      --cluster-signing-cert-file "$PKI_DIR/ca.crt" --cluster-signing-key-file "$PKI_DIR/ca.key" \
      --use-service-account-credentials=false --profiling=false
    wait_for kube-controller-manager 60 curl -fsSk "https://127.0.0.1:$CONTROLLER_MANAGER_PORT/healthz"
    log_line kube-controller-manager started "$(($(now_s) - t))s"
  fi
  if is_running kube-scheduler; then
    log_line kube-scheduler running
  else
    t="$(now_s)"
    start kube-scheduler kube-scheduler \
      --kubeconfig "$KUBECONFIG_FILE" --authentication-kubeconfig "$KUBECONFIG_FILE" \
      --authorization-kubeconfig "$KUBECONFIG_FILE" \
      --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --leader-elect=false --profiling=false
    wait_for kube-scheduler 60 curl -fsSk "https://127.0.0.1:$SCHEDULER_PORT/healthz"
    log_line kube-scheduler started "$(($(now_s) - t))s"
  fi

  # ---------------------------------------------------------------------------------------------------- kwok + nodes
  # kwok_config: the port-forward rules of the fake nodes. Every pod's container port 8080 (the API) and 3001 (the
  # worker) forwards to the stand-in that plays that container.
  kwok_config() {
    cat <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata:
  name: nova-standins
spec:
  forwards:
    - ports: [8080]
      target: {address: 127.0.0.1, port: $STANDIN_API_PORT}
    - ports: [3001]
      target: {address: 127.0.0.1, port: $STANDIN_WORKER_PORT}
EOF
  }
  if is_running kwok; then
    log_line kwok running
  else
    t="$(now_s)"
    # No stage config is given, so kwok uses its default stages: node-initialize + heartbeat (with lease),
    # pod-ready, pod-complete, pod-delete. It manages only nodes annotated kwok.x-k8s.io/node=fake.
    # Its server is the fake nodes' kubelet (HTTPS on the nodes' InternalIP and kubelet port): a port-forward to a
    # pod goes API server → kwok → the stand-in playing that container, by the container port (kwok-config.yaml).
    kwok_config >"$SANDBOX_DIR/kwok-config.yaml"
    start kwok kwok --config "$SANDBOX_DIR/kwok-config.yaml" --kubeconfig "$KUBECONFIG_FILE" \
      --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
      --cidr 10.244.0.1/16 --node-ip 127.0.0.1 --node-lease-duration-seconds 40 \
      --node-port "$KWOK_PORT" --server-address "127.0.0.1:$KWOK_PORT" \
      --tls-cert-file "$PKI_DIR/kwok.crt" --tls-private-key-file "$PKI_DIR/kwok.key"
    wait_for kwok 60 curl -fsS --cacert "$PKI_DIR/ca.crt" "https://127.0.0.1:$KWOK_PORT/healthz"
    log_line kwok started "$(($(now_s) - t))s"
  fi
  for n in nova-node-1 nova-node-2; do
    if ! kctl get node "$n" >/dev/null 2>&1; then
      kctl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $n
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $n
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
    topology.kubernetes.io/zone: sandbox-${n##*-}
status:
  allocatable: {cpu: "16", memory: 64Gi, ephemeral-storage: 100Gi, pods: "110"}
  capacity: {cpu: "16", memory: 64Gi, ephemeral-storage: 100Gi, pods: "110"}
EOF
    elif [[ -z "$(kctl get node "$n" -o jsonpath='{.status.allocatable.ephemeral-storage}' 2>/dev/null)" ]]; then
      # A node made by an older sandbox: advertise ephemeral storage too (the chart requests it).
      kctl patch node "$n" --subresource=status --type=merge -p \
        '{"status":{"capacity":{"ephemeral-storage":"100Gi"},"allocatable":{"ephemeral-storage":"100Gi"}}}' >/dev/null
    fi
    if [[ "$(kctl get node "$n" -o jsonpath='{.status.daemonEndpoints.kubeletEndpoint.Port}')" != "$KWOK_PORT" ]]; then
      # A node initialised by an older sandbox: kwok's heartbeat keeps the kubelet port it was given first.
      kctl patch node "$n" --subresource=status --type=merge \
        -p "{\"status\":{\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":$KWOK_PORT}}}}" >/dev/null
    fi
  done
  wait_for kwok 90 kctl wait --for=condition=Ready node/nova-node-1 node/nova-node-2 --timeout=5s
  log_line nodes ready "nova-node-1 nova-node-2"

fi

# ---------------------------------------------------------------------------------------------------- postgres
PG_DIR="$SANDBOX_DIR/pg"
as_pg() { if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [[ -f "$PG_DIR/data/postmaster.pid" ]] && as_pg pg_ctl -D "$PG_DIR/data" status >/dev/null 2>&1; then
  log_line postgres running ":$POSTGRES_PORT"
else
  t="$(now_s)"
  mkdir -p "$PG_DIR/run"
  # PostgreSQL refuses to run as root; as root the cluster belongs to the `postgres` user.
  [[ "$(id -u)" == 0 ]] && chown -R postgres: "$PG_DIR" && chmod o+x "$SANDBOX_DIR"
  if [[ ! -f "$PG_DIR/data/PG_VERSION" ]]; then
    as_pg initdb -D "$PG_DIR/data" --auth=trust --username=postgres --encoding=UTF8 --locale=C \
      >"$LOG_DIR/postgres-initdb.log" 2>&1 || fail postgres-initdb "initdb failed"
  fi
  as_pg pg_ctl -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
    -o "-p $POSTGRES_PORT -k $PG_DIR/run -c listen_addresses=127.0.0.1" start >"$LOG_DIR/postgres.log" 2>&1 ||
    { cat "$PG_DIR/postgres.log" >>"$LOG_DIR/postgres.log" 2>/dev/null || true; fail postgres "pg_ctl start failed"; }
  head -n 1 "$PG_DIR/data/postmaster.pid" >"$PID_DIR/postgres.pid"
  psql_nova() { psql -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
  # `nova` is the application database; `nova_rehearsal` is the scratch clone the migration rehearsal restores into.
  for db in nova nova_rehearsal; do
    if [[ "$(psql_nova -d postgres -c "SELECT 1 FROM pg_database WHERE datname='$db'")" != 1 ]]; then
      psql_nova -d postgres -c "CREATE DATABASE $db"
    fi
  done
  psql_nova -d nova >/dev/null <<'SQL'
CREATE TABLE IF NOT EXISTS tenants (id serial PRIMARY KEY, name text NOT NULL UNIQUE, plan text NOT NULL);
INSERT INTO tenants (name, plan) VALUES ('acme', 'enterprise'), ('globex', 'standard'), ('initech', 'trial')
  ON CONFLICT (name) DO NOTHING;
SQL
  log_line postgres started ":$POSTGRES_PORT db nova $(($(now_s) - t))s"
fi

# ---------------------------------------------------------------------------------------------------- registry
# registry_config NAME PORT [EXTRA]: writes .sandbox/NAME/config.yml for a docker-registry on 127.0.0.1:PORT storing
# under .sandbox/NAME/data, with EXTRA (YAML, e.g. an `auth:` section) appended.
registry_config() {
  local name="$1" port="$2" extra="${3:-}"
  mkdir -p "$SANDBOX_DIR/$name/data"
  cat >"$SANDBOX_DIR/$name/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $SANDBOX_DIR/$name/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$extra
EOF
}
REGISTRY_BIN=/usr/bin/docker-registry
if [[ ! -x "$REGISTRY_BIN" ]] || ! command -v skopeo >/dev/null; then
  log_line registry FAILED "docker-registry and skopeo (Debian packages) are required: run \`npm run setup\` as root"
  exit 1
fi
if is_running registry; then
  log_line registry running ":$REGISTRY_PORT"
else
  t="$(now_s)"
  registry_config registry "$REGISTRY_PORT"
  start registry "$REGISTRY_BIN" serve "$SANDBOX_DIR/registry/config.yml"
  wait_for registry 30 curl -fsS "http://127.0.0.1:$REGISTRY_PORT/v2/"
  log_line registry started ":$REGISTRY_PORT $(($(now_s) - t))s"
fi
node "$NOVA_REPO_ROOT/tools/sandbox/build-images.mjs" "$SANDBOX_DIR/images" >"$LOG_DIR/images.log" 2>&1 ||
  fail images "image build failed"
for img in nova-rms-api nova-rms-worker; do
  want="$(cat "$SANDBOX_DIR/images/$img.digest")"
  have="$(curl -fsSI -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://127.0.0.1:$REGISTRY_PORT/v2/nova/$img/manifests/sandbox" 2>/dev/null |
    tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')" || true
  if [[ "$have" != "$want" ]]; then
    skopeo copy --quiet --preserve-digests --dest-tls-verify=false \
      "oci:$SANDBOX_DIR/images/$img:sandbox" "docker://127.0.0.1:$REGISTRY_PORT/nova/$img:sandbox" \
      >>"$LOG_DIR/images.log" 2>&1 || fail images "skopeo copy of $img failed"
  fi
  log_line "image $img" pushed "127.0.0.1:$REGISTRY_PORT/nova/$img:sandbox@$want"
done

# ------------------------------------------------------------------------------------------- token-protected registry
# A second docker-registry that, like Artifact Registry or GHCR, answers 401 with a `WWW-Authenticate: Bearer` challenge
# and accepts only tokens of its realm (tools/sandbox/token-realm.mjs): the production registry's stand-in for
# `rollout promote`. Users (.sandbox/registry-auth/users.json): nova-ci may pull and push, nova-reader may only pull,
# anonymous gets nothing. Their credentials in docker-config form, for skopeo and docker (REGISTRY_AUTH_FILE or
# DOCKER_CONFIG): ci-auth.json and reader-auth.json, for this registry and the production registry's address below.
# Keys and passwords are made once and kept with the sandbox's state.
AUTH_DIR="$SANDBOX_DIR/registry-auth"
if [[ ! -f "$AUTH_DIR/users.json" ]]; then
  mkdir -p "$AUTH_DIR"
  chmod 700 "$AUTH_DIR"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=nova-sandbox-token-realm" -keyout "$AUTH_DIR/realm.key" -out "$AUTH_DIR/realm.crt" \
    >>"$LOG_DIR/token-realm.log" 2>&1 || fail token-realm "openssl could not make the realm's key"
  printf '{"nova-ci":{"password":"%s","actions":["pull","push"]},"nova-reader":{"password":"%s","actions":["pull"]}}\n' \
    "$(openssl rand -hex 16)" "$(openssl rand -hex 16)" >"$AUTH_DIR/users.json"
fi
node -e '
  const fs = require("node:fs");
  const [dir, ...hosts] = process.argv.slice(1);
  const users = JSON.parse(fs.readFileSync(`${dir}/users.json`, "utf8"));
  for (const [file, user] of [["ci", "nova-ci"], ["reader", "nova-reader"]]) {
    const auth = Buffer.from(`${user}:${users[user].password}`).toString("base64");
    const auths = Object.fromEntries(hosts.map((h) => [h, { auth }]));
    fs.writeFileSync(`${dir}/${file}-auth.json`, `${JSON.stringify({ auths })}\n`, { mode: 0o600 });
  }' "$AUTH_DIR" "127.0.0.1:$AUTH_REGISTRY_PORT" "$PRODUCTION_REGISTRY_HOST" || fail token-realm "could not write the auth files"
chmod 600 "$AUTH_DIR"/*
if is_running token-realm; then
  log_line token-realm running ":$TOKEN_REALM_PORT"
else
  NOVA_TOKEN_REALM_PORT="$TOKEN_REALM_PORT" NOVA_TOKEN_REALM_KEY="$AUTH_DIR/realm.key" \
    NOVA_TOKEN_REALM_CERT="$AUTH_DIR/realm.crt" NOVA_TOKEN_REALM_USERS="$AUTH_DIR/users.json" \
    NOVA_TOKEN_REALM_ISSUER=nova-sandbox-token-realm NOVA_TOKEN_REALM_SERVICE="nova-sandbox-registry $PRODUCTION_REGISTRY_HOST" \
    start token-realm node "$NOVA_REPO_ROOT/tools/sandbox/token-realm.mjs"
  wait_for token-realm 20 curl -fsS "http://127.0.0.1:$TOKEN_REALM_PORT/__requests"
  log_line token-realm started ":$TOKEN_REALM_PORT"
fi
# token_registry NAME PORT REALM SERVICE: a docker-registry with `auth: token` (tokens of the realm's key only),
# ready when it answers the anonymous probe with its challenge.
token_registry() {
  local name="$1" port="$2" realm="$3" service="$4"
  if is_running "$name"; then
    log_line "$name" running ":$port (token auth)"
    return
  fi
  registry_config "$name" "$port" "auth:
  token:
    realm: $realm
    service: $service
    issuer: nova-sandbox-token-realm
    rootcertbundle: $AUTH_DIR/realm.crt"
  start "$name" "$REGISTRY_BIN" serve "$SANDBOX_DIR/$name/config.yml"
  wait_for "$name" 30 bash -c "curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/v2/ | grep -qx 401"
  log_line "$name" started ":$port (token auth, realm $realm)"
}
token_registry auth-registry "$AUTH_REGISTRY_PORT" "http://localhost:$TOKEN_REALM_PORT/token" nova-sandbox-registry

# ------------------------------------------------------------------------------------- the production registry's address
# The committed production registry, us-docker.pkg.dev/nova-prod/nova, at its own address: a third docker-registry
# (token auth, realm https://us-docker.pkg.dev/v2/token, service us-docker.pkg.dev, as Artifact Registry answers) behind
# an HTTPS front (tools/sandbox/registry-front.mjs) that a client reaches through the standard proxy variables, with
# the sandbox CA as its trust store (tests/integration/harness.ts productionRegistryEnv):
#   HTTPS_PROXY=http://127.0.0.1:$REGISTRY_FRONT_PORT NO_PROXY=127.0.0.1,localhost SSL_CERT_FILE=.sandbox/registry-front/ca.crt
# skopeo and nova-registry-check then speak TLS to us-docker.pkg.dev, get its challenge and a token, and push and pull
# there as they would in production. The sandbox images are published there under the tag `sandbox`.
FRONT_DIR="$SANDBOX_DIR/registry-front"
if [[ ! -f "$FRONT_DIR/server.crt" ]]; then
  mkdir -p "$FRONT_DIR"
  {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/CN=nova-sandbox-ca" -keyout "$FRONT_DIR/ca.key" -out "$FRONT_DIR/ca.crt" &&
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$PRODUCTION_REGISTRY_HOST" \
        -keyout "$FRONT_DIR/server.key" -out "$FRONT_DIR/server.csr" &&
      openssl x509 -req -in "$FRONT_DIR/server.csr" -CA "$FRONT_DIR/ca.crt" -CAkey "$FRONT_DIR/ca.key" \
        -CAcreateserial -days 3650 -extfile <(printf 'subjectAltName=DNS:%s\n' "$PRODUCTION_REGISTRY_HOST") \
        -out "$FRONT_DIR/server.crt"
  } >>"$LOG_DIR/registry-front.log" 2>&1 || fail registry-front "openssl could not make the front's certificate"
fi
token_registry prod-registry "$PROD_REGISTRY_PORT" "https://$PRODUCTION_REGISTRY_HOST/v2/token" "$PRODUCTION_REGISTRY_HOST"
if is_running registry-front; then
  log_line registry-front running ":$REGISTRY_FRONT_PORT"
else
  NOVA_FRONT_PORT="$REGISTRY_FRONT_PORT" NOVA_FRONT_HOST="$PRODUCTION_REGISTRY_HOST" \
    NOVA_FRONT_CERT="$FRONT_DIR/server.crt" NOVA_FRONT_KEY="$FRONT_DIR/server.key" \
    NOVA_FRONT_REGISTRY="http://127.0.0.1:$PROD_REGISTRY_PORT" NOVA_FRONT_REALM="http://127.0.0.1:$TOKEN_REALM_PORT/token" \
    start registry-front node "$NOVA_REPO_ROOT/tools/sandbox/registry-front.mjs"
  wait_for registry-front 20 bash -c "curl -sS -o /dev/null -w '%{http_code}' --cacert '$FRONT_DIR/ca.crt' \
    --proxy http://127.0.0.1:$REGISTRY_FRONT_PORT https://$PRODUCTION_REGISTRY_HOST/v2/ | grep -qx 401"
  log_line registry-front started ":$REGISTRY_FRONT_PORT (https://$PRODUCTION_REGISTRY_HOST)"
fi
for img in nova-rms-api nova-rms-worker; do
  want="$(cat "$SANDBOX_DIR/images/$img.digest")"
  HTTPS_PROXY="http://127.0.0.1:$REGISTRY_FRONT_PORT" NO_PROXY=127.0.0.1,localhost SSL_CERT_FILE="$FRONT_DIR/ca.crt" \
    REGISTRY_AUTH_FILE="$AUTH_DIR/ci-auth.json" skopeo copy --quiet --all --preserve-digests --src-tls-verify=false \
    "docker://127.0.0.1:$REGISTRY_PORT/nova/$img@$want" "docker://$PRODUCTION_REGISTRY/$img:sandbox" \
    >>"$LOG_DIR/images.log" 2>&1 || fail images "skopeo copy of $img to $PRODUCTION_REGISTRY failed"
  log_line "image $img" pushed "$PRODUCTION_REGISTRY/$img:sandbox@$want"
done

# ---------------------------------------------------------------------------------------------------- stand-ins
# Stand-ins started from an older standins.mjs (their sha256 is recorded beside the pid) are restarted.
standins_sha="$(cat "$NOVA_REPO_ROOT/tools/sandbox/standins.mjs" "$NOVA_REPO_ROOT/tools/sandbox/serve-util.mjs" "$NOVA_REPO_ROOT/tools/sandbox/grafana-dashboard.mjs" | sha256sum | cut -d" " -f1)"
if is_running standins && [[ "$(cat "$PID_DIR/standins.sha256" 2>/dev/null)" != "$standins_sha" ]]; then
  stop_component standins
  log_line standins stopped "(older than tools/sandbox/standins.mjs)"
fi
if is_running standins; then
  log_line standins running
else
  start standins node "$NOVA_REPO_ROOT/tools/sandbox/standins.mjs"
  printf '%s\n' "$standins_sha" >"$PID_DIR/standins.sha256"
  wait_for standins 20 curl -fsS "http://127.0.0.1:$STANDIN_API_PORT/__mode"
  log_line standins started ":$STANDIN_API_PORT :$STANDIN_WORKER_PORT :$STANDIN_ALERTMANAGER_PORT :$STANDIN_PROMETHEUS_PORT :$STANDIN_WEBHOOK_PORT :$STANDIN_GRAFANA_PORT"
fi

# ---------------------------------------------------------------------------------------------------- GitHub API
# The Actions workflow endpoints the CI schedules' pause uses (tools/sandbox/github-standin.mjs); its token, made once,
# is .sandbox/github/token (GITHUB_TOKEN for a sandbox stack with nova-rollout:ciSchedules).
GITHUB_DIR="$SANDBOX_DIR/github"
if [[ ! -f "$GITHUB_DIR/token" ]]; then
  mkdir -p "$GITHUB_DIR"
  (umask 077 && printf 'ghs_sandbox%s\n' "$(openssl rand -hex 16)" >"$GITHUB_DIR/token")
fi
if is_running github-standin; then
  log_line github-standin running ":$STANDIN_GITHUB_PORT"
else
  NOVA_GITHUB_STANDIN_PORT="$STANDIN_GITHUB_PORT" NOVA_GITHUB_TOKEN_FILE="$GITHUB_DIR/token" \
    start github-standin node "$NOVA_REPO_ROOT/tools/sandbox/github-standin.mjs"
  wait_for github-standin 20 curl -fsS "http://127.0.0.1:$STANDIN_GITHUB_PORT/__github"
  log_line github-standin started ":$STANDIN_GITHUB_PORT (token in .sandbox/github/token)"
fi

# ---------------------------------------------------------------------------------------------------- Ingress
# GKE's Ingress controller and load balancer, for IngressClass gce (tools/sandbox/ingress-gateway.mjs): it publishes
# 127.0.0.1:$INGRESS_GATEWAY_PORT in each such Ingress's status and serves its hosts over HTTPS with certificates of
# the sandbox CA (.sandbox/registry-front/ca.crt: a client trusts it with NODE_EXTRA_CA_CERTS), routing each request
# to the rule's Service through a port-forward made through the API server.
gateway_sha="$(sha256sum <"$NOVA_REPO_ROOT/tools/sandbox/ingress-gateway.mjs" | cut -d" " -f1)"
if is_running ingress-gateway && [[ "$(cat "$PID_DIR/ingress-gateway.sha256" 2>/dev/null)" != "$gateway_sha" ]]; then
  stop_component ingress-gateway
  log_line ingress-gateway stopped "(older than tools/sandbox/ingress-gateway.mjs)"
fi
if is_running ingress-gateway; then
  log_line ingress-gateway running ":$INGRESS_GATEWAY_PORT"
else
  NOVA_INGRESS_PORT="$INGRESS_GATEWAY_PORT" NOVA_INGRESS_CLASS=gce KUBECONFIG="$KUBECONFIG_FILE" \
    NOVA_INGRESS_CONTEXT="$KUBE_CONTEXT" NOVA_INGRESS_CA_CERT="$FRONT_DIR/ca.crt" NOVA_INGRESS_CA_KEY="$FRONT_DIR/ca.key" \
    NOVA_INGRESS_CERT_DIR="$SANDBOX_DIR/ingress-gateway" \
    start ingress-gateway node "$NOVA_REPO_ROOT/tools/sandbox/ingress-gateway.mjs"
  printf '%s\n' "$gateway_sha" >"$PID_DIR/ingress-gateway.sha256"
  wait_for ingress-gateway 20 curl -fsS --cacert "$FRONT_DIR/ca.crt" \
    --resolve "ingress-gateway.sandbox:$INGRESS_GATEWAY_PORT:127.0.0.1" "https://ingress-gateway.sandbox:$INGRESS_GATEWAY_PORT/__ingress"
  log_line ingress-gateway started ":$INGRESS_GATEWAY_PORT (IngressClass gce)"
fi

# ---------------------------------------------------------------------------------------------------- trust
# Throwaway keys and the sandbox roster (.sandbox/trust), made once: sandbox stacks' bundles and records are judged
# against them, never production's.
trust_state="$(node "$NOVA_REPO_ROOT/tools/sandbox/trust.mjs" "$SANDBOX_DIR/trust" 2>"$LOG_DIR/trust.log")" ||
  fail trust "could not create the sandbox keys and roster"
trust_detail="${trust_state#* }"
log_line trust "${trust_state%% *}" ".sandbox/trust/roster.json (${trust_detail%%:*})"

if [[ "$CLUSTER" == byo ]]; then
  echo "sandbox ready in $(($(now_s) - T0))s: KUBECONFIG=$KUBECONFIG_FILE (context $KUBE_CONTEXT = your context" \
    "$byo_ctx at $byo_server; the registry 127.0.0.1:$REGISTRY_PORT is on this host, see docs/toolchain.md)"
else
  echo "sandbox ready in $(($(now_s) - T0))s: KUBECONFIG=$KUBECONFIG_FILE (context $KUBE_CONTEXT)"
fi
