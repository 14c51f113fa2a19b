# shellcheck shell=bash
# Which Pulumi toolchain `npm run setup` provides (sourced by tools/setup.sh after tools/lib/common.sh):
#
#   path     a Pulumi CLI on PATH (outside the cache) at least as new as the installed @pulumi/pulumi SDK requires,
#            with a pulumi-language-nodejs beside it or on PATH: its own language host, the user's PULUMI_HOME and
#            Pulumi's normal plugin acquisition are used; the offline Pulumi pieces are not built.
#   offline  the pinned offline build from tools/versions.env (pulumi, our language host, our plugin builds).
#
# NOVA_TOOLCHAIN=offline forces the offline build, NOVA_TOOLCHAIN=path the CLI on PATH (an error when there is none
# or it is too old); unset, empty or `auto` decides as above. The integration tests need the offline build
# (`NOVA_TOOLCHAIN=offline npm run setup`).

# The pieces only the offline Pulumi toolchain needs; skipped when the CLI on PATH is used.
# shellcheck disable=SC2034 # used by tools/setup.sh
NOVA_PULUMI_PIECES=(pulumi language-nodejs kubernetes-provider command-provider)

# The record of the last decision, read by tools/env.sh and tools/toolchain.ts (`selectedToolchain`).
NOVA_TOOLCHAIN_RECORD="$NOVA_CACHE_DIR/toolchain.env"

