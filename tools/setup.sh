#!/usr/bin/env bash
# Builds (or reuses) the offline toolchain pinned in tools/versions.env and installs the Pulumi plugins.
#
#   npm run setup                 # everything; a warm run takes seconds
#   tools/setup.sh --only etcd    # one piece (names: see PIECES below)
#   tools/setup.sh --rebuild kwok # drop one piece's cache entry and build it again
#   NOVA_SETUP_JOBS=1 tools/setup.sh   # build strictly one piece at a time (default 2)
#
# Cache layout (outside the clone): $NOVA_CACHE_DIR/<piece>-v<version>/bin, logs in $NOVA_CACHE_DIR/logs,
# symlinks to every binary in $NOVA_CACHE_DIR/bin, Pulumi plugins in $NOVA_CACHE_DIR/pulumi-home.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=tools/lib/build.sh
source "$NOVA_REPO_ROOT/tools/lib/build.sh"

# piece|version|binaries (space separated)|command printing the version of a binary found on PATH
PIECES=(
  "pulumi|$PULUMI_VERSION|pulumi|pulumi version"
  "language-nodejs|$LANGUAGE_NODEJS_VERSION|pulumi-language-nodejs|"
  "kubernetes-provider|$K8S_PROVIDER_VERSION|pulumi-resource-kubernetes|"
  "command-provider|$COMMAND_PROVIDER_VERSION|pulumi-resource-command|"
  "etcd|$ETCD_VERSION|etcd|etcd --version"
  "kubernetes|$KUBERNETES_VERSION|kube-apiserver kube-controller-manager kube-scheduler|kube-apiserver --version"
  "kwok|$KWOK_VERSION|kwok|kwok --version"
  "helm|$HELM_VERSION|helm|helm version --short"
  "kube-score|$KUBE_SCORE_VERSION|kube-score|kube-score version"
  "actionlint|$ACTIONLINT_VERSION|actionlint|actionlint -version"
)

only=()
rebuild=()
while (($#)); do
  case "$1" in
  --only) only+=("$2"); shift 2 ;;
  --rebuild) rebuild+=("$2"); only+=("$2"); shift 2 ;;
  -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
  *) die "unknown argument: $1" ;;
  esac
done

JOBS="${NOVA_SETUP_JOBS:-2}"
LOG_DIR="$NOVA_CACHE_DIR/logs"
BIN_DIR="$NOVA_CACHE_DIR/bin"
mkdir -p "$LOG_DIR" "$BIN_DIR"
command -v go >/dev/null || [[ -x /usr/local/go/bin/go ]] || die "Go is required (expected /usr/local/go/bin/go)"
# Signed evidence: records are signed with `ssh-keygen -Y sign`; auditors verify bundles with `openssl pkeyutl`.
command -v ssh-keygen >/dev/null || die "ssh-keygen (OpenSSH >= 8.2) is required to sign and verify records"
command -v openssl >/dev/null || die "openssl (>= 3.0) is required to verify signed bundles"
export PATH="$BIN_DIR:/usr/local/go/bin:$PATH"

# Directories of our own sources whose content decides whether a cached build is still current.
piece_source_dir() {
  case "$1" in
  language-nodejs) echo "$NOVA_REPO_ROOT/tools/language-nodejs" ;;
  command-provider) echo "$NOVA_REPO_ROOT/tools/command-provider" ;;
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

