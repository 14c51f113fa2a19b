# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR
# Shared helpers for tools/*.sh. Source it; it defines functions and a few variables only.

# Repository root (tools/lib/.. /..).
NOVA_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NOVA_CACHE_DIR="${NOVA_CACHE_DIR:-$HOME/.cache/nova-rollout}"
export NOVA_REPO_ROOT NOVA_CACHE_DIR

# shellcheck source=../versions.env
source "$NOVA_REPO_ROOT/tools/versions.env"

# Seconds since the epoch (integer), for elapsed-time reporting.
now_s() { date +%s; }

# log_line PIECE STATUS [DETAIL...] prints one aligned progress line.
log_line() {
  local piece="$1" status="$2"
  shift 2
  printf '  %-26s %-9s %s\n' "$piece" "$status" "$*"
}

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# tail_log FILE prints the last lines of a log to stderr, indented.
tail_log() {
  local file="$1" n="${2:-30}"
  if [[ -f "$file" ]]; then
    printf -- '--- last %s lines of %s ---\n' "$n" "$file" >&2
    tail -n "$n" "$file" | sed 's/^/    /' >&2
  fi
}
