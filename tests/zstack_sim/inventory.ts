/**
 * The inventories the simulator keeps, shaped like ZStack's `*Inventory` classes,
 * and how they go on the wire: Gson with its default date format and with
 * null fields left out.
 *
 * @module
 */

/** VM states, from `VmInstanceState.java`. */
export type VmState =
  | "Created"
  | "Starting"
  | "Running"
  | "Stopping"
  | "Stopped"
  | "Rebooting"
  | "Destroying"
  | "Destroyed"
  | "Migrating"
  | "Expunging"
  | "Pausing"
  | "Paused"
  | "Resuming"
  | "VolumeMigrating"
  | "VolumeRecovering"
  | "Error"
  | "NoState"
  | "Unknown"
  | "Crashed";

/** ZoneInventory. */
export interface Zone {
  uuid: string;
  name: string;
  description?: string;
  state: string;
  type: string;
  isDefault: boolean;
  createDate: Date;
  lastOpDate: Date;
}

/** ClusterInventory. */
export interface Cluster {
  uuid: string;
  name: string;
  description?: string;
  zoneUuid: string;
  state: string;
  hypervisorType: string;
  type: string;
  architecture: string;
  createDate: Date;
  lastOpDate: Date;
}

/** HostInventory, with the capacity fields of HostCapacityVO. */
export interface Host {
  uuid: string;
  name: string;
  description?: string;
  zoneUuid: string;
  clusterUuid: string;
  managementIp: string;
  hypervisorType: string;
  state: string;
  status: string;
  totalCpuCapacity: number;
  availableCpuCapacity: number;
  cpuSockets: number;
  cpuNum: number;
  totalMemoryCapacity: number;
  availableMemoryCapacity: number;
  architecture: string;
  createDate: Date;
  lastOpDate: Date;
}

/** ImageInventory. */
export interface Image {
  uuid: string;
  name: string;
  description?: string;
  state: string;
  status: string;
  size: number;
  actualSize: number;
  md5Sum: string;
  url: string;
  mediaType: string;
  guestOsType?: string;
  platform: string;
  architecture: string;
  format: string;
  system: boolean;
  virtio: boolean;
  type: string;
  backupStorageRefs: {
    imageUuid: string;
    backupStorageUuid: string;
    installPath: string;
    status: string;
    createDate: Date;
    lastOpDate: Date;
  }[];
  createDate: Date;
  lastOpDate: Date;
}

/** InstanceOfferingInventory. */
export interface InstanceOffering {
  uuid: string;
  name: string;
  description?: string;
  cpuNum: number;
  cpuSpeed: number;
  memorySize: number;
  reservedMemorySize: number;
  type: string;
  allocatorStrategy: string;
  sortKey: number;
  state: string;
  createDate: Date;
  lastOpDate: Date;
}

/** DiskOfferingInventory. */
export interface DiskOffering {
  uuid: string;
  name: string;
  description?: string;
  diskSize: number;
  sortKey: number;
  state: string;
  type: string;
  allocatorStrategy: string;
  createDate: Date;
  lastOpDate: Date;
}

/** IpRangeInventory. */
export interface IpRange {
  uuid: string;
  l3NetworkUuid: string;
  name: string;
  startIp: string;
  endIp: string;
  netmask: string;
  gateway: string;
  networkCidr: string;
  prefixLen: number;
  ipVersion: number;
  addressMode?: string;
  createDate: Date;
  lastOpDate: Date;
}

/** L3NetworkInventory. */
export interface L3Network {
  uuid: string;
  name: string;
  description?: string;
  type: string;
  zoneUuid: string;
  l2NetworkUuid: string;
  state: string;
  system: boolean;
  category: string;
  ipVersion: number;
  dnsDomain?: string;
  dns: string[];
  ipRanges: IpRange[];
  networkServices: {
    l3NetworkUuid: string;
    networkServiceProviderUuid: string;
    networkServiceType: string;
  }[];
  createDate: Date;
  lastOpDate: Date;
}

/** PrimaryStorageInventory. */
export interface PrimaryStorage {
  uuid: string;
  zoneUuid: string;
  name: string;
  url: string;
  type: string;
  state: string;
  status: string;
  mountPath: string;
  totalCapacity: number;
  availableCapacity: number;
  totalPhysicalCapacity: number;
  availablePhysicalCapacity: number;
  systemUsedCapacity: number;
  attachedClusterUuids: string[];
  createDate: Date;
  lastOpDate: Date;
}

/** BackupStorageInventory. */
export interface BackupStorage {
  uuid: string;
  name: string;
  url: string;
  type: string;
  state: string;
  status: string;
  totalCapacity: number;
  availableCapacity: number;
  attachedZoneUuids: string[];
  createDate: Date;
  lastOpDate: Date;
}

