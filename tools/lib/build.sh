# shellcheck shell=bash
# Build recipes for each toolchain piece. Sourced by tools/setup.sh after tools/lib/common.sh.
#
# Every recipe is `build_<piece> OUT_DIR WORK_DIR`: it must leave its binaries in OUT_DIR/bin and may use
# WORK_DIR (empty, writable) for wrapper modules and copied sources. It runs with `set -euo pipefail`,
# its stdout/stderr go to the piece's log file, and it must not touch the repository.

# Common Go settings: static binaries, reproducible paths, and module downloads only from the proxy.
go_env() {
  export CGO_ENABLED=0
  export GOFLAGS="-mod=mod -buildvcs=false"
  export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
  export GOTOOLCHAIN=local
}

MOD_CACHE() { go env GOMODCACHE; }

# Copies a module out of the read-only module cache into DEST (writable), downloading it first if needed.
copy_module() {
  local mod="$1" version="$2" dest="$3" dir
  dir="$(cd "$WORK_TMP_GOMOD" && go mod download -json "$mod@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$dir" && -d "$dir" ]] || die "could not download $mod@$version"
  mkdir -p "$dest"
  cp -R "$dir/." "$dest/"
  chmod -R u+w "$dest"
}

# A scratch module so that `go mod download` has a main module to run in.
scratch_module() {
  WORK_TMP_GOMOD="$1/scratch"
  mkdir -p "$WORK_TMP_GOMOD"
  printf 'module nova-rollout.local/scratch\n\ngo 1.24\n' >"$WORK_TMP_GOMOD/go.mod"
}

