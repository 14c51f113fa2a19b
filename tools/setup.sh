#!/usr/bin/env bash
# Builds (or reuses) the toolchain pinned in tools/versions.env and installs the Pulumi plugins.
#
#   npm run setup                 # everything; a warm run takes seconds
#   tools/setup.sh --only etcd    # one piece (names: see PIECES below)
#   tools/setup.sh --rebuild kwok # drop one piece's cache entry and build it again
#   tools/setup.sh --resolve-only # only say which Pulumi toolchain would be used and which pieces are needed
#   NOVA_TOOLCHAIN=offline tools/setup.sh   # always the offline Pulumi build (what the integration tests need)
#   NOVA_SETUP_JOBS=1 tools/setup.sh        # build strictly one piece at a time (default: 2, at most the cores)
#
# A Pulumi CLI on PATH that the installed @pulumi/pulumi SDK accepts is used instead of building one (see
# tools/lib/resolve.sh); with NOVA_SANDBOX_CLUSTER_KUBECONFIG/_CONTEXT set (your own cluster for the sandbox) etcd,
# kubernetes and kwok are not built. NOVA_TOOLCHAIN=offline builds everything. Every run ends with a table of
# per-piece seconds and results. Cache layout (outside the clone): $NOVA_CACHE_DIR/<piece>-v<version>/bin, logs in
# $NOVA_CACHE_DIR/logs, symlinks in $NOVA_CACHE_DIR/bin (every piece) and $NOVA_CACHE_DIR/tools-bin (all but the
# Pulumi pieces), Pulumi plugins in $NOVA_CACHE_DIR/pulumi-home.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=tools/lib/build.sh
source "$NOVA_REPO_ROOT/tools/lib/build.sh"
# shellcheck source=tools/lib/resolve.sh
source "$NOVA_REPO_ROOT/tools/lib/resolve.sh"

# piece|version|binaries (space separated)|command printing the version of a binary found on PATH|
#   estimated cold build seconds (docs/toolchain.md "Timings"; a build recorded in logs/timings.tsv wins)|
#   a piece to build first when both are built (it fills the Go build cache with the packages they share)
PIECES=(
  "pulumi|$PULUMI_VERSION|pulumi|pulumi version|2290|"
  "language-nodejs|$LANGUAGE_NODEJS_VERSION|pulumi-language-nodejs||140|pulumi"
  "kubernetes-provider|$K8S_PROVIDER_VERSION|pulumi-resource-kubernetes||3860|"
  "command-provider|$COMMAND_PROVIDER_VERSION|pulumi-resource-command||130|pulumi"
  "etcd|$ETCD_VERSION|etcd|etcd --version|240|"
  "kubernetes|$KUBERNETES_VERSION|kube-apiserver kube-controller-manager kube-scheduler|kube-apiserver --version|2060|"
  "kwok|$KWOK_VERSION|kwok|kwok --version|420|"
  "helm|$HELM_VERSION|helm|helm version --short|290|"
  "kube-score|$KUBE_SCORE_VERSION|kube-score|kube-score version|45|"
  "actionlint|$ACTIONLINT_VERSION|actionlint|actionlint -version|20|"
  "s3-standin|$S3_STANDIN_VERSION|s3-standin||15|"
  "registry-check|$REGISTRY_CHECK_VERSION|nova-registry-check||25|"
)

only=()
rebuild=()
resolve_only=false
while (($#)); do
  case "$1" in
  --only) only+=("$2"); shift 2 ;;
  --rebuild) rebuild+=("$2"); only+=("$2"); shift 2 ;;
  --resolve-only) resolve_only=true; shift ;;
  -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
  *) die "unknown argument: $1" ;;
  esac
done

