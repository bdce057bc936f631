/**
 * The network APIs: L3 networks and their IP ranges as query collections, GetFreeIp (the
 * lowest free addresses of a network or range) and GetIpAddressCapacity.
 *
 * @module
 */

import { invalidArgument, resourceNotFound } from "../errors.ts";
import type { IpRange, L3Network } from "../inventory.ts";
import { freeIps, ipCapacity } from "../state/ipam.ts";
import { type ApiContext, defineApi, queryRoutes, type Route, SYNC } from "./api_spec.ts";
import { belongsTo, collection, DATES } from "./collection.ts";
import { listParam } from "./params.ts";

const L3_NETWORKS = collection<L3Network>({
  path: "/l3-networks",
  voName: "L3NetworkVO",
  inventoryClass: "org.zstack.header.network.l3.L3NetworkInventory",
  fields: [
    "uuid",
    "name",
    "description",
    "type",
    "zoneUuid",
    "l2NetworkUuid",
    "state",
    "system",
    "category",
    "ipVersion",
    "dnsDomain",
    "dns",
    "ipRanges",
    "networkServices",
    ...DATES,
  ],
  items: "l3Networks",
  joins: { zone: belongsTo("zones", "zoneUuid") },
});

const IP_RANGES = collection<IpRange>({
  path: "/l3-networks/ip-ranges",
  voName: "IpRangeVO",
  inventoryClass: "org.zstack.header.network.l3.IpRangeInventory",
  fields: [
    "uuid",
    "l3NetworkUuid",
    "name",
    "startIp",
    "endIp",
    "netmask",
    "gateway",
    "networkCidr",
    "prefixLen",
    "ipVersion",
    "addressMode",
    ...DATES,
  ],
  items: (state) => [...state.l3Networks.values()].flatMap((l3) => l3.ipRanges),
});

/** GetIpAddressCapacity over the L3 networks asked for (IPv4 only). */
function capacity({ state, query }: ApiContext): Record<string, unknown> {
  const l3Uuids = listParam(query, "l3NetworkUuids");
  const zoneUuids = listParam(query, "zoneUuids");
  const all = query.get("all") === "true";
  if (
    !all && l3Uuids.length === 0 && zoneUuids.length === 0 &&
    listParam(query, "ipRangeUuids").length === 0
  ) {
    throw invalidArgument(
      "at least one of l3NetworkUuids, ipRangeUuids, zoneUuids must be set, or all is set to true",
    );
  }
  const l3s = [...state.l3Networks.values()].filter((l3) =>
    all || l3Uuids.includes(l3.uuid) || zoneUuids.includes(l3.zoneUuid)
  );
  let total = 0;
  let used = 0;
  for (const l3 of l3s) {
    const counts = ipCapacity(state, l3);
    total += counts.total;
    used += counts.used;
  }
  return {
    totalCapacity: total,
    availableCapacity: total - used,
    usedIpAddressNumber: used,
    ipv4TotalCapacity: total,
    ipv4AvailableCapacity: total - used,
    ipv4UsedIpAddressNumber: used,
    ipv6TotalCapacity: 0,
    ipv6AvailableCapacity: 0,
    ipv6UsedIpAddressNumber: 0,
    success: true,
  };
}

/** GetFreeIp of an L3 network or of one of its ranges. */
function free({ state, query }: ApiContext): Record<string, unknown> {
  const l3Uuid = query.get("l3NetworkUuid");
  const rangeUuid = query.get("ipRangeUuid");
  const limit = Number(query.get("limit") ?? 100);
  const l3 = l3Uuid
    ? state.l3Networks.get(l3Uuid)
    : [...state.l3Networks.values()].find((network) =>
      network.ipRanges.some((r) => r.uuid === rangeUuid)
    );
  if (!l3Uuid && !rangeUuid) {
    throw invalidArgument("l3NetworkUuid and ipRangeUuid cannot both be null");
  }
  if (!l3) {
    throw resourceNotFound(
      l3Uuid ? "l3NetworkUuid" : "ipRangeUuid",
      l3Uuid ?? rangeUuid ?? "",
      l3Uuid ? "L3NetworkVO" : "IpRangeVO",
    );
  }
  const addresses = freeIps(state, l3, { limit: Number.isFinite(limit) ? limit : 100 })
    .filter(({ range }) => !rangeUuid || range.uuid === rangeUuid);
  return {
    inventories: addresses.map(({ range, ip }) => ({
      ipRangeUuid: range.uuid,
      ip,
      netmask: range.netmask,
      gateway: range.gateway,
    })),
  };
}

/** The routes of L3 networks and IP addresses. */
export const NETWORK_ROUTES: Route[] = [
  ...queryRoutes("QueryL3Network", L3_NETWORKS),
  ...queryRoutes("QueryIpRange", IP_RANGES),
  { method: "GET", pattern: "/v1/l3-networks/ip/free", api: defineApi("GetFreeIp", free, SYNC) },
  {
    method: "GET",
    pattern: "/v1/ip-capacity",
    api: defineApi("GetIpAddressCapacity", capacity, SYNC),
  },
];