build_pulumi() {
  local out="$1" work="$2" v="v$PULUMI_VERSION"
  go_env
  # pkg/v3 has `replace sdk/v3 => ../sdk`, so `go install pkg/v3/cmd/pulumi@v` is refused. A wrapper main
  # module that requires both at the same version builds the same code. Replace directives of pkg/v3
  # are not inherited, so the one it needs (clipboard fork) is repeated here.
  mkdir -p "$work/pulumi"
  cat >"$work/pulumi/go.mod" <<EOF
module nova-rollout.local/pulumi-cli

go 1.26.6

require (
	github.com/pulumi/pulumi/pkg/v3 $v
	github.com/pulumi/pulumi/sdk/v3 $v
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
EOF
  cd "$work/pulumi" || return
  go mod download github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi/sdk/v3
  local cache
  cache="$(MOD_CACHE)"
  cat "$cache/github.com/pulumi/pulumi/pkg/v3@$v/go.sum" "$cache/github.com/pulumi/pulumi/sdk/v3@$v/go.sum" |
    sort -u >go.sum
  go build -trimpath -o "$out/bin/pulumi" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

build_language_nodejs() {
  local out="$1" work="$2"
  go_env
  # Our own language host (see tools/language-nodejs/README in docs/toolchain.md); built from the repo.
  cp -R "$NOVA_REPO_ROOT/tools/language-nodejs" "$work/src"
  cd "$work/src" || return
  go build -trimpath -o "$out/bin/pulumi-language-nodejs" \
    -ldflags "-s -w -X main.version=v$LANGUAGE_NODEJS_VERSION" .
}

build_kubernetes_provider() {
  local out="$1" work="$2"
  go_env
  scratch_module "$work"
  copy_module github.com/pulumi/pulumi-kubernetes/provider/v4 "$K8S_PROVIDER_MODULE_VERSION" "$work/provider"
  cd "$work/provider" || return
  # The published module points sdk/v4 at ../sdk (a sibling dir in the upstream repo); use the
  # published sdk/v4 module instead, at the version its go.mod already requires.
  sed -i '/^replace github.com\/pulumi\/pulumi-kubernetes\/sdk\/v4 =>/d' go.mod
  go mod download github.com/pulumi/pulumi-kubernetes/sdk/v4
  # Generates schema-embed.json (with Version stamped) and terraform-mapping-embed.json.
  (cd cmd/pulumi-resource-kubernetes && VERSION="$K8S_PROVIDER_VERSION" go generate ./...)
  go build -trimpath -o "$out/bin/pulumi-resource-kubernetes" \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PROVIDER_VERSION" \
    ./cmd/pulumi-resource-kubernetes
}

build_command_provider() {
  local out="$1" work="$2"
  go_env
  cp -R "$NOVA_REPO_ROOT/tools/command-provider" "$work/src"
  cd "$work/src" || return
  go build -trimpath -o "$out/bin/pulumi-resource-command" \
    -ldflags "-s -w -X main.version=$COMMAND_PROVIDER_VERSION" .
}

build_etcd() {
  local out="$1" work="$2" v="v$ETCD_VERSION"
  go_env
  # server/v3 replaces its sibling modules with ../api etc.; require the published siblings instead.
  mkdir -p "$work/etcd"
  cat >"$work/etcd/go.mod" <<EOF
module nova-rollout.local/etcd

go 1.26.0

require (
	go.etcd.io/etcd/api/v3 $v
	go.etcd.io/etcd/client/pkg/v3 $v
	go.etcd.io/etcd/client/v3 $v
	go.etcd.io/etcd/pkg/v3 $v
	go.etcd.io/etcd/server/v3 $v
)
EOF
  cd "$work/etcd" || return
  go build -trimpath -o "$out/bin/etcd" -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$v" \
    go.etcd.io/etcd/server/v3
}

build_kubernetes() {
  local out="$1" work="$2" v="v$KUBERNETES_VERSION" minor cache
  go_env
  minor="$(cut -d. -f2 <<<"$KUBERNETES_VERSION")"
  mkdir -p "$work/kube"
  cd "$work/kube" || return
  printf 'module nova-rollout.local/kube\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n' "$v" >go.mod
  go mod download k8s.io/kubernetes
  cache="$(MOD_CACHE)"
  # k8s.io/kubernetes replaces every staging module with ./staging/src/k8s.io/X; map each to the
  # published k8s.io/X v0.<minor>.<patch> of the same release.
  {
    printf '\nreplace (\n'
    sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/src/k8s.io/.*#\1#p' \
      "$cache/k8s.io/kubernetes@$v/go.mod" |
      while read -r m; do printf '\t%s => %s v0.%s\n' "$m" "$m" "${KUBERNETES_VERSION#*.}"; done
    printf ')\n'
  } >>go.mod
  cp "$cache/k8s.io/kubernetes@$v/go.sum" go.sum
  local pkg=k8s.io/component-base/version ldflags
  ldflags="-s -w -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$v -X k8s.io/client-go/pkg/version.gitMajor=1"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
    go build -trimpath -o "$out/bin/$cmd" -ldflags "$ldflags" "k8s.io/kubernetes/cmd/$cmd"
  done
}

build_kwok() {
  local out="$1" work="$2"
  go_env
  mkdir -p "$work/gopath"
  GOBIN="$out/bin" go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
    "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
}

build_helm() {
  local out="$1" work="$2"
  go_env
  : "$work"
  GOBIN="$out/bin" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
}

build_kube_score() {
  local out="$1" work="$2"
  go_env
  : "$work"
  # Only the CLI package (no cgo, no tests): a small cold build, cached by KUBE_SCORE_VERSION.
  GOBIN="$out/bin" go install -trimpath \
    -ldflags "-s -w -X main.version=$KUBE_SCORE_VERSION -X main.commit=v$KUBE_SCORE_VERSION -X main.date=1970-01-01T00:00:00Z" \
    "github.com/zegl/kube-score/cmd/kube-score@v$KUBE_SCORE_VERSION"
}

build_actionlint() {
  local out="$1" work="$2"
  go_env
  : "$work"
  # The GitHub Actions workflow linter (tests/chart/workflow.test.ts), cached by ACTIONLINT_VERSION.
  GOBIN="$out/bin" go install -trimpath \
    -ldflags "-s -w -X github.com/rhysd/actionlint.version=v$ACTIONLINT_VERSION" \
    "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
}

# build_own_go_tool OUT WORK DIR BINARY: `go build` of our own tools/DIR into OUT/bin/BINARY.
build_own_go_tool() {
  local out="$1" work="$2" dir="$3" binary="$4"
  go_env
  cp -R "$NOVA_REPO_ROOT/tools/$dir" "$work/src"
  cd "$work/src" || return
  go build -trimpath -o "$out/bin/$binary" -ldflags "-s -w" .
}

# Our own small server (tools/s3-standin) on gofakes3: an in-memory S3 API for the shared-backend scenario.
build_s3_standin() { build_own_go_tool "$1" "$2" s3-standin s3-standin; }

# Our own push-permission check (tools/registry-check) on go-containerregistry: the preflight's registry-push check.
build_registry_check() { build_own_go_tool "$1" "$2" registry-check nova-registry-check; }
