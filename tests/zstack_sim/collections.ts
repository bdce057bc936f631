/**
 * The queryable collections: for each `GET /v1/<collection>`, the resource type's fields,
 * joins and tags as the query language sees them, and where its items come from.
 *
 * @module
 */

import type { AccessKey, Auth } from "./auth.ts";
import type { Host, Tag, VmInstanceView, VmNic, Volume } from "./inventory.ts";
import type { QueryTarget } from "./query.ts";
import type { SimState } from "./state.ts";

/** A resource type as the query APIs see it, and where its items come from. */
export interface Collection<T extends object> {
  voName: string;
  inventoryClass: string;
  fields: readonly string[];
  items(state: SimState, auth: Auth): T[];
  joins?(state: SimState): Record<string, (item: T) => unknown>;
}

/** The query target of `collection` over the live `state`, tags included. */
export function queryTarget<T extends object>(
  collection: Collection<T>,
  state: SimState,
): QueryTarget<T> {
  return {
    voName: collection.voName,
    inventoryClass: collection.inventoryClass,
    fields: collection.fields,
    joins: collection.joins?.(state),
    tags: (item) => state.tagsOf((item as { uuid?: string }).uuid ?? ""),
  };
}

/** Declares a collection; its item type is erased so that all fit in one table. */
function collection<T extends object>(
  voName: string,
  inventoryClass: string,
  fields: readonly string[],
  items: (state: SimState, auth: Auth) => T[],
  joins?: (state: SimState) => Record<string, (item: T) => unknown>,
): Collection<object> {
  return { voName, inventoryClass, fields, items, joins } as unknown as Collection<object>;
}

const DATES = ["createDate", "lastOpDate"] as const;

const VM_FIELDS = [
  "uuid",
  "name",
  "description",
  "zoneUuid",
  "clusterUuid",
  "hostUuid",
  "lastHostUuid",
  "imageUuid",
  "instanceOfferingUuid",
  "rootVolumeUuid",
  "platform",
  "architecture",
  "guestOsType",
  "defaultL3NetworkUuid",
  "type",
  "hypervisorType",
  "memorySize",
  "reservedMemorySize",
  "cpuNum",
  "cpuSpeed",
  "allocatorStrategy",
  "state",
  "vmNics",
  "allVolumes",
  "vmCdRoms",
  ...DATES,
];

const NIC_FIELDS = [
  "uuid",
  "vmInstanceUuid",
  "l3NetworkUuid",
  "ip",
  "mac",
  "netmask",
  "gateway",
  "ipVersion",
  "deviceId",
  "driverType",
  "type",
  "state",
  "internalName",
  "usedIpUuid",
  "usedIps",
  ...DATES,
];

const VOLUME_FIELDS = [
  "uuid",
  "name",
  "description",
  "primaryStorageUuid",
  "vmInstanceUuid",
  "diskOfferingUuid",
  "rootImageUuid",
  "installPath",
  "type",
  "format",
  "size",
  "actualSize",
  "deviceId",
  "state",
  "status",
  "isShareable",
  "lastVmInstanceUuid",
  "lastAttachDate",
  "lastDetachDate",
  ...DATES,
];

const HOST_FIELDS = [
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
];

const TAG_FIELDS = ["uuid", "resourceUuid", "resourceType", "tag", "type", "inherent", ...DATES];

