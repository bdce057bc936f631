/**
 * The APIs of where VMs run: zones, clusters and hosts as query collections, and
 * GetCpuMemoryCapacity, the CPU and memory sums by host, cluster or zone.
 *
 * @module
 */

import { invalidArgument } from "../errors.ts";
import type { Cluster, Host, Zone } from "../inventory.ts";
import { capacityOf } from "../state/hosts.ts";
import { type ApiContext, defineApi, queryRoutes, type Route, SYNC } from "./api_spec.ts";
import { belongsTo, collection, DATES, hasMany } from "./collection.ts";
import { listParam } from "./params.ts";

const ZONES = collection<Zone>({
  path: "/zones",
  voName: "ZoneVO",
  inventoryClass: "org.zstack.header.zone.ZoneInventory",
  fields: ["uuid", "name", "description", "state", "type", "isDefault", ...DATES],
  items: "zones",
});

const CLUSTERS = collection<Cluster>({
  path: "/clusters",
  voName: "ClusterVO",
  inventoryClass: "org.zstack.header.cluster.ClusterInventory",
  fields: [
    "uuid",
    "name",
    "description",
    "zoneUuid",
    "state",
    "hypervisorType",
    "type",
    "architecture",
    ...DATES,
  ],
  items: "clusters",
  joins: { zone: belongsTo("zones", "zoneUuid") },
});

const HOSTS = collection<Host>({
  path: "/hosts",
  voName: "HostVO",
  inventoryClass: "org.zstack.header.host.HostInventory",
  fields: [
    "uuid",
    "name",
    "description",
    "zoneUuid",
    "clusterUuid",
    "managementIp",
    "hypervisorType",
    "state",
    "status",
    "totalCpuCapacity",
    "availableCpuCapacity",
    "cpuSockets",
    "cpuNum",
    "totalMemoryCapacity",
    "availableMemoryCapacity",
    "architecture",
    ...DATES,
  ],
  items: "hosts",
  joins: {
    zone: belongsTo("zones", "zoneUuid"),
    cluster: belongsTo("clusters", "clusterUuid"),
    vmInstance: hasMany("vms", "hostUuid"),
  },
});

/** GetCpuMemoryCapacity: the sums over the hosts asked for, and per host, cluster or zone. */
function hostCapacities({ state, query }: ApiContext): Record<string, unknown> {
  const hostUuids = listParam(query, "hostUuids");
  const clusterUuids = listParam(query, "clusterUuids");
  const zoneUuids = listParam(query, "zoneUuids");
  const all = query.get("all") === "true";
  const hypervisorType = query.get("hypervisorType");
  if (!all && hostUuids.length === 0 && clusterUuids.length === 0 && zoneUuids.length === 0) {
    throw invalidArgument(
      "zoneUuids, clusterUuids, hostUuids must at least have one be none-empty list, or all is set to true",
    );
  }
  const hosts = [...state.hosts.values()].filter((host) =>
    !hypervisorType || host.hypervisorType === hypervisorType
  );
  let resourceType: string;
  let groups: [string, Host[]][];
  if (hostUuids.length > 0) {
    resourceType = "HostVO";
    groups = hostUuids.map((uuid) => [uuid, hosts.filter((host) => host.uuid === uuid)]);
  } else if (clusterUuids.length > 0) {
    resourceType = "ClusterVO";
    groups = clusterUuids.map((uuid) => [uuid, hosts.filter((host) => host.clusterUuid === uuid)]);
  } else {
    resourceType = "ZoneVO";
    const zones = zoneUuids.length > 0 ? zoneUuids : [...state.zones.keys()];
    groups = zones.map((uuid) => [uuid, hosts.filter((host) => host.zoneUuid === uuid)]);
  }
  return {
    ...capacityOf(groups.flatMap(([, members]) => members)),
    resourceType,
    capacityData: groups.map(([resourceUuid, members]) => ({
      resourceUuid,
      ...capacityOf(members),
    })),
    success: true,
  };
}

/** The routes of zones, clusters and hosts. */
export const HOST_ROUTES: Route[] = [
  ...queryRoutes("QueryZone", ZONES),
  ...queryRoutes("QueryCluster", CLUSTERS),
  {
    method: "GET",
    pattern: "/v1/hosts/capacities/cpu-memory",
    api: defineApi("GetCpuMemoryCapacity", hostCapacities, SYNC),
  },
  ...queryRoutes("QueryHost", HOSTS),
];