/** UsedIpInventory, as nested in a VM NIC. */
export interface UsedIp {
  uuid: string;
  ipRangeUuid: string;
  l3NetworkUuid: string;
  ip: string;
  netmask: string;
  gateway: string;
  ipVersion: number;
  vmNicUuid: string;
  createDate: Date;
  lastOpDate: Date;
}

/** VmNicInventory. */
export interface VmNic {
  uuid: string;
  vmInstanceUuid: string;
  l3NetworkUuid: string;
  ip?: string;
  mac: string;
  netmask?: string;
  gateway?: string;
  ipVersion: number;
  deviceId: number;
  driverType: string;
  type: string;
  state: string;
  internalName: string;
  usedIpUuid?: string;
  usedIps: UsedIp[];
  createDate: Date;
  lastOpDate: Date;
}

/** VolumeInventory. */
export interface Volume {
  uuid: string;
  name: string;
  description?: string;
  primaryStorageUuid?: string;
  vmInstanceUuid?: string;
  diskOfferingUuid?: string;
  rootImageUuid?: string;
  installPath?: string;
  type: "Root" | "Data";
  format: string;
  size: number;
  actualSize: number;
  deviceId?: number;
  state: "Enabled" | "Disabled";
  status: "Creating" | "Ready" | "NotInstantiated" | "Deleted" | "Migrating";
  isShareable: boolean;
  lastVmInstanceUuid?: string;
  lastAttachDate?: Date;
  lastDetachDate?: Date;
  createDate: Date;
  lastOpDate: Date;
}

/** VolumeSnapshotInventory. */
export interface VolumeSnapshot {
  uuid: string;
  name: string;
  description?: string;
  type: string;
  volumeUuid: string;
  treeUuid: string;
  parentUuid?: string;
  primaryStorageUuid?: string;
  primaryStorageInstallPath: string;
  volumeType: string;
  format: string;
  latest: boolean;
  size: number;
  distance: number;
  state: string;
  status: string;
  backupStorageRefs: never[];
  createDate: Date;
  lastOpDate: Date;
}

/** UserTagInventory and SystemTagInventory. */
export interface Tag {
  uuid: string;
  resourceUuid: string;
  resourceType: string;
  tag: string;
  type: "User" | "System";
  inherent: boolean;
  createDate: Date;
  lastOpDate: Date;
}

/** VmInstanceInventory without the joined lists, as the simulator stores it. */
export interface VmInstance {
  uuid: string;
  name: string;
  description?: string;
  zoneUuid: string;
  clusterUuid?: string;
  hostUuid?: string;
  lastHostUuid?: string;
  imageUuid: string;
  instanceOfferingUuid?: string;
  rootVolumeUuid: string;
  platform: string;
  architecture: string;
  guestOsType?: string;
  defaultL3NetworkUuid?: string;
  type: string;
  hypervisorType: string;
  memorySize: number;
  reservedMemorySize: number;
  cpuNum: number;
  cpuSpeed: number;
  allocatorStrategy: string;
  state: VmState;
  createDate: Date;
  lastOpDate: Date;
}

/** VmInstanceInventory as queried: the stored VM plus its NICs and volumes. */
export interface VmInstanceView extends VmInstance {
  vmNics: VmNic[];
  allVolumes: Volume[];
  vmCdRoms: never[];
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * Formats `date` as Gson's default for `java.sql.Timestamp` on a JDK 8 management node:
 * `MMM d, yyyy h:mm:ss a` in server local time, no zone (e.g. `Jun 7, 2017 9:20:28 PM`).
 */
export function formatZStackDate(date: Date): string {
  const hours = date.getHours();
  const hour12 = hours % 12 === 0 ? 12 : hours % 12;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${MONTHS[date.getMonth()]} ${date.getDate()}, ${date.getFullYear()} ` +
    `${hour12}:${two(date.getMinutes())}:${two(date.getSeconds())} ${hours < 12 ? "AM" : "PM"}`;
}

/** A new ZStack uuid: a random v4 UUID without dashes. */
export function newUuid(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** Whether `text` is a ZStack uuid (32 hex digits, no dashes). */
export function isZStackUuid(text: string): boolean {
  return /^[0-9a-f]{32}$/.test(text);
}

/**
 * Converts an inventory to what Gson puts on the wire: dates formatted, `undefined`
 * and `null` fields omitted, the rest as is.
 */
export function toWire(value: unknown): unknown {
  if (value instanceof Date) return formatZStackDate(value);
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (inner === undefined || inner === null) continue;
      out[key] = toWire(inner);
    }
    return out;
  }
  return value;
}