# nova_semver_cmp A B prints -1, 0 or 1 (semver 2.0 precedence; a leading `v` and build metadata are ignored).
nova_semver_cmp() {
  local a="${1#v}" b="${2#v}" ac bc ap="" bp="" i x y
  a="${a%%+*}"
  b="${b%%+*}"
  ac="${a%%-*}"
  bc="${b%%-*}"
  [[ "$a" == *-* ]] && ap="${a#*-}"
  [[ "$b" == *-* ]] && bp="${b#*-}"
  local -a an bn
  IFS=. read -ra an <<<"$ac"
  IFS=. read -ra bn <<<"$bc"
  for i in 0 1 2; do
    x="$((10#${an[$i]:-0}))"
    y="$((10#${bn[$i]:-0}))"
    if ((x < y)); then echo -1 && return; fi
    if ((x > y)); then echo 1 && return; fi
  done
  # A release ranks above its pre-releases.
  if [[ -z "$ap" && -z "$bp" ]]; then echo 0 && return; fi
  if [[ -z "$ap" ]]; then echo 1 && return; fi
  if [[ -z "$bp" ]]; then echo -1 && return; fi
  local -a apa bpa
  IFS=. read -ra apa <<<"$ap"
  IFS=. read -ra bpa <<<"$bp"
  for ((i = 0; i < ${#apa[@]} || i < ${#bpa[@]}; i++)); do
    if ((i >= ${#apa[@]})); then echo -1 && return; fi
    if ((i >= ${#bpa[@]})); then echo 1 && return; fi
    x="${apa[$i]}"
    y="${bpa[$i]}"
    [[ "$x" == "$y" ]] && continue
    if [[ "$x" =~ ^[0-9]+$ && "$y" =~ ^[0-9]+$ ]]; then
      if ((10#$x < 10#$y)); then echo -1; else echo 1; fi
      return
    fi
    # Numeric identifiers rank below alphanumeric ones; alphanumerics compare in ASCII order.
    if [[ "$x" =~ ^[0-9]+$ ]]; then echo -1 && return; fi
    if [[ "$y" =~ ^[0-9]+$ ]]; then echo 1 && return; fi
    if [[ "$x" < "$y" ]]; then echo -1; else echo 1; fi
    return
  done
  echo 0
}

# True when $1 looks like a semantic version (an optional leading `v`).
nova_is_semver() {
  [[ "$1" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$ ]]
}

# The minimum CLI version the installed @pulumi/pulumi Automation API accepts (automation/minimumVersion.js),
# without the leading `v`; prints nothing when node_modules is not installed.
nova_sdk_min_cli_version() {
  local f="$NOVA_REPO_ROOT/node_modules/@pulumi/pulumi/automation/minimumVersion.js" v
  [[ -f "$f" ]] || return 0
  v="$(sed -n 's/.*SemVer("v\{0,1\}\([^"]*\)").*/\1/p' "$f")" || v=""
  v="${v%%$'\n'*}"
  nova_is_semver "$v" && printf '%s\n' "${v#v}"
  return 0
}

# The installed @pulumi/pulumi SDK version (for messages).
nova_sdk_version() {
  local f="$NOVA_REPO_ROOT/node_modules/@pulumi/pulumi/package.json"
  local v=""
  [[ -f "$f" ]] && v="$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$f")"
  printf '%s\n' "${v%%$'\n'*}"
}

# True when PATH_ENTRY is inside the cache (our own bin dirs never count as "a CLI on PATH").
nova_in_cache() {
  local p="$1" cache
  cache="$(cd "$NOVA_CACHE_DIR" 2>/dev/null && pwd -P)" || cache="$NOVA_CACHE_DIR"
  [[ "$p" == "$NOVA_CACHE_DIR" || "$p" == "$NOVA_CACHE_DIR"/* || "$p" == "$cache" || "$p" == "$cache"/* ]]
}

# nova_find_on_path NAME prints the first executable NAME on PATH outside the cache (also following symlinks).
nova_find_on_path() {
  local name="$1" dir real
  local -a dirs
  IFS=: read -ra dirs <<<"$PATH"
  for dir in "${dirs[@]}"; do
    [[ -n "$dir" ]] || continue
    nova_in_cache "$dir" && continue
    [[ -f "$dir/$name" && -x "$dir/$name" ]] || continue
    real="$(readlink -f "$dir/$name" 2>/dev/null)" || real="$dir/$name"
    nova_in_cache "$real" && continue
    printf '%s\n' "$dir/$name"
    return 0
  done
  return 1
}

# nova_cli_version PULUMI prints the version `PULUMI version` reports, without the leading `v`.
nova_cli_version() {
  local out line v=""
  out="$(PULUMI_SKIP_UPDATE_CHECK=true timeout 30 "$1" version 2>/dev/null)" || return 1
  while IFS= read -r line; do
    line="${line//[[:space:]]/}"
    nova_is_semver "$line" && v="${line#v}"
  done <<<"$out"
  [[ -n "$v" ]] && printf '%s\n' "$v"
}

# nova_language_host PULUMI prints the pulumi-language-nodejs the CLI would run: beside its executable (symlinks
# followed, as the CLI does) or on PATH.
nova_language_host() {
  local cli="$1" real f
  real="$(readlink -f "$cli" 2>/dev/null)" || real="$cli"
  for f in "$(dirname "$real")/pulumi-language-nodejs" "$(dirname "$cli")/pulumi-language-nodejs"; do
    [[ -f "$f" && -x "$f" ]] && printf '%s\n' "$f" && return 0
  done
  nova_find_on_path pulumi-language-nodejs
}

# nova_resolve_toolchain sets NOVA_RESOLVED (path|offline), NOVA_RESOLVED_PULUMI, NOVA_RESOLVED_VERSION,
# NOVA_RESOLVED_MIN and NOVA_RESOLVED_REASON (one line saying what was chosen and why). Dies on a bad
# NOVA_TOOLCHAIN or when NOVA_TOOLCHAIN=path cannot be honoured.
nova_resolve_toolchain() {
  local want="${NOVA_TOOLCHAIN:-auto}" cli="" version="" min sdk lang offline_what
  NOVA_RESOLVED=offline
  NOVA_RESOLVED_PULUMI=""
  NOVA_RESOLVED_VERSION=""
  offline_what="the offline build is used (pulumi v$PULUMI_VERSION from tools/versions.env)"
  case "$want" in
  offline)
    NOVA_RESOLVED_REASON="NOVA_TOOLCHAIN=offline: $offline_what"
    return 0
    ;;
  path | auto | "") ;;
  *) die "NOVA_TOOLCHAIN=$want: expected offline, path or auto" ;;
  esac
  min="$(nova_sdk_min_cli_version)"
  sdk="$(nova_sdk_version)"
  NOVA_RESOLVED_MIN="$min"
  local required="${min:+>= $min required by @pulumi/pulumi ${sdk:-?}}"
  local fail=""
  if ! cli="$(nova_find_on_path pulumi)"; then
    fail="no pulumi CLI on PATH"
  elif ! version="$(nova_cli_version "$cli")"; then
    fail="\`$cli version\` did not report a version"
  elif [[ -z "$min" ]]; then
    fail="the minimum CLI version of @pulumi/pulumi is unknown (node_modules/@pulumi/pulumi missing: run \`npm ci\`)"
  elif [[ "$(nova_semver_cmp "$version" "$min")" == -1 ]]; then
    fail="pulumi v$version from $cli is too old ($required)"
  elif ! lang="$(nova_language_host "$cli")"; then
    fail="pulumi v$version from $cli has no pulumi-language-nodejs beside it or on PATH"
  fi
  if [[ -n "$fail" ]]; then
    [[ "$want" == path ]] && die "NOVA_TOOLCHAIN=path, but $fail (unset NOVA_TOOLCHAIN to build the offline toolchain)"
    NOVA_RESOLVED_REASON="$fail: $offline_what"
    return 0
  fi
  NOVA_RESOLVED=path
  NOVA_RESOLVED_PULUMI="$cli"
  NOVA_RESOLVED_VERSION="$version"
  NOVA_RESOLVED_REASON="using pulumi v$version from $cli ($required); the offline Pulumi build is skipped — NOVA_TOOLCHAIN=offline forces it"
  [[ "$want" == path ]] && NOVA_RESOLVED_REASON="NOVA_TOOLCHAIN=path: $NOVA_RESOLVED_REASON"
  return 0
}

# nova_record_toolchain writes the decision for tools/env.sh and tools/toolchain.ts.
nova_record_toolchain() {
  mkdir -p "$NOVA_CACHE_DIR"
  {
    echo "# Written by tools/setup.sh: the toolchain tools/env.sh applies (NOVA_TOOLCHAIN=offline|path overrides it)."
    echo "NOVA_TOOLCHAIN_RESOLVED=$NOVA_RESOLVED"
    echo "NOVA_TOOLCHAIN_PULUMI=$NOVA_RESOLVED_PULUMI"
    echo "NOVA_TOOLCHAIN_PULUMI_VERSION=$NOVA_RESOLVED_VERSION"
  } >"$NOVA_TOOLCHAIN_RECORD.tmp"
  mv -f "$NOVA_TOOLCHAIN_RECORD.tmp" "$NOVA_TOOLCHAIN_RECORD"
}
