#!/usr/bin/env bash
# Builds the servers and tools the tests run (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
# etcd, vault, helm, promtool) from their pinned Go
# modules into a cache keyed by component and version. Nothing is downloaded but Go modules.
#
#   KMSSTACK_TESTBIN_DIR  cache directory (default ~/.cache/kmsstack/bin)
#   usage: testbin.sh [component...]     build (or reuse) the components, all by default
#          testbin.sh --print-dir        print the cache directory
#          testbin.sh --which BINARY     print the cached path of BINARY (exit 1 if not built yet)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${KMSSTACK_TESTBIN_DIR:-$HOME/.cache/kmsstack/bin}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
export CGO_ENABLED=${CGO_ENABLED:-0}

# component | version | build module dir | binary=package ... | ldflags
components=(
  "kubernetes|v1.36.3|kubernetes|kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver kubectl=k8s.io/kubernetes/cmd/kubectl kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler|-X k8s.io/component-base/version.gitVersion=v1.36.3 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36 -X k8s.io/client-go/pkg/version.gitVersion=v1.36.3 -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=36"
  "etcd|v3.6.16|etcd|etcd=go.etcd.io/etcd/server/v3|"
  "vault|v1.13.0|vault|vault=github.com/hashicorp/vault|"
  "helm|v3.22.0|helm|helm=helm.sh/helm/v3/cmd/helm|-X helm.sh/helm/v3/internal/version.version=v3.22.0"
  "prometheus|v0.316.0|prometheus|promtool=github.com/prometheus/prometheus/cmd/promtool|-X github.com/prometheus/common/version.Version=0.316.0"
)

if [[ ${1:-} == --print-dir ]]; then echo "$cache"; exit 0; fi
if [[ ${1:-} == --which ]]; then
  for entry in "${components[@]}"; do
    IFS='|' read -r name version _ bins _ <<<"$entry"
    for pair in $bins; do
      if [[ ${pair%%=*} == "${2:-}" ]]; then
        path="$cache/$name-$version/${pair%%=*}"
        [[ -x $path ]] || { echo "testbin: ${2} ($name $version) is not built yet: run npm run testbin" >&2; exit 1; }
        echo "$path"; exit 0
      fi
    done
  done
  echo "testbin: unknown binary '${2:-}'" >&2; exit 2
fi
wanted=("$@")

build() {
  local name=$1 version=$2 moddir=$3 bins=$4 ldflags=$5
  local out="$cache/$name-$version" missing=() pair
  for pair in $bins; do [[ -x "$out/${pair%%=*}" ]] || missing+=("$pair"); done
  if [[ ${#missing[@]} == 0 ]]; then echo "testbin: $name $version cached in $out"; return 0; fi
  # Only the missing binaries are built (a component that gains a binary keeps the ones already built); each
  # lands in a temporary file first so an interrupted build never leaves a half-written binary in the cache.
  echo "testbin: building $name $version (${missing[*]%%=*}) ..."
  local start=$SECONDS log
  mkdir -p "$out"
  log=$(mktemp)
  for pair in "${missing[@]}"; do
    local target="$out/${pair%%=*}" tmp="$out/.${pair%%=*}.tmp.$$"
    if ! (cd "$here/gomod/$moddir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp" "${pair#*=}") >"$log" 2>&1; then
      echo "testbin: FAILED to build $name $version (${pair#*=}); go said:" >&2
      tail -n 40 "$log" >&2
      rm -f "$tmp" "$log"
      return 1
    fi
    mv "$tmp" "$target"
  done
  rm -f "$log"
  echo "testbin: built $name $version in $((SECONDS - start))s -> $out"
}

for entry in "${components[@]}"; do
  IFS='|' read -r name version moddir bins ldflags <<<"$entry"
  if [[ ${#wanted[@]} -gt 0 && ! " ${wanted[*]} " == *" $name "* ]]; then continue; fi
  build "$name" "$version" "$moddir" "$bins" "$ldflags"
done
