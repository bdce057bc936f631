#!/usr/bin/env bash
# Builds kwok (sigs.k8s.io/kwok/cmd/kwok, the version pinned in go.mod) once and caches it,
# with the stage, CRD and other YAML files of the same module version beside it:
#
#   $cache/kwok-<hash of go.mod and go.sum>/kwok
#   $cache/kwok-<hash>/stages/{node,pod}/fast/*.yaml, stages/pod/chaos/*.yaml
#   $cache/kwok-<hash>/crds/*.yaml
#
# Prints the folder. The modules come through the Go module proxy.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${VKEDGE_KWOK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vkedge/kwok}
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

key=$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)
dir="$cache/kwok-$key"

cd "$here"
if [ ! -x "$dir/kwok" ]; then
  echo "building kwok into $dir (cold: a few minutes on 2 cores)" >&2
  start=$(date +%s)
  tmp="$dir.tmp.$$"
  mkdir -p "$tmp"
  go build -ldflags="-s -w" -o "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok
  src=$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  for part in node/fast pod/fast pod/chaos; do
    mkdir -p "$tmp/stages/$part"
    cp "$src/kustomize/stage/$part"/*.yaml "$tmp/stages/$part/"
    rm -f "$tmp/stages/$part/kustomization.yaml"
  done
  mkdir -p "$tmp/crds"
  cp "$src/kustomize/crd/bases"/*.yaml "$tmp/crds/"
  chmod -R u+w "$tmp"
  rm -rf "$dir" && mv "$tmp" "$dir"
  echo "built kwok in $(($(date +%s) - start)) s" >&2
fi
echo "$dir"
