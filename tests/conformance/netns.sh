#!/usr/bin/env bash
# netns.sh up|down|status — a private, non-loopback address for the agent's kubelet API.
#
# The API server refuses to proxy (nodes/NAME/proxy, pods/NAME/proxy) to loopback and
# link-local addresses, and the test control plane listens only on 127.0.0.1. So the agent
# keeps running in the host network namespace (where it reaches the API server on
# 127.0.0.1) and serves its kubelet API on an address that exists only on a veth pair
# made for this purpose:
#
#   host namespace                        namespace $VKEDGE_NETNS (default vkedge-e2e)
#   vke-host  10.213.0.1/30  <== veth ==>  vke-ns  10.213.0.2/30
#
# The netns only gives the veth pair a peer so that the link is UP; nothing runs in it.
# 10.213.0.1 is a local address of this machine: the agent binds it (--address/--node-ip)
# and the API server (host namespace) connects to it through the local routing table, so
# no packet leaves the machine and the only route added is 10.213.0.0/30 dev vke-host.
#
# `up` is idempotent and prints the host-side address (the one to use) on stdout.
# `down` removes the veth pair and the namespace (idempotent). `status` prints the address
# when the arrangement is up and exits 1 otherwise.
#
# Environment (all optional): VKEDGE_NETNS, VKEDGE_VETH_HOST, VKEDGE_VETH_NS,
# VKEDGE_NET_HOST_IP (10.213.0.1), VKEDGE_NET_NS_IP (10.213.0.2), VKEDGE_NET_PREFIX (30).
# Needs root (CAP_NET_ADMIN) and iproute2.
set -euo pipefail

NETNS=${VKEDGE_NETNS:-vkedge-e2e}
HOST_IF=${VKEDGE_VETH_HOST:-vke-host}
NS_IF=${VKEDGE_VETH_NS:-vke-ns}
HOST_IP=${VKEDGE_NET_HOST_IP:-10.213.0.1}
NS_IP=${VKEDGE_NET_NS_IP:-10.213.0.2}
PREFIX=${VKEDGE_NET_PREFIX:-30}

die() {
  echo "netns.sh: $*" >&2
  exit 1
}

need_tools() {
  command -v ip >/dev/null || die "expected iproute2 (the ip command) on PATH, found none"
  [ "$(id -u)" = 0 ] || die "expected to run as root (CAP_NET_ADMIN), found uid $(id -u)"
}

netns_exists() { ip netns list | awk '{print $1}' | grep -qx -- "$NETNS"; }
host_if_exists() { ip link show dev "$HOST_IF" >/dev/null 2>&1; }
has_addr() { # has_addr [netns-exec-prefix...] IFACE IP
  local ifc=${*: -2:1} addr=${*: -1}
  local -a pre=("${@:1:$#-2}")
  "${pre[@]}" ip -4 -o addr show dev "$ifc" 2>/dev/null | awk '{print $4}' | grep -qx -- "$addr/$PREFIX"
}

up() {
  need_tools
  # Refuse to take an address that is already used by some other interface.
  local other
  other=$(ip -4 -o addr show | awk -v a="$HOST_IP/" -v i="$HOST_IF" 'index($4, a) == 1 && $2 != i {print $2}')
  [ -z "$other" ] || die "expected $HOST_IP to be free, found it on interface $other"

  netns_exists || ip netns add "$NETNS"
  if ! host_if_exists; then
    ip link add "$HOST_IF" type veth peer name "$NS_IF" netns "$NETNS"
  fi
  ip netns exec "$NETNS" ip link show dev "$NS_IF" >/dev/null 2>&1 ||
    die "expected $NS_IF in namespace $NETNS (peer of $HOST_IF), found none; run '$0 down' then '$0 up'"

  # IPv4 only: no IPv6 link-local addresses or router solicitations on the pair.
  sysctl -qw "net.ipv6.conf.$HOST_IF.disable_ipv6=1" 2>/dev/null || true
  ip netns exec "$NETNS" sysctl -qw "net.ipv6.conf.$NS_IF.disable_ipv6=1" 2>/dev/null || true
  has_addr "$HOST_IF" "$HOST_IP" || ip addr add "$HOST_IP/$PREFIX" dev "$HOST_IF"
  has_addr ip netns exec "$NETNS" "$NS_IF" "$NS_IP" ||
    ip netns exec "$NETNS" ip addr add "$NS_IP/$PREFIX" dev "$NS_IF"
  ip netns exec "$NETNS" ip link set lo up
  ip netns exec "$NETNS" ip link set "$NS_IF" up
  ip link set "$HOST_IF" up

  # Wait (briefly) for the address to be usable (no DAD for IPv4, but the link may lag).
  local i
  for i in $(seq 1 50); do
    if ip -4 -o addr show dev "$HOST_IF" | grep -q "inet $HOST_IP/" &&
      ip link show dev "$HOST_IF" | grep -q "state UP"; then
      echo "$HOST_IP"
      return 0
    fi
    sleep 0.1
  done
  die "expected $HOST_IF to be UP with $HOST_IP/$PREFIX after 5s, found: $(ip -br addr show dev "$HOST_IF")"
}

down() {
  need_tools
  # Deleting one end of a veth pair deletes the other.
  if host_if_exists; then ip link del "$HOST_IF"; fi
  if netns_exists; then ip netns del "$NETNS"; fi
}

status() {
  if host_if_exists && has_addr "$HOST_IF" "$HOST_IP" &&
    ip link show dev "$HOST_IF" | grep -q "state UP"; then
    echo "$HOST_IP"
  else
    echo "netns.sh: not up ($HOST_IF with $HOST_IP/$PREFIX)" >&2
    return 1
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
