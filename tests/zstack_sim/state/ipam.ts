/**
 * IP address management of the L3 networks: IPv4 ranges with their CIDR, the addresses
 * VM NICs use, free addresses lowest first (the gateway excluded), static IPs from
 * `staticIp::` system tags, and the capacity GetIpAddressCapacity reports.
 *
 * @module
 */

import { invalidArgument, operationError } from "../errors.ts";
import { type IpRange, type L3Network, newUuid, type UsedIp, type VmNic } from "../inventory.ts";
import type { SimState } from "./store.ts";

/** An IPv4 range as a seed gives it. */
export type RangeSpec = Pick<
  IpRange,
  "uuid" | "l3NetworkUuid" | "name" | "startIp" | "endIp" | "netmask" | "gateway"
>;

/** A free address and the range it belongs to. */
export interface FreeIp {
  range: IpRange;
  ip: string;
}

function ipToNumber(ip: string): number {
  return ip.split(".").reduce((sum, part) => sum * 256 + Number(part), 0);
}

function numberToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join(".");
}

function prefixLength(netmask: string): number {
  return ipToNumber(netmask).toString(2).replace(/0+$/, "").length;
}

function rangeSize(range: IpRange): number {
  return ipToNumber(range.endIp) - ipToNumber(range.startIp) + 1;
}

/** The IpRangeInventory of `spec`, with its network CIDR and prefix length worked out. */
export function newIpRange(spec: RangeSpec): IpRange {
  const prefixLen = prefixLength(spec.netmask);
  const network = ipToNumber(spec.startIp) & (prefixLen === 0 ? 0 : ~0 << (32 - prefixLen));
  const now = new Date();
  return {
    ...spec,
    networkCidr: `${numberToIp(network >>> 0)}/${prefixLen}`,
    prefixLen,
    ipVersion: 4,
    createDate: now,
    lastOpDate: now,
  };
}

function usedIps(state: SimState, l3NetworkUuid: string): Set<string> {
  const used = new Set<string>();
  for (const nic of state.nics.values()) {
    for (const usedIp of nic.usedIps) {
      if (usedIp.l3NetworkUuid === l3NetworkUuid) used.add(usedIp.ip);
    }
  }
  return used;
}

/** The free IPs of an L3 network, lowest first, at most `limit`. */
export function freeIps(state: SimState, l3: L3Network, options: { limit: number }): FreeIp[] {
  const { limit } = options;
  const used = usedIps(state, l3.uuid);
  const free: FreeIp[] = [];
  for (const range of l3.ipRanges) {
    for (let n = ipToNumber(range.startIp); n <= ipToNumber(range.endIp); n++) {
      if (free.length >= limit) return free;
      const ip = numberToIp(n);
      if (!used.has(ip) && ip !== range.gateway) free.push({ range, ip });
    }
  }
  return free;
}

/** Total and used address counts of an L3 network. */
export function ipCapacity(state: SimState, l3: L3Network): { total: number; used: number } {
  const total = l3.ipRanges.reduce((sum, range) => sum + rangeSize(range), 0);
  return { total, used: usedIps(state, l3.uuid).size };
}

function staticChoice(state: SimState, l3: L3Network, staticIp: string): FreeIp {
  const wanted = ipToNumber(staticIp);
  const range = l3.ipRanges.find((r) =>
    ipToNumber(r.startIp) <= wanted && wanted <= ipToNumber(r.endIp)
  );
  if (!range) {
    throw invalidArgument(
      `static IP[${staticIp}] is not in any IP range of L3 network[uuid:${l3.uuid}]`,
    );
  }
  if (usedIps(state, l3.uuid).has(staticIp)) {
    throw operationError(`IP[${staticIp}] in L3 network[uuid:${l3.uuid}] has been occupied`);
  }
  return { range, ip: staticIp };
}

/** Gives `nic` an address of its L3 network: `staticIp` when given, else the lowest free one. */
export function assignIp(
  state: SimState,
  nic: VmNic,
  options: { staticIp?: string } = {},
): void {
  const { staticIp } = options;
  const l3 = state.l3Networks.get(nic.l3NetworkUuid);
  if (!l3) return;
  const choice = staticIp !== undefined
    ? staticChoice(state, l3, staticIp)
    : freeIps(state, l3, { limit: 1 })[0];
  if (!choice) {
    throw operationError(`IP range of L3 network[uuid:${l3.uuid}] has no IP available`);
  }
  const now = new Date();
  const usedIp: UsedIp = {
    uuid: newUuid(),
    ipRangeUuid: choice.range.uuid,
    l3NetworkUuid: l3.uuid,
    ip: choice.ip,
    netmask: choice.range.netmask,
    gateway: choice.range.gateway,
    ipVersion: 4,
    vmNicUuid: nic.uuid,
    createDate: now,
    lastOpDate: now,
  };
  nic.usedIps = [usedIp];
  nic.ip = usedIp.ip;
  nic.netmask = usedIp.netmask;
  nic.gateway = usedIp.gateway;
  nic.usedIpUuid = usedIp.uuid;
  nic.lastOpDate = now;
}

/** Returns the addresses of every NIC of a VM to their ranges. */
export function releaseIps(state: SimState, vmUuid: string): void {
  for (const nic of state.nics.values()) {
    if (nic.vmInstanceUuid !== vmUuid) continue;
    nic.usedIps = [];
    nic.ip = undefined;
    nic.netmask = undefined;
    nic.gateway = undefined;
    nic.usedIpUuid = undefined;
  }
}

/** The static IPs that `staticIp::{l3NetworkUuid}::{ip}` system tags ask for, by L3 network. */
export function staticIpsOf(systemTags: string[]): Map<string, string> {
  const staticIps = new Map<string, string>();
  for (const tag of systemTags) {
    const match = /^staticIp::([0-9a-f]{32})::(.+)$/.exec(tag);
    if (match) staticIps.set(match[1], match[2]);
  }
  return staticIps;
}
