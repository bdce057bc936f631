#!/usr/bin/env bash
# Builds the vSphere simulator launcher (cmd/vcsim, over govmomi's simulator package) once
# and caches it in a folder keyed by the hash of go.mod, go.sum and the launcher's sources,
# as tests/control_plane/build.sh does for the control plane. Prints the binary's path.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${VKEDGE_VCSIM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vkedge/vcsim}
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

key=$(cat "$here/go.mod" "$here/go.sum" "$here"/cmd/vcsim/*.go | sha256sum | cut -c1-16)
dir="$cache/$key"
if [ ! -x "$dir/vcsim" ]; then
  echo "building the vSphere simulator launcher into $dir" >&2
  start=$(date +%s)
  tmp="$dir.tmp.$$"
  mkdir -p "$tmp"
  (cd "$here" && go build -ldflags="-s -w" -o "$tmp/vcsim" ./cmd/vcsim)
  rm -rf "$dir" && mv "$tmp" "$dir"
  echo "built the vSphere simulator launcher in $(($(date +%s) - start)) s" >&2
fi
echo "$dir/vcsim"
