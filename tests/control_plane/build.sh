#!/usr/bin/env bash
# Builds the test control plane once and caches it.
#
# kube-apiserver, kube-controller-manager and kube-scheduler are built from the
# official Kubernetes Go modules pinned in go.mod/go.sum, into a folder keyed by
# the hash of those two files, and rebuilt only when that folder is missing.
# The small `controlplane` launcher (embedded etcd + process supervision) is
# keyed by its sources as well. The finished folder is linked at
# .local/control-plane-bin.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${VKEDGE_CP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vkedge/control-plane}
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

k8s_key=$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)
cp_key=$(cat "$here/go.mod" "$here/go.sum" "$here"/cmd/controlplane/*.go | sha256sum | cut -c1-16)
k8s_dir="$cache/k8s-$k8s_key"
bin_dir="$cache/bin-$cp_key"

cd "$here"
if [ ! -x "$k8s_dir/kube-scheduler" ]; then
  echo "building kube-apiserver, kube-controller-manager, kube-scheduler into $k8s_dir (cold: ~14 min on 2 cores)" >&2
  start=$(date +%s)
  tmp="$k8s_dir.tmp.$$"
  mkdir -p "$tmp"
  # Stamp the version as Kubernetes' own build does, so that clients (kubectl
  # version, version-skew checks) see v1.x.y rather than v0.0.0-master.
  version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
  minor=$(echo "$version" | cut -d. -f2)
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  go build -ldflags="$ldflags" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler
  rm -rf "$k8s_dir" && mv "$tmp" "$k8s_dir"
  echo "built the Kubernetes components in $(($(date +%s) - start)) s" >&2
fi
if [ ! -x "$bin_dir/controlplane" ]; then
  tmp="$bin_dir.tmp.$$"
  mkdir -p "$tmp"
  go build -ldflags="-s -w" -o "$tmp/controlplane" ./cmd/controlplane
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    ln -f "$k8s_dir/$b" "$tmp/$b" 2>/dev/null || cp "$k8s_dir/$b" "$tmp/$b"
  done
  rm -rf "$bin_dir" && mv "$tmp" "$bin_dir"
fi
mkdir -p "$root/.local"
ln -sfn "$bin_dir" "$root/.local/control-plane-bin"
echo "$bin_dir"
