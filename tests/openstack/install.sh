#!/usr/bin/env bash
# Installs the Debian packages of the OpenStack test stack when some are missing:
# Nova's API, conductor and scheduler (nova-compute is not installed: it pulls libvirt
# and qemu; the stack runs its code with a fake driver), Placement, Keystone, Glance,
# Neutron's server, RabbitMQ, MariaDB and uwsgi. Their services are not started (the
# stack starts its own daemons with its own configuration).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
packages=(nova-api nova-conductor nova-scheduler placement-api keystone glance-api neutron-server
  rabbitmq-server mariadb-server mariadb-client uwsgi-core uwsgi-plugin-python3 python3-pymysql)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f '${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing for the OpenStack test stack: ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
"${sudo[@]}" apt-get update -qq
# policy-rc.d may refuse to start services; the stack never uses them anyway.
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The template (migrated databases) is built once per machine, so that each stack starts fast.
if [ -n "${VKEDGE_OPENSTACK_PREPARE:-}" ]; then
  "${DENO:-deno}" run -A "$here/main.ts" prepare
fi