selected() {
  local name="$1" o
  ((${#only[@]} == 0)) && return 0
  for o in "${only[@]}"; do [[ "$o" == "$name" ]] && return 0; done
  return 1
}

# link_piece DIR BINS... points $BIN_DIR/<bin> at DIR/bin/<bin>.
link_piece() {
  local dir="$1" b
  shift
  for b in "$@"; do ln -sfn "$dir/bin/$b" "$BIN_DIR/$b"; done
}

# on_path_matches VERSION BINS VERSION_CMD: true when every binary is on PATH outside our cache and the
# version command mentions VERSION. Only used for pieces that are not ours.
on_path_matches() {
  local version="$1" bins="$2" vcmd="$3" b p out vparts
  [[ -n "$vcmd" ]] || return 1
  read -ra vparts <<<"$vcmd"
  for b in $bins; do
    p="$(PATH="${PATH#"$BIN_DIR:"}" command -v "$b" 2>/dev/null)" || return 1
    [[ "$p" == "$NOVA_CACHE_DIR"/* ]] && return 1
  done
  out="$(PATH="${PATH#"$BIN_DIR:"}" timeout 10 "${vparts[@]}" 2>&1)" || return 1
  grep -qF "$version" <<<"$out"
}

declare -A RUNNING=() STARTED=() LOGS=()
failed=()

start_build() {
  local name="$1" version="$2" dir="$3" log="$4"
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
  STARTED[$name]="$(now_s)"
  LOGS[$name]="$log"
  log_line "$name" building "v$version (log: $log)"
}

# Waits for one running build to finish and reports it.
reap_one() {
  local pid status=0 name
  wait -n -p pid "${!RUNNING[@]}" || status=$?
  name="${RUNNING[$pid]}"
  unset "RUNNING[$pid]"
  if ((status == 0)); then
    log_line "$name" "done" "$(($(now_s) - STARTED[$name]))s"
  else
    log_line "$name" FAILED "after $(($(now_s) - STARTED[$name]))s, log: ${LOGS[$name]}"
    tail_log "${LOGS[$name]}" 20
    failed+=("$name")
  fi
}

t0="$(now_s)"
echo "nova-rollout toolchain -> $NOVA_CACHE_DIR"
declare -A PIECE_DIR=() PIECE_BINS=()
for spec in "${PIECES[@]}"; do
  IFS='|' read -r name version bins vcmd <<<"$spec"
  selected "$name" || continue
  dir="$NOVA_CACHE_DIR/$name-v$version"
  PIECE_DIR[$name]="$dir"
  PIECE_BINS[$name]="$bins"
  for r in "${rebuild[@]+"${rebuild[@]}"}"; do [[ "$r" == "$name" ]] && rm -rf "$dir"; done
  if [[ -f "$dir/.complete" && "$(cat "$dir/.complete")" == "$(piece_stamp "$name" "$version")" ]]; then
    log_line "$name" cached "v$version"
    continue
  fi
  if on_path_matches "$version" "$bins" "$vcmd"; then
    # Reuse a matching binary that is already installed: link it into the cache's bin dir.
    mkdir -p "$dir/bin"
    for b in $bins; do ln -sfn "$(PATH="${PATH#"$BIN_DIR:"}" command -v "$b")" "$dir/bin/$b"; done
    piece_stamp "$name" "$version" >"$dir/.complete"
    log_line "$name" on-path "v$version"
    continue
  fi
  while ((${#RUNNING[@]} >= JOBS)); do reap_one; done
  start_build "$name" "$version" "$dir" "$LOG_DIR/$name-v$version.log"
done
while ((${#RUNNING[@]} > 0)); do reap_one; done

for name in "${!PIECE_DIR[@]}"; do
  [[ -f "${PIECE_DIR[$name]}/.complete" ]] || continue
  # shellcheck disable=SC2086 # PIECE_BINS holds a space separated list on purpose
  link_piece "${PIECE_DIR[$name]}" ${PIECE_BINS[$name]}
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

if ((${#failed[@]})); then
  die "failed: ${failed[*]} (logs in $LOG_DIR)"
fi

# Pulumi plugins, installed from the files we built into a Pulumi home inside the cache.
# shellcheck source=tools/env.sh
source "$NOVA_REPO_ROOT/tools/env.sh"
install_plugin() {
  local name="$1" version="$2" bin="$3" log="$LOG_DIR/plugin-$1-$2.log"
  local dest="$PULUMI_HOME/plugins/resource-$name-v$version"
  # Already installed from the same file: nothing to do (keeps a warm run fast).
  if [[ -f "$dest/$bin" ]] && cmp -s "$dest/$bin" "$BIN_DIR/$bin"; then
    log_line "plugin $name" cached "v$version"
    return 0
  fi
  local t
  t="$(now_s)"
  if ! pulumi plugin install resource "$name" "$version" --file "$(readlink -f "$BIN_DIR/$bin")" --reinstall \
    >"$log" 2>&1; then
    log_line "plugin $name" FAILED "log: $log"
    tail_log "$log" 20
    exit 1
  fi
  log_line "plugin $name" installed "v$version $(($(now_s) - t))s"
}
if [[ -x "$BIN_DIR/pulumi" ]]; then
  [[ -x "$BIN_DIR/pulumi-resource-kubernetes" ]] &&
    install_plugin kubernetes "$K8S_PROVIDER_VERSION" pulumi-resource-kubernetes
  [[ -x "$BIN_DIR/pulumi-resource-command" ]] &&
    install_plugin command "$COMMAND_PROVIDER_VERSION" pulumi-resource-command
fi

# Debian packages for the sandbox image registry (best effort: the sandbox reports a clear error if absent).
apt_pieces=()
command -v skopeo >/dev/null || apt_pieces+=(skopeo)
[[ -x /usr/bin/docker-registry ]] || apt_pieces+=(docker-registry)
if ((${#apt_pieces[@]})); then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    t="$(now_s)"
    log="$LOG_DIR/apt.log"
    log_line "apt ${apt_pieces[*]}" installing "(log: $log)"
    if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${apt_pieces[@]}"; } >"$log" 2>&1; then
      log_line "apt ${apt_pieces[*]}" "done" "$(($(now_s) - t))s"
    else
      log_line "apt ${apt_pieces[*]}" FAILED "the sandbox registry will be unavailable; log: $log"
    fi
  else
    log_line "apt ${apt_pieces[*]}" missing "install them as root to enable the sandbox registry"
  fi
else
  log_line "apt skopeo docker-registry" present
fi

echo "toolchain ready in $(($(now_s) - t0))s; source tools/env.sh to use it"
