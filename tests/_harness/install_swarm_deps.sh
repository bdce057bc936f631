#!/usr/bin/env bash
# Debian packages the swarm provider's tests need: docker.io (dockerd 20.10, Engine API
# 1.41), busybox-static (the root file system of the test image) and iptables (dockerd's
# networks). Installed only when missing; dockerd is never started as a service here:
# each test starts its own in a network namespace of its own.
set -euo pipefail
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
command -v nsenter >/dev/null 2>&1 || missing+=(util-linux)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} for the swarm provider's tests" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