selected() {
  local name="$1" o
  ((${#only[@]} == 0)) && return 0
  for o in "${only[@]}"; do [[ "$o" == "$name" ]] && return 0; done
  return 1
}

is_pulumi_piece() {
  local p
  for p in "${NOVA_PULUMI_PIECES[@]}"; do [[ "$p" == "$1" ]] && return 0; done
  return 1
}

# Skipped because the CLI on PATH is used (a piece named with --only/--rebuild is still built).
skipped_for_path() {
  [[ "$NOVA_RESOLVED" == path ]] && ((${#only[@]} == 0)) && is_pulumi_piece "$1"
}

# The sandbox uses your own cluster (NOVA_SANDBOX_CLUSTER_KUBECONFIG / _CONTEXT, see tools/sandbox/up.sh): the
# control plane pieces are not built, unless NOVA_TOOLCHAIN=offline asks for the whole offline build (which the
# integration tests need) or --only/--rebuild names them.
BYO_CLUSTER=false
if [[ -n "${NOVA_SANDBOX_CLUSTER_KUBECONFIG:-}${NOVA_SANDBOX_CLUSTER_CONTEXT:-}" && "${NOVA_TOOLCHAIN:-}" != offline ]]; then
  BYO_CLUSTER=true
fi
skipped_for_cluster() {
  $BYO_CLUSTER && ((${#only[@]} == 0)) && [[ "$1" == etcd || "$1" == kubernetes || "$1" == kwok ]]
}

# ---------------------------------------------------------------------------------------------- which toolchain
nova_resolve_toolchain
echo "toolchain: $NOVA_RESOLVED_REASON"
if $BYO_CLUSTER; then
  echo "sandbox: your cluster (NOVA_SANDBOX_CLUSTER_*): etcd, kubernetes and kwok are not built —" \
    "NOVA_TOOLCHAIN=offline builds everything"
fi
if $resolve_only; then
  needed=()
  for spec in "${PIECES[@]}"; do
    IFS='|' read -r name _ <<<"$spec"
    selected "$name" && ! skipped_for_path "$name" && ! skipped_for_cluster "$name" && needed+=("$name")
  done
  echo "toolchain=$NOVA_RESOLVED"
  echo "pulumi=${NOVA_RESOLVED_PULUMI:-$NOVA_CACHE_DIR/bin/pulumi}"
  echo "pulumi_version=${NOVA_RESOLVED_VERSION:-$PULUMI_VERSION}"
  echo "min_cli_version=${NOVA_RESOLVED_MIN:-}"
  echo "pieces=${needed[*]}"
  exit 0
fi

nproc_="$(nproc 2>/dev/null || echo 1)"
JOBS="${NOVA_SETUP_JOBS:-$((nproc_ < 2 ? 1 : 2))}"
((JOBS >= 1)) || die "NOVA_SETUP_JOBS must be at least 1"
LOG_DIR="$NOVA_CACHE_DIR/logs"
BIN_DIR="$NOVA_CACHE_DIR/bin"
TOOLS_BIN_DIR="$NOVA_CACHE_DIR/tools-bin"
TIMINGS="$LOG_DIR/timings.tsv"
mkdir -p "$LOG_DIR" "$BIN_DIR" "$TOOLS_BIN_DIR"
# Signed evidence: records are signed with `ssh-keygen -Y sign`; auditors verify bundles with `openssl pkeyutl`.
command -v ssh-keygen >/dev/null || die "ssh-keygen (OpenSSH >= 8.2) is required to sign and verify records"
command -v openssl >/dev/null || die "openssl (>= 3.0) is required to verify signed bundles"
nova_record_toolchain
PATH_BEFORE_SETUP="$PATH"
export PATH="$BIN_DIR:/usr/local/go/bin:$PATH"

# Wall-clock milliseconds (bash 5 EPOCHREALTIME), for the timing table.
now_ms() {
  local t="${EPOCHREALTIME/,/.}"
  echo "$((${t%.*} * 1000 + 10#$(printf '%.3s' "${t#*.}000")))"
}
fmt_s() { printf '%d.%d' "$(($1 / 1000))" "$((($1 % 1000) / 100))"; }

# Directories of our own sources whose content decides whether a cached build is still current.
piece_source_dir() {
  case "$1" in
  language-nodejs) echo "$NOVA_REPO_ROOT/tools/language-nodejs" ;;
  command-provider) echo "$NOVA_REPO_ROOT/tools/command-provider" ;;
  s3-standin) echo "$NOVA_REPO_ROOT/tools/s3-standin" ;;
  registry-check) echo "$NOVA_REPO_ROOT/tools/registry-check" ;;
  *) echo "" ;;
  esac
}

# A stamp recorded next to a finished build: the version plus, for our own sources, a content hash.
piece_stamp() {
  local name="$1" version="$2" src
  src="$(piece_source_dir "$name")"
  if [[ -n "$src" ]]; then
    printf '%s %s\n' "$version" "$(cd "$src" && find . -type f ! -name '*_test.go' -print0 | LC_ALL=C sort -z |
      xargs -0 sha256sum | sha256sum | cut -c1-16)"
  else
    printf '%s\n' "$version"
  fi
}

# link_piece NAME DIR BINS... points $BIN_DIR/<bin> (and, for pieces that are not Pulumi's, $TOOLS_BIN_DIR/<bin>)
# at DIR/bin/<bin>.
link_piece() {
  local name="$1" dir="$2" b
  shift 2
  for b in "$@"; do
    ln -sfn "$dir/bin/$b" "$BIN_DIR/$b"
    is_pulumi_piece "$name" || ln -sfn "$dir/bin/$b" "$TOOLS_BIN_DIR/$b"
  done
}

# on_path_matches VERSION BINS VERSION_CMD: true when every binary is on PATH outside our cache and the
# version command mentions VERSION. Only used for pieces that are not ours.
on_path_matches() {
  local version="$1" bins="$2" vcmd="$3" b out vparts
  [[ -n "$vcmd" ]] || return 1
  read -ra vparts <<<"$vcmd"
  for b in $bins; do
    PATH="$PATH_BEFORE_SETUP" nova_find_on_path "$b" >/dev/null || return 1
  done
  # Run exactly the binary found (not one of ours that may come first on PATH).
  vparts[0]="$(PATH="$PATH_BEFORE_SETUP" nova_find_on_path "${vparts[0]}")" || return 1
  out="$(timeout 10 "${vparts[@]}" 2>&1)" || return 1
  grep -qF "$version" <<<"$out"
}

# Estimated cold build seconds: the last recorded build of the piece, else the spec's estimate.
estimate() {
  local name="$1" default="$2" last=""
  [[ -f "$TIMINGS" ]] && last="$(awk -F'\t' -v p="$name" '$1 == p { s = $3 } END { print s }' "$TIMINGS")"
  echo "${last:-$default}"
}

# Per-piece results for the table at the end: name -> "milliseconds|result".
declare -A RESULT=()
ORDER=()
record() {
  [[ -v "RESULT[$1]" ]] || ORDER+=("$1")
  RESULT[$1]="$2|$3"
}

declare -A RUNNING=() STARTED=() LOGS=() VERSION_OF=() AFTER=() EST=()
failed=()
go_checked=false

start_build() {
  local name="$1" version="$2" dir="$3" log="$4"
  if ! $go_checked; then
    command -v go >/dev/null || die "Go is required to build $name (expected /usr/local/go/bin/go)"
    go_checked=true
  fi
  rm -rf "$dir"
  mkdir -p "$dir/bin"
  local work
  work="$(mktemp -d "$NOVA_CACHE_DIR/.work-$name.XXXXXX")"
  (
    set -euo pipefail
    "build_${name//-/_}" "$dir" "$work"
    piece_stamp "$name" "$version" >"$dir/.complete"
    rm -rf "$work"
  ) >"$log" 2>&1 &
  RUNNING[$!]="$name"
  STARTED[$name]="$(now_ms)"
  LOGS[$name]="$log"
  log_line "$name" building "v$version (estimated ${EST[$name]}s; log: $log)"
}

# Waits for one running build to finish and reports it.
reap_one() {
  local pid status=0 name ms
  wait -n -p pid "${!RUNNING[@]}" || status=$?
  name="${RUNNING[$pid]}"
  unset "RUNNING[$pid]"
  ms=$(($(now_ms) - STARTED[$name]))
  if ((status == 0)); then
    log_line "$name" "done" "$(fmt_s "$ms")s"
    record "$name" "$ms" built
    printf '%s\t%s\t%s\n' "$name" "${VERSION_OF[$name]}" "$((ms / 1000))" >>"$TIMINGS"
  else
    log_line "$name" FAILED "after $(fmt_s "$ms")s, log: ${LOGS[$name]}"
    tail_log "${LOGS[$name]}" 20
    record "$name" "$ms" FAILED
    failed+=("$name")
  fi
}

running_names() { printf ' %s ' "${RUNNING[@]+"${RUNNING[@]}"}"; }

t0="$(now_ms)"
echo "nova-rollout toolchain -> $NOVA_CACHE_DIR"
declare -A PIECE_DIR=() PIECE_BINS=()
queue=()
for spec in "${PIECES[@]}"; do
  IFS='|' read -r name version bins vcmd est after <<<"$spec"
  selected "$name" || continue
  t="$(now_ms)"
  record "$name" 0 queued # keeps the table in PIECES order
  if skipped_for_path "$name"; then
    log_line "$name" skipped "your pulumi v$NOVA_RESOLVED_VERSION ($NOVA_RESOLVED_PULUMI) is used"
    record "$name" "$(($(now_ms) - t))" "skipped (PATH CLI)"
    continue
  fi
  if skipped_for_cluster "$name"; then
    log_line "$name" skipped "the sandbox uses your cluster (NOVA_SANDBOX_CLUSTER_*)"
    record "$name" "$(($(now_ms) - t))" "skipped (your cluster)"
    continue
  fi
  dir="$NOVA_CACHE_DIR/$name-v$version"
  PIECE_DIR[$name]="$dir"
  PIECE_BINS[$name]="$bins"
  VERSION_OF[$name]="$version"
  for r in "${rebuild[@]+"${rebuild[@]}"}"; do [[ "$r" == "$name" ]] && rm -rf "$dir"; done
  if [[ -f "$dir/.complete" && "$(cat "$dir/.complete")" == "$(piece_stamp "$name" "$version")" ]]; then
    log_line "$name" cached "v$version"
    record "$name" "$(($(now_ms) - t))" cached
    continue
  fi
  if on_path_matches "$version" "$bins" "$vcmd"; then
    # Reuse a matching binary that is already installed: link it into the cache's bin dir.
    mkdir -p "$dir/bin"
    for b in $bins; do ln -sfn "$(PATH="$PATH_BEFORE_SETUP" nova_find_on_path "$b")" "$dir/bin/$b"; done
    piece_stamp "$name" "$version" >"$dir/.complete"
    log_line "$name" on-path "v$version"
    record "$name" "$(($(now_ms) - t))" on-path
    continue
  fi
  EST[$name]="$(estimate "$name" "$est")"
  AFTER[$name]="$after"
  queue+=("$name")
done

# Longest first (the cold build is bounded by its longest piece), at most $JOBS at a time; a piece waits for the
# piece it is built after while that one is queued or building, and its slot goes to the next piece meanwhile.
if ((${#queue[@]})); then
  mapfile -t queue < <(for n in "${queue[@]}"; do printf '%s %s\n' "${EST[$n]}" "$n"; done | sort -k1,1nr -k2 |
    cut -d' ' -f2)
  echo "building ${#queue[@]} piece(s), longest first, $JOBS at a time: ${queue[*]}"
fi
while ((${#queue[@]} > 0 || ${#RUNNING[@]} > 0)); do
  if ((${#RUNNING[@]} < JOBS && ${#queue[@]} > 0)); then
    pick=-1
    for i in "${!queue[@]}"; do
      dep="${AFTER[${queue[$i]}]}"
      if [[ -n "$dep" ]] && { [[ " ${queue[*]} " == *" $dep "* ]] || [[ "$(running_names)" == *" $dep "* ]]; }; then
        continue
      fi
      pick="$i"
      break
    done
    # Nothing may start yet: wait for a running build, or (nothing running) start the head of the queue.
    if ((pick < 0 && ${#RUNNING[@]} == 0)); then pick=0; fi
    if ((pick >= 0)); then
      name="${queue[$pick]}"
      queue=("${queue[@]:0:pick}" "${queue[@]:pick+1}")
      start_build "$name" "${VERSION_OF[$name]}" "${PIECE_DIR[$name]}" "$LOG_DIR/$name-v${VERSION_OF[$name]}.log"
      continue
    fi
  fi
  reap_one
done

for name in "${!PIECE_DIR[@]}"; do
  [[ -f "${PIECE_DIR[$name]}/.complete" ]] || continue
  # shellcheck disable=SC2086 # PIECE_BINS holds a space separated list on purpose
  link_piece "$name" "${PIECE_DIR[$name]}" ${PIECE_BINS[$name]}
done

# The CLI expects bundled language hosts next to its own (symlink-resolved) executable and warns when the one
# found on PATH resolves elsewhere. So the language host gets a hard link (a copy across file systems) beside
# `pulumi`, and the bin/ symlink points at that file.
lang_dir="$NOVA_CACHE_DIR/language-nodejs-v$LANGUAGE_NODEJS_VERSION"
pulumi_dir="$NOVA_CACHE_DIR/pulumi-v$PULUMI_VERSION"
if [[ -f "$lang_dir/.complete" && -f "$pulumi_dir/.complete" && ! -L "$pulumi_dir/bin/pulumi" ]]; then
  bundled="$pulumi_dir/bin/pulumi-language-nodejs"
  if [[ -L "$bundled" ]] || ! cmp -s "$bundled" "$lang_dir/bin/pulumi-language-nodejs"; then
    rm -f "$bundled"
    ln "$lang_dir/bin/pulumi-language-nodejs" "$bundled" 2>/dev/null ||
      cp "$lang_dir/bin/pulumi-language-nodejs" "$bundled"
  fi
  ln -sfn "$bundled" "$BIN_DIR/pulumi-language-nodejs"
fi

print_table() {
  local name ms result
  echo
  printf '  %-28s %8s  %s\n' piece seconds result
  for name in "${ORDER[@]}"; do
    IFS='|' read -r ms result <<<"${RESULT[$name]}"
    printf '  %-28s %8s  %s\n' "$name" "$(fmt_s "$ms")" "$result"
  done
  printf '  %-28s %8s\n' "total (wall)" "$(fmt_s "$(($(now_ms) - t0))")"
}

if ((${#failed[@]})); then
  print_table
  die "failed: ${failed[*]} (logs in $LOG_DIR)"
fi

# Pulumi plugins, installed from the files we built into a Pulumi home inside the cache (offline toolchain only;
# with the CLI on PATH, Pulumi acquires plugins itself into the user's PULUMI_HOME when they are first needed).
install_plugin() {
  local name="$1" version="$2" bin="$3" log="$LOG_DIR/plugin-$1-$2.log" t
  local dest="$PULUMI_HOME/plugins/resource-$name-v$version"
  t="$(now_ms)"
  # Already installed from the same file: nothing to do (keeps a warm run fast).
  if [[ -f "$dest/$bin" ]] && cmp -s "$dest/$bin" "$BIN_DIR/$bin"; then
    log_line "plugin $name" cached "v$version"
    record "plugin $name" "$(($(now_ms) - t))" cached
    return 0
  fi
  if ! pulumi plugin install resource "$name" "$version" --file "$(readlink -f "$BIN_DIR/$bin")" --reinstall \
    >"$log" 2>&1; then
    log_line "plugin $name" FAILED "log: $log"
    tail_log "$log" 20
    record "plugin $name" "$(($(now_ms) - t))" FAILED
    print_table
    exit 1
  fi
  log_line "plugin $name" installed "v$version $(fmt_s "$(($(now_ms) - t))")s"
  record "plugin $name" "$(($(now_ms) - t))" installed
}
if [[ "$NOVA_RESOLVED" == offline ]]; then
  NOVA_TOOLCHAIN=offline
  # shellcheck source=tools/env.sh
  source "$NOVA_REPO_ROOT/tools/env.sh"
  if [[ -x "$BIN_DIR/pulumi" ]]; then
    [[ -x "$BIN_DIR/pulumi-resource-kubernetes" ]] &&
      install_plugin kubernetes "$K8S_PROVIDER_VERSION" pulumi-resource-kubernetes
    [[ -x "$BIN_DIR/pulumi-resource-command" ]] &&
      install_plugin command "$COMMAND_PROVIDER_VERSION" pulumi-resource-command
  fi
else
  log_line "plugins" skipped "your pulumi installs kubernetes v$K8S_PROVIDER_VERSION and command v$COMMAND_PROVIDER_VERSION when first needed"
fi

# Debian packages for the sandbox image registry (best effort: the sandbox reports a clear error if absent).
apt_pieces=()
command -v skopeo >/dev/null || apt_pieces+=(skopeo)
[[ -x /usr/bin/docker-registry ]] || apt_pieces+=(docker-registry)
t="$(now_ms)"
if ((${#apt_pieces[@]} == 0)); then
  log_line "apt skopeo docker-registry" present
  record "apt skopeo docker-registry" "$(($(now_ms) - t))" present
elif [[ "${NOVA_SETUP_APT:-1}" == 0 ]]; then
  log_line "apt ${apt_pieces[*]}" skipped "NOVA_SETUP_APT=0"
  record "apt ${apt_pieces[*]}" 0 "skipped (NOVA_SETUP_APT=0)"
elif [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  log="$LOG_DIR/apt.log"
  log_line "apt ${apt_pieces[*]}" installing "(log: $log)"
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${apt_pieces[@]}"; } >"$log" 2>&1; then
    log_line "apt ${apt_pieces[*]}" "done" "$(fmt_s "$(($(now_ms) - t))")s"
    record "apt ${apt_pieces[*]}" "$(($(now_ms) - t))" installed
  else
    log_line "apt ${apt_pieces[*]}" FAILED "the sandbox registry will be unavailable; log: $log"
    record "apt ${apt_pieces[*]}" "$(($(now_ms) - t))" FAILED
  fi
else
  log_line "apt ${apt_pieces[*]}" missing "install them as root to enable the sandbox registry"
  record "apt ${apt_pieces[*]}" 0 missing
fi

print_table
echo "toolchain ($NOVA_RESOLVED) ready in $(fmt_s "$(($(now_ms) - t0))")s; source tools/env.sh to use it"
if [[ "$NOVA_RESOLVED" == path && ! -x "$BIN_DIR/pulumi" ]]; then
  echo "note: the integration tests need the offline build: NOVA_TOOLCHAIN=offline npm run setup"
fi
