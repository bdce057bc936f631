/**
 * Fills a fresh inventory from a validated seed: zones, clusters, hosts (all capacity
 * free), primary and backup storage, images, offerings and L3 networks with their IP
 * ranges, entries referring to each other by name.
 *
 * @module
 */

import { newUuid } from "../inventory.ts";
import type { SeedData } from "../seed.ts";
import { addDiskOffering, addImage, addInstanceOffering } from "./catalog.ts";
import { newIpRange } from "./ipam.ts";
import type { SimState } from "./store.ts";

type Stamp = { createDate: Date; lastOpDate: Date };

/** Adds what `build` makes of each seed entry to `map`, under the entry's uuid or a new one. */
function fill<E extends { uuid?: string }, T>(
  map: Map<string, T>,
  entries: readonly E[],
  build: (entry: E, uuid: string) => T,
): void {
  for (const entry of entries) {
    const uuid = entry.uuid ?? newUuid();
    map.set(uuid, build(entry, uuid));
  }
}

function byName<T extends { name: string; uuid: string }>(
  map: Map<string, T>,
  name: string,
  kind: string,
): T {
  const found = [...map.values()].find((item) => item.name === name);
  if (!found) throw new Error(`seed: unknown ${kind} "${name}"`);
  return found;
}

function loadPlaces(state: SimState, seed: SeedData, stamp: Stamp): void {
  fill(state.zones, seed.zones, (zone, uuid) => ({
    uuid,
    name: zone.name,
    description: zone.description,
    state: "Enabled",
    type: "zstack",
    isDefault: state.zones.size === 0,
    ...stamp,
  }));
  fill(state.clusters, seed.clusters, (cluster, uuid) => ({
    uuid,
    name: cluster.name,
    zoneUuid: byName(state.zones, cluster.zone, "zone").uuid,
    state: "Enabled",
    hypervisorType: "KVM",
    type: "zstack",
    architecture: "x86_64",
    ...stamp,
  }));
  fill(state.hosts, seed.hosts, (host, uuid) => {
    const cluster = byName(state.clusters, host.cluster, "cluster");
    const cpu = host.totalCpuCapacity ?? host.cpuNum;
    return {
      uuid,
      name: host.name,
      zoneUuid: cluster.zoneUuid,
      clusterUuid: cluster.uuid,
      managementIp: host.managementIp,
      hypervisorType: "KVM",
      state: host.state,
      status: host.status,
      totalCpuCapacity: cpu,
      availableCpuCapacity: cpu,
      cpuSockets: host.cpuSockets,
      cpuNum: host.cpuNum,
      totalMemoryCapacity: host.memorySize,
      availableMemoryCapacity: host.memorySize,
      architecture: "x86_64",
      ...stamp,
    };
  });
}

function loadStorage(state: SimState, seed: SeedData, stamp: Stamp): void {
  fill(state.primaryStorages, seed.primaryStorages, (ps, uuid) => {
    const zoneUuid = byName(state.zones, ps.zone, "zone").uuid;
    return {
      uuid,
      zoneUuid,
      name: ps.name,
      url: ps.url,
      type: ps.type,
      state: "Enabled",
      status: "Connected",
      mountPath: ps.url,
      totalCapacity: ps.totalCapacity,
      availableCapacity: ps.totalCapacity,
      totalPhysicalCapacity: ps.totalCapacity,
      availablePhysicalCapacity: ps.totalCapacity,
      systemUsedCapacity: 0,
      attachedClusterUuids: [...state.clusters.values()]
        .filter((cluster) => cluster.zoneUuid === zoneUuid)
        .map((cluster) => cluster.uuid),
      ...stamp,
    };
  });
  fill(state.backupStorages, seed.backupStorages, (bs, uuid) => ({
    uuid,
    name: bs.name,
    url: bs.url,
    type: bs.type,
    state: "Enabled",
    status: "Connected",
    totalCapacity: bs.totalCapacity,
    availableCapacity: bs.totalCapacity,
    attachedZoneUuids: [byName(state.zones, bs.zone, "zone").uuid],
    ...stamp,
  }));
}

function loadL3Networks(state: SimState, seed: SeedData, stamp: Stamp): void {
  fill(state.l3Networks, seed.l3Networks, (l3, uuid) => {
    const providerUuid = newUuid();
    return {
      uuid,
      name: l3.name,
      type: "L3BasicNetwork",
      zoneUuid: byName(state.zones, l3.zone, "zone").uuid,
      l2NetworkUuid: newUuid(),
      state: "Enabled",
      system: l3.system,
      category: l3.category,
      ipVersion: 4,
      dnsDomain: l3.dnsDomain,
      dns: l3.dns,
      ipRanges: l3.ipRanges.map((range, index) =>
        newIpRange({
          uuid: range.uuid ?? newUuid(),
          l3NetworkUuid: uuid,
          name: `${l3.name}-range-${index + 1}`,
          startIp: range.startIp,
          endIp: range.endIp,
          netmask: range.netmask,
          gateway: range.gateway,
        })
      ),
      networkServices: l3.networkServices.map((networkServiceType) => ({
        l3NetworkUuid: uuid,
        networkServiceProviderUuid: providerUuid,
        networkServiceType,
      })),
      ...stamp,
    };
  });
}

/** Fills `state` from a validated seed; a name that refers to nothing throws. */
export function loadInventory(state: SimState, seed: SeedData): void {
  const now = new Date();
  const stamp = { createDate: now, lastOpDate: now };
  loadPlaces(state, seed, stamp);
  loadStorage(state, seed, stamp);
  for (const image of seed.images) addImage(state, { ...image, uuid: image.uuid ?? newUuid() });
  for (const offering of seed.instanceOfferings) {
    addInstanceOffering(state, { ...offering, uuid: offering.uuid ?? newUuid() });
  }
  for (const offering of seed.diskOfferings) {
    addDiskOffering(state, { ...offering, uuid: offering.uuid ?? newUuid() });
  }
  loadL3Networks(state, seed, stamp);
}