/** The query collections by route (after `/v1`). */
export const COLLECTIONS: Record<string, Collection<object>> = {
  "/zones": collection(
    "ZoneVO",
    "org.zstack.header.zone.ZoneInventory",
    ["uuid", "name", "description", "state", "type", "isDefault", ...DATES],
    (state) => [...state.zones.values()],
  ),
  "/clusters": collection(
    "ClusterVO",
    "org.zstack.header.cluster.ClusterInventory",
    [
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
    (state) => [...state.clusters.values()],
    (state) => ({ zone: (cluster) => state.zones.get(cluster.zoneUuid) }),
  ),
  "/hosts": collection<Host>(
    "HostVO",
    "org.zstack.header.host.HostInventory",
    HOST_FIELDS,
    (state) => [...state.hosts.values()],
    (state) => ({
      zone: (host) => state.zones.get(host.zoneUuid),
      cluster: (host) => state.clusters.get(host.clusterUuid),
      vmInstance: (host) => [...state.vms.values()].filter((vm) => vm.hostUuid === host.uuid),
    }),
  ),
  "/images": collection(
    "ImageVO",
    "org.zstack.header.image.ImageInventory",
    [
      "uuid",
      "name",
      "description",
      "state",
      "status",
      "size",
      "actualSize",
      "md5Sum",
      "url",
      "mediaType",
      "guestOsType",
      "platform",
      "architecture",
      "format",
      "system",
      "virtio",
      "type",
      "backupStorageRefs",
      ...DATES,
    ],
    (state) => [...state.images.values()],
  ),
  "/instance-offerings": collection(
    "InstanceOfferingVO",
    "org.zstack.header.configuration.InstanceOfferingInventory",
    [
      "uuid",
      "name",
      "description",
      "cpuNum",
      "cpuSpeed",
      "memorySize",
      "reservedMemorySize",
      "type",
      "allocatorStrategy",
      "sortKey",
      "state",
      ...DATES,
    ],
    (state) => [...state.instanceOfferings.values()],
  ),
  "/disk-offerings": collection(
    "DiskOfferingVO",
    "org.zstack.header.configuration.DiskOfferingInventory",
    [
      "uuid",
      "name",
      "description",
      "diskSize",
      "sortKey",
      "state",
      "type",
      "allocatorStrategy",
      ...DATES,
    ],
    (state) => [...state.diskOfferings.values()],
  ),
  "/l3-networks": collection(
    "L3NetworkVO",
    "org.zstack.header.network.l3.L3NetworkInventory",
    [
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
    (state) => [...state.l3Networks.values()],
    (state) => ({ zone: (l3) => state.zones.get(l3.zoneUuid) }),
  ),
  "/l3-networks/ip-ranges": collection(
    "IpRangeVO",
    "org.zstack.header.network.l3.IpRangeInventory",
    [
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
    (state) => [...state.l3Networks.values()].flatMap((l3) => l3.ipRanges),
  ),
  "/primary-storage": collection(
    "PrimaryStorageVO",
    "org.zstack.header.storage.primary.PrimaryStorageInventory",
    [
      "uuid",
      "zoneUuid",
      "name",
      "url",
      "type",
      "state",
      "status",
      "mountPath",
      "totalCapacity",
      "availableCapacity",
      "totalPhysicalCapacity",
      "availablePhysicalCapacity",
      "systemUsedCapacity",
      "attachedClusterUuids",
      ...DATES,
    ],
    (state) => [...state.primaryStorages.values()],
  ),
  "/backup-storage": collection(
    "BackupStorageVO",
    "org.zstack.header.storage.backup.BackupStorageInventory",
    [
      "uuid",
      "name",
      "url",
      "type",
      "state",
      "status",
      "totalCapacity",
      "availableCapacity",
      "attachedZoneUuids",
      ...DATES,
    ],
    (state) => [...state.backupStorages.values()],
  ),
  "/vm-instances": collection<VmInstanceView>(
    "VmInstanceVO",
    "org.zstack.header.vm.VmInstanceInventory",
    VM_FIELDS,
    (state) => {
      state.expungeOverdue();
      return [...state.vms.values()].map((vm) => state.vmView(vm));
    },
    (state) => ({
      host: (vm) => (vm.hostUuid ? state.hosts.get(vm.hostUuid) : undefined),
      zone: (vm) => state.zones.get(vm.zoneUuid),
      cluster: (vm) => (vm.clusterUuid ? state.clusters.get(vm.clusterUuid) : undefined),
      image: (vm) => state.images.get(vm.imageUuid),
      instanceOffering: (vm) =>
        vm.instanceOfferingUuid ? state.instanceOfferings.get(vm.instanceOfferingUuid) : undefined,
      rootVolume: (vm) => state.volumes.get(vm.rootVolumeUuid),
    }),
  ),
  "/vm-instances/nics": collection<VmNic>(
    "VmNicVO",
    "org.zstack.header.vm.VmNicInventory",
    NIC_FIELDS,
    (state) => [...state.nics.values()],
    (state) => ({
      vmInstance: (nic) => state.vms.get(nic.vmInstanceUuid),
      l3Network: (nic) => state.l3Networks.get(nic.l3NetworkUuid),
    }),
  ),
  "/volumes": collection<Volume>(
    "VolumeVO",
    "org.zstack.header.volume.VolumeInventory",
    VOLUME_FIELDS,
    (state) => [...state.volumes.values()],
    (state) => ({
      vmInstance: (
        volume,
      ) => (volume.vmInstanceUuid ? state.vms.get(volume.vmInstanceUuid) : undefined),
      primaryStorage: (volume) =>
        volume.primaryStorageUuid
          ? state.primaryStorages.get(volume.primaryStorageUuid)
          : undefined,
      diskOffering: (volume) =>
        volume.diskOfferingUuid ? state.diskOfferings.get(volume.diskOfferingUuid) : undefined,
      snapshot: (volume) =>
        [...state.snapshots.values()].filter((s) => s.volumeUuid === volume.uuid),
    }),
  ),
  "/volume-snapshots": collection(
    "VolumeSnapshotVO",
    "org.zstack.header.storage.snapshot.VolumeSnapshotInventory",
    [
      "uuid",
      "name",
      "description",
      "type",
      "volumeUuid",
      "treeUuid",
      "parentUuid",
      "primaryStorageUuid",
      "primaryStorageInstallPath",
      "volumeType",
      "format",
      "latest",
      "size",
      "distance",
      "state",
      "status",
      "backupStorageRefs",
      ...DATES,
    ],
    (state) => [...state.snapshots.values()],
    (state) => ({ volume: (snapshot) => state.volumes.get(snapshot.volumeUuid) }),
  ),
  "/user-tags": collection<Tag>(
    "UserTagVO",
    "org.zstack.header.tag.UserTagInventory",
    TAG_FIELDS,
    (state) => [...state.tags.values()].filter((tag) => tag.type === "User"),
  ),
  "/system-tags": collection<Tag>(
    "SystemTagVO",
    "org.zstack.header.tag.SystemTagInventory",
    TAG_FIELDS,
    (state) => [...state.tags.values()].filter((tag) => tag.type === "System"),
  ),
  "/accesskeys": collection<AccessKey>(
    "AccessKeyVO",
    "org.zstack.accessKey.AccessKeyInventory",
    [
      "uuid",
      "accountUuid",
      "userUuid",
      "AccessKeyID",
      "AccessKeySecret",
      "description",
      "state",
      ...DATES,
    ],
    (_state, auth) => auth.accessKeys(),
  ),
};
