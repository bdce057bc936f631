#!/usr/bin/env bash
# Builds upstream virtual-kubelet (its mock provider included) once and caches it, for the
# benchmarks that run it beside vkedge on the same control plane.
#
# `go install github.com/virtual-kubelet/virtual-kubelet/cmd/virtual-kubelet@VERSION` builds
# the module at that version with its own go.mod and go.sum (checked against the Go
# checksum database), through the Go module proxy, into a folder keyed by the version and
# the Go toolchain, rebuilt only when that folder is missing (as
# tests/control_plane/build.sh does for the control plane). Prints the binary's path.
set -euo pipefail

version=${VIRTUAL_KUBELET_VERSION:-v1.14.1}
cache=${VKEDGE_VK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vkedge/virtual-kubelet}
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

key=$(printf '%s %s' "$version" "$(go env GOVERSION)" | sha256sum | cut -c1-16)
dir="$cache/$version-$key"
if [ ! -x "$dir/virtual-kubelet" ]; then
  echo "building virtual-kubelet $version into $dir (cold: a few minutes on 2 cores)" >&2
  start=$(date +%s)
  tmp="$dir.tmp.$$"
  mkdir -p "$tmp"
  GOBIN="$tmp" go install "github.com/virtual-kubelet/virtual-kubelet/cmd/virtual-kubelet@$version"
  rm -rf "$dir" && mv "$tmp" "$dir"
  echo "built virtual-kubelet $version in $(($(date +%s) - start)) s" >&2
fi
echo "$dir/virtual-kubelet"
