/**
 * The simulated management node's inventory and what the VM, volume, snapshot and tag
 * APIs do to it: the VM state machine with ZStack's allowed states per operation, host
 * CPU/memory capacity, IP allocation from L3 ranges, and messages for one resource
 * running one at a time (ZStack's per-resource sync queue).
 *
 * @module
 */

import {
  ApiError,
  errorCode,
  invalidArgument,
  operationError,
  resourceNotFound,
} from "./errors.ts";
import {
  type BackupStorage,
  type Cluster,
  type DiskOffering,
  type Host,
  type Image,
  type InstanceOffering,
  type IpRange,
  type L3Network,
  newUuid,
  type PrimaryStorage,
  type Tag,
  type UsedIp,
  type VmInstance,
  type VmInstanceView,
  type VmNic,
  type VmState,
  type Volume,
  type VolumeSnapshot,
  type Zone,
} from "./inventory.ts";
import type { SeedData } from "./seed.ts";
import { abortableSleep as pause } from "../../lib/sleep.ts";

/** Timing of the simulated hypervisor. */
export interface StateTiming {
  /** How long a VM stays Starting (also Rebooting, Resuming) before it is Running. */
  vmBootMs: number;
  /** How long the other transient states (Stopping, Destroying, Migrating, ...) last. */
  transitionMs: number;
  /** `vm/expungePeriod`: Destroyed VMs are expunged this long after destruction. */
  vmExpungeSeconds: number;
}

/** The operations the state table of `AbstractVmInstance` governs. */
export type VmOperation =
  | "StartVmInstance"
  | "StopVmInstance"
  | "RebootVmInstance"
  | "MigrateVm"
  | "PauseVmInstance"
  | "ResumeVmInstance"
  | "RecoverVmInstance"
  | "ExpungeVmInstance"
  | "DestroyVmInstance"
  | "GetVmConsoleAddress"
  | "ChangeInstanceOffering"
  | "AttachDataVolumeToVm"
  | "DetachDataVolumeFromVm";

const TRANSIENT: VmState[] = [
  "Starting",
  "Stopping",
  "Rebooting",
  "Destroying",
  "Migrating",
  "Pausing",
  "Resuming",
  "VolumeMigrating",
  "VolumeRecovering",
];

/** Allowed states per operation; anything else is SYS.1006 caused by VM.1010. */
export const ALLOWED_STATES: Record<VmOperation, readonly VmState[]> = {
  StartVmInstance: ["Created", "Stopped", "Running", "Crashed"],
  StopVmInstance: ["Running", "Stopped", "NoState", "Unknown", "Crashed", "Paused"],
  RebootVmInstance: ["Running", "NoState", "Crashed"],
  MigrateVm: ["Running", "Unknown", "Paused"],
  PauseVmInstance: ["Running"],
  ResumeVmInstance: ["Paused"],
  RecoverVmInstance: ["Destroyed"],
  ExpungeVmInstance: ["Destroyed"],
  // Created VMs are deleted from the database directly; Destroyed is accepted as a no-op
  // (a repeated Destroy succeeds, as Destroy of a missing uuid does).
  DestroyVmInstance: [
    "Created",
    "Running",
    "Stopped",
    "Unknown",
    "Crashed",
    "Paused",
    "Error",
    "NoState",
    "Destroyed",
    ...TRANSIENT,
  ],
  GetVmConsoleAddress: ["Running", "Crashed"],
  ChangeInstanceOffering: ["Running", "Stopped", "Paused"],
  AttachDataVolumeToVm: ["Running", "Stopped", "Paused"],
  DetachDataVolumeFromVm: ["Running", "Stopped", "Paused"],
};

const MESSAGE_CLASS: Record<VmOperation, string> = {
  StartVmInstance: "org.zstack.header.vm.APIStartVmInstanceMsg",
  StopVmInstance: "org.zstack.header.vm.APIStopVmInstanceMsg",
  RebootVmInstance: "org.zstack.header.vm.APIRebootVmInstanceMsg",
  MigrateVm: "org.zstack.header.vm.APIMigrateVmMsg",
  PauseVmInstance: "org.zstack.header.vm.APIPauseVmInstanceMsg",
  ResumeVmInstance: "org.zstack.header.vm.APIResumeVmInstanceMsg",
  RecoverVmInstance: "org.zstack.header.vm.APIRecoverVmInstanceMsg",
  ExpungeVmInstance: "org.zstack.header.vm.APIExpungeVmInstanceMsg",
  DestroyVmInstance: "org.zstack.header.vm.APIDestroyVmInstanceMsg",
  GetVmConsoleAddress: "org.zstack.header.console.APIRequestConsoleAccessMsg",
  ChangeInstanceOffering: "org.zstack.header.vm.APIChangeInstanceOfferingMsg",
  AttachDataVolumeToVm: "org.zstack.header.volume.APIAttachDataVolumeToVmMsg",
  DetachDataVolumeFromVm: "org.zstack.header.volume.APIDetachDataVolumeFromVmMsg",
};

/** The resource types tags may be attached to (VO simple names). */
export const TAGGABLE_TYPES = [
  "VmInstanceVO",
  "VolumeVO",
  "VolumeSnapshotVO",
  "ImageVO",
  "HostVO",
  "ClusterVO",
  "ZoneVO",
  "L3NetworkVO",
  "InstanceOfferingVO",
  "DiskOfferingVO",
  "VmNicVO",
] as const;

/** A VO simple name of a taggable resource. */
export type TaggableType = typeof TAGGABLE_TYPES[number];

/** The system tag patterns the simulator accepts on VMs (VmSystemTags and friends). */
const VM_SYSTEM_TAG_PATTERNS: RegExp[] = [
  /^userdata::.+$/s,
  /^hostname::.+$/,
  /^staticIp::[0-9a-f]{32}::.+$/,
  /^customMac::[0-9a-f]{32}::.+$/,
  /^sshkey::.+$/s,
  /^rootPassword::.+$/,
  /^cleanTraffic::(true|false)$/,
  /^bootMode::(UEFI|Legacy|UEFI_WITH_CSM)$/,
  /^consolePassword::.+$/,
  /^ha::NeverStop$/,
  /^resourceConfig::.+$/,
  /^vmPriority::.+$/,
  /^instanceOfferingOnlineChange::.+$/,
];

/** What CreateVmInstance needs once its parameters are type-checked. */
export interface CreateVmRequest {
  name?: string;
  description?: string;
  instanceOfferingUuid?: string;
  cpuNum?: number;
  memorySize?: number;
  reservedMemorySize?: number;
  imageUuid?: string;
  l3NetworkUuids?: string[];
  defaultL3NetworkUuid?: string;
  zoneUuid?: string;
  clusterUuid?: string;
  hostUuid?: string;
  rootDiskSize?: number;
  rootDiskOfferingUuid?: string;
  dataDiskOfferingUuids?: string[];
  dataDiskSizes?: number[];
  primaryStorageUuidForRootVolume?: string;
  strategy?: string;
  type?: string;
  platform?: string;
  guestOsType?: string;
  architecture?: string;
  resourceUuid?: string;
  systemTags: string[];
  userTags: string[];
}

/** CreateVmInstance's parameters once checked and resolved. */
interface CreatePlan {
  name: string;
  strategy: string;
  image: Image;
  cpuNum: number;
  memorySize: number;
  l3s: L3Network[];
  l3Uuids: string[];
  zoneUuid: string;
  clusterUuid?: string;
  hostUuid?: string;
}

/** A failure to allocate capacity that ZStack reports with operr(). */
function noHost(cpuNum: number, memorySize: number): ApiError {
  return operationError(`no host having cpu[${cpuNum}], memory[${memorySize} bytes] found`);
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

function randomMac(): string {
  const octets = crypto.getRandomValues(new Uint8Array(5));
  return ["fa", ...Array.from(octets, (octet) => octet.toString(16).padStart(2, "0"))].join(":");
}

/** The inventory of the simulated management node. */
export class SimState {
  /** Zones by uuid. */
  readonly zones: Map<string, Zone> = new Map();
  /** Clusters by uuid. */
  readonly clusters: Map<string, Cluster> = new Map();
  /** Hosts by uuid, with their live capacity. */
  readonly hosts: Map<string, Host> = new Map();
  /** Images by uuid. */
  readonly images: Map<string, Image> = new Map();
  /** Instance offerings by uuid. */
  readonly instanceOfferings: Map<string, InstanceOffering> = new Map();
  /** Disk offerings by uuid. */
  readonly diskOfferings: Map<string, DiskOffering> = new Map();
  /** L3 networks by uuid. */
  readonly l3Networks: Map<string, L3Network> = new Map();
  /** Primary storage by uuid. */
  readonly primaryStorages: Map<string, PrimaryStorage> = new Map();
  /** Backup storage by uuid. */
  readonly backupStorages: Map<string, BackupStorage> = new Map();
  /** VMs by uuid (Destroyed ones included until expunged). */
  readonly vms: Map<string, VmInstance> = new Map();
  /** VM NICs by uuid. */
  readonly nics: Map<string, VmNic> = new Map();
  /** Volumes by uuid. */
  readonly volumes: Map<string, Volume> = new Map();
  /** Volume snapshots by uuid. */
  readonly snapshots: Map<string, VolumeSnapshot> = new Map();
  /** User and system tags by uuid. */
  readonly tags: Map<string, Tag> = new Map();

  readonly #timing: StateTiming;
  readonly #signal: AbortSignal;
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #destroyedAt = new Map<string, number>();

  /** Creates an empty inventory; sleeps end early once `signal` aborts. */
  constructor(timing: StateTiming, signal: AbortSignal) {
    this.#timing = timing;
    this.#signal = signal;
  }

  /** Fills the inventory from a validated seed. */
  load(seed: SeedData): void {
    const now = new Date();
    const stamp = { createDate: now, lastOpDate: now };
    const byName = <T extends { name: string; uuid: string }>(
      map: Map<string, T>,
      name: string,
      kind: string,
    ): T => {
      const found = [...map.values()].find((item) => item.name === name);
      if (!found) throw new Error(`seed: unknown ${kind} "${name}"`);
      return found;
    };
    for (const zone of seed.zones) {
      const uuid = zone.uuid ?? newUuid();
      this.zones.set(uuid, {
        uuid,
        name: zone.name,
        description: zone.description,
        state: "Enabled",
        type: "zstack",
        isDefault: this.zones.size === 0,
        ...stamp,
      });
    }
    for (const cluster of seed.clusters) {
      const uuid = cluster.uuid ?? newUuid();
      this.clusters.set(uuid, {
        uuid,
        name: cluster.name,
        zoneUuid: byName(this.zones, cluster.zone, "zone").uuid,
        state: "Enabled",
        hypervisorType: "KVM",
        type: "zstack",
        architecture: "x86_64",
        ...stamp,
      });
    }
    for (const host of seed.hosts) {
      const uuid = host.uuid ?? newUuid();
      const cluster = byName(this.clusters, host.cluster, "cluster");
      const cpu = host.totalCpuCapacity ?? host.cpuNum;
      this.hosts.set(uuid, {
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
      });
    }
    for (const ps of seed.primaryStorages) {
      const uuid = ps.uuid ?? newUuid();
      const zoneUuid = byName(this.zones, ps.zone, "zone").uuid;
      this.primaryStorages.set(uuid, {
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
        attachedClusterUuids: [...this.clusters.values()]
          .filter((cluster) => cluster.zoneUuid === zoneUuid)
          .map((cluster) => cluster.uuid),
        ...stamp,
      });
    }
    for (const bs of seed.backupStorages) {
      const uuid = bs.uuid ?? newUuid();
      this.backupStorages.set(uuid, {
        uuid,
        name: bs.name,
        url: bs.url,
        type: bs.type,
        state: "Enabled",
        status: "Connected",
        totalCapacity: bs.totalCapacity,
        availableCapacity: bs.totalCapacity,
        attachedZoneUuids: [byName(this.zones, bs.zone, "zone").uuid],
        ...stamp,
      });
    }
    for (const image of seed.images) {
      this.addImage({ ...image, uuid: image.uuid ?? newUuid() });
    }
    for (const offering of seed.instanceOfferings) {
      this.addInstanceOffering({ ...offering, uuid: offering.uuid ?? newUuid() });
    }
    for (const offering of seed.diskOfferings) {
      this.addDiskOffering({ ...offering, uuid: offering.uuid ?? newUuid() });
    }
    for (const l3 of seed.l3Networks) {
      const uuid = l3.uuid ?? newUuid();
      const ipRanges: IpRange[] = l3.ipRanges.map((range, index) => {
        const prefixLen = prefixLength(range.netmask);
        const network = ipToNumber(range.startIp) & (prefixLen === 0 ? 0 : ~0 << (32 - prefixLen));
        return {
          uuid: range.uuid ?? newUuid(),
          l3NetworkUuid: uuid,
          name: `${l3.name}-range-${index + 1}`,
          startIp: range.startIp,
          endIp: range.endIp,
          netmask: range.netmask,
          gateway: range.gateway,
          networkCidr: `${numberToIp(network >>> 0)}/${prefixLen}`,
          prefixLen,
          ipVersion: 4,
          ...stamp,
        };
      });
      const providerUuid = newUuid();
      this.l3Networks.set(uuid, {
        uuid,
        name: l3.name,
        type: "L3BasicNetwork",
        zoneUuid: byName(this.zones, l3.zone, "zone").uuid,
        l2NetworkUuid: newUuid(),
        state: "Enabled",
        system: l3.system,
        category: l3.category,
        ipVersion: 4,
        dnsDomain: l3.dnsDomain,
        dns: l3.dns,
        ipRanges,
        networkServices: l3.networkServices.map((networkServiceType) => ({
          l3NetworkUuid: uuid,
          networkServiceProviderUuid: providerUuid,
          networkServiceType,
        })),
        ...stamp,
      });
    }
  }

  /** Adds an image (AddImage, or the seed). */
  addImage(
    image: {
      uuid: string;
      name: string;
      url: string;
      size: number;
      mediaType: string;
      format: string;
      platform: string;
      guestOsType?: string;
      architecture: string;
      state?: string;
      status?: string;
      system?: boolean;
    },
  ): Image {
    const now = new Date();
    const inventory: Image = {
      uuid: image.uuid,
      name: image.name,
      state: image.state ?? "Enabled",
      status: image.status ?? "Ready",
      size: image.size,
      actualSize: image.size,
      md5Sum: "not calculated",
      url: image.url,
      mediaType: image.mediaType,
      guestOsType: image.guestOsType,
      platform: image.platform,
      architecture: image.architecture,
      format: image.format,
      system: image.system ?? false,
      virtio: true,
      type: "zstack",
      backupStorageRefs: [...this.backupStorages.values()].map((bs) => ({
        imageUuid: image.uuid,
        backupStorageUuid: bs.uuid,
        installPath: `${bs.url}/${image.uuid}.${image.format}`,
        status: "Ready",
        createDate: now,
        lastOpDate: now,
      })),
      createDate: now,
      lastOpDate: now,
    };
    this.images.set(image.uuid, inventory);
    return inventory;
  }

  /** Adds an instance offering (CreateInstanceOffering, or the seed). */
  addInstanceOffering(
    offering: { uuid: string; name: string; cpuNum: number; memorySize: number },
  ): InstanceOffering {
    const now = new Date();
    const inventory: InstanceOffering = {
      ...offering,
      cpuSpeed: 0,
      reservedMemorySize: 0,
      type: "UserVm",
      allocatorStrategy: "LeastVmPreferredHostAllocatorStrategy",
      sortKey: 0,
      state: "Enabled",
      createDate: now,
      lastOpDate: now,
    };
    this.instanceOfferings.set(offering.uuid, inventory);
    return inventory;
  }

  /** Adds a disk offering (CreateDiskOffering, or the seed). */
  addDiskOffering(offering: { uuid: string; name: string; diskSize: number }): DiskOffering {
    const now = new Date();
    const inventory: DiskOffering = {
      ...offering,
      sortKey: 0,
      state: "Enabled",
      type: "zstack",
      allocatorStrategy: "DefaultPrimaryStorageAllocationStrategy",
      createDate: now,
      lastOpDate: now,
    };
    this.diskOfferings.set(offering.uuid, inventory);
    return inventory;
  }

  /** Whether any resource already has `uuid` (ZStack's ResourceVO table is shared). */
  uuidInUse(uuid: string): boolean {
    return [
      this.zones,
      this.clusters,
      this.hosts,
      this.images,
      this.instanceOfferings,
      this.diskOfferings,
      this.l3Networks,
      this.primaryStorages,
      this.backupStorages,
      this.vms,
      this.nics,
      this.volumes,
      this.snapshots,
      this.tags,
    ].some((map: Map<string, unknown>) => map.has(uuid));
  }

  /** Fails like a duplicate primary key in ResourceVO when `uuid` is taken. */
  #claimUuid(resourceUuid: string | undefined): string {
    if (resourceUuid === undefined) return newUuid();
    if (!/^[0-9a-f]{32}$/.test(resourceUuid)) {
      throw invalidArgument(
        `resourceUuid[${resourceUuid}] is not a valid uuid. A valid uuid is a UUID(v4 recommended) with '-' stripped. ` +
          "see http://en.wikipedia.org/wiki/Universally_unique_identifier for format of UUID, " +
          "the regular expression ZStack uses to validate a UUID is '[0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}'",
      );
    }
    // ZStack has no explicit check: the insert into ResourceVO violates the primary key
    // and the API fails with an internal error. No second resource is created.
    if (this.uuidInUse(resourceUuid)) {
      throw new ApiError(
        errorCode(
          "SYS.1000",
          `org.hibernate.exception.ConstraintViolationException: Duplicate entry '${resourceUuid}' for key 'PRIMARY'`,
        ),
      );
    }
    return resourceUuid;
  }

  /** Runs `fn` after every earlier message for `resourceUuid` finished, like ZStack's sync queue. */
  serial<T>(resourceUuid: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(resourceUuid) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.then(() => {}, () => {});
    this.#queues.set(resourceUuid, settled);
    settled.then(() => {
      if (this.#queues.get(resourceUuid) === settled) this.#queues.delete(resourceUuid);
    });
    return run;
  }

  // ---- tags --------------------------------------------------------------------------

  /** User and system tag strings of a resource. */
  tagsOf(resourceUuid: string): { user: string[]; system: string[] } {
    const user: string[] = [];
    const system: string[] = [];
    for (const tag of this.tags.values()) {
      if (tag.resourceUuid !== resourceUuid) continue;
      (tag.type === "User" ? user : system).push(tag.tag);
    }
    return { user, system };
  }

  #resourceExists(resourceType: TaggableType, uuid: string): boolean {
    const maps: Record<TaggableType, Map<string, unknown>> = {
      VmInstanceVO: this.vms,
      VolumeVO: this.volumes,
      VolumeSnapshotVO: this.snapshots,
      ImageVO: this.images,
      HostVO: this.hosts,
      ClusterVO: this.clusters,
      ZoneVO: this.zones,
      L3NetworkVO: this.l3Networks,
      InstanceOfferingVO: this.instanceOfferings,
      DiskOfferingVO: this.diskOfferings,
      VmNicVO: this.nics,
    };
    return maps[resourceType].has(uuid);
  }

  #checkSystemTag(tag: string): void {
    if (!VM_SYSTEM_TAG_PATTERNS.some((pattern) => pattern.test(tag))) {
      throw invalidArgument(`no system tag matches[${tag}]`);
    }
    if (tag.startsWith("userdata::")) {
      const data = tag.slice("userdata::".length);
      try {
        atob(data);
      } catch {
        throw invalidArgument(`userdata[${data}] is not a valid base64 string`);
      }
    }
    if (tag.startsWith("hostname::")) {
      const hostname = tag.slice("hostname::".length);
      if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9-]+)*$/.test(hostname)) {
        throw invalidArgument(`hostname[${hostname}] is not a valid domain name`);
      }
    }
  }

  /** CreateUserTag / CreateSystemTag (and tags given at create time). */
  createTag(
    type: "User" | "System",
    resourceType: string,
    resourceUuid: string,
    tag: string,
    resourceUuidOfTag?: string,
  ): Tag {
    if (!(TAGGABLE_TYPES as readonly string[]).includes(resourceType)) {
      throw invalidArgument(`no resource type[${resourceType}] found in tag system`);
    }
    if (!this.#resourceExists(resourceType as TaggableType, resourceUuid)) {
      throw resourceNotFound("resourceUuid", resourceUuid, resourceType);
    }
    if (type === "System") this.#checkSystemTag(tag);
    const duplicate = [...this.tags.values()].some((existing) =>
      existing.resourceUuid === resourceUuid && existing.type === type && existing.tag === tag
    );
    if (duplicate) {
      throw invalidArgument(
        `Duplicated Tag[tag:${tag}, type:${type}, resourceType:${resourceType}, resourceUuid:${resourceUuid}]`,
      );
    }
    const now = new Date();
    const inventory: Tag = {
      uuid: this.#claimUuid(resourceUuidOfTag),
      resourceUuid,
      resourceType,
      tag,
      type,
      inherent: false,
      createDate: now,
      lastOpDate: now,
    };
    this.tags.set(inventory.uuid, inventory);
    return inventory;
  }

  /** UpdateSystemTag. */
  updateSystemTag(uuid: string, tag: string): Tag {
    const existing = this.tags.get(uuid);
    if (!existing || existing.type !== "System") {
      throw resourceNotFound("uuid", uuid, "SystemTagVO");
    }
    this.#checkSystemTag(tag);
    existing.tag = tag;
    existing.lastOpDate = new Date();
    return existing;
  }

  /** DeleteTag; a missing uuid succeeds. */
  deleteTag(uuid: string): void {
    const tag = this.tags.get(uuid);
    if (tag?.inherent) throw operationError(`tag[uuid:${uuid}] is an inherent system tag`);
    this.tags.delete(uuid);
  }

  #deleteTagsOf(resourceUuid: string): void {
    for (const [uuid, tag] of this.tags) {
      if (tag.resourceUuid === resourceUuid) this.tags.delete(uuid);
    }
  }

  // ---- VMs ---------------------------------------------------------------------------

  /** Removes Destroyed VMs whose expunge period is over (vm/expungePeriod). */
  expungeOverdue(now = Date.now()): void {
    for (const [uuid, destroyedAt] of this.#destroyedAt) {
      if (now - destroyedAt < this.#timing.vmExpungeSeconds * 1000) continue;
      const vm = this.vms.get(uuid);
      if (vm?.state === "Destroyed") this.#remove(vm);
      this.#destroyedAt.delete(uuid);
    }
  }

  /** The VM as QueryVmInstance returns it, with NICs and volumes. */
  vmView(vm: VmInstance): VmInstanceView {
    const vmNics = [...this.nics.values()]
      .filter((nic) => nic.vmInstanceUuid === vm.uuid)
      .sort((a, b) => a.deviceId - b.deviceId);
    const allVolumes = [...this.volumes.values()]
      .filter((volume) => volume.vmInstanceUuid === vm.uuid)
      .sort((a, b) => (a.deviceId ?? 0) - (b.deviceId ?? 0));
    return { ...vm, vmNics, allVolumes, vmCdRoms: [] };
  }

  /** The VM with `uuid`, or SYS.1003 naming `field`. */
  vm(uuid: string, field = "uuid"): VmInstance {
    const vm = this.vms.get(uuid);
    if (!vm) throw resourceNotFound(field, uuid, "VmInstanceVO");
    return vm;
  }

  /** Throws SYS.1006 caused by VM.1010 unless `vm` is in a state that allows `operation`. */
  checkState(vm: VmInstance, operation: VmOperation): void {
    const allowed = ALLOWED_STATES[operation];
    if (allowed.includes(vm.state)) return;
    const details = `current vm instance state[${vm.state}] doesn't allow to proceed message[${
      MESSAGE_CLASS[operation]
    }], allowed states are [${allowed.join(", ")}]`;
    throw operationError(details, errorCode("VM.1010", details));
  }

  #setState(vm: VmInstance, state: VmState): void {
    vm.state = state;
    vm.lastOpDate = new Date();
  }

  #fits(host: Host, cpuNum: number, memorySize: number): boolean {
    return host.state === "Enabled" && host.status === "Connected" &&
      host.availableCpuCapacity >= cpuNum && host.availableMemoryCapacity >= memorySize;
  }

  /** Picks the candidate with the most free memory, as a least-loaded allocator would. */
  #allocateHost(
    candidates: Host[],
    cpuNum: number,
    memorySize: number,
    preferred?: string,
  ): Host {
    const fitting = candidates.filter((host) => this.#fits(host, cpuNum, memorySize));
    if (fitting.length === 0) throw noHost(cpuNum, memorySize);
    const last = fitting.find((host) => host.uuid === preferred);
    if (last) return last;
    return fitting.reduce((best, host) =>
      host.availableMemoryCapacity > best.availableMemoryCapacity ? host : best
    );
  }

  #reserve(host: Host, cpuNum: number, memorySize: number): void {
    host.availableCpuCapacity -= cpuNum;
    host.availableMemoryCapacity -= memorySize;
  }

  #release(vm: VmInstance): void {
    const host = vm.hostUuid ? this.hosts.get(vm.hostUuid) : undefined;
    if (host) {
      host.availableCpuCapacity = Math.min(
        host.totalCpuCapacity,
        host.availableCpuCapacity + vm.cpuNum,
      );
      host.availableMemoryCapacity = Math.min(
        host.totalMemoryCapacity,
        host.availableMemoryCapacity + vm.memorySize,
      );
    }
    if (vm.hostUuid) vm.lastHostUuid = vm.hostUuid;
    vm.hostUuid = undefined;
  }

  #hostsFor(vm: { zoneUuid: string; clusterUuid?: string }, hostUuid?: string): Host[] {
    return [...this.hosts.values()].filter((host) =>
      host.zoneUuid === vm.zoneUuid &&
      (vm.clusterUuid === undefined || host.clusterUuid === vm.clusterUuid) &&
      (hostUuid === undefined || host.uuid === hostUuid)
    );
  }

  #placeOnHost(vm: VmInstance, host: Host): void {
    this.#reserve(host, vm.cpuNum, vm.memorySize);
    vm.hostUuid = host.uuid;
    vm.clusterUuid = host.clusterUuid;
    vm.lastHostUuid = host.uuid;
  }

  #usedIps(l3NetworkUuid: string): Set<string> {
    const used = new Set<string>();
    for (const nic of this.nics.values()) {
      for (const usedIp of nic.usedIps) {
        if (usedIp.l3NetworkUuid === l3NetworkUuid) used.add(usedIp.ip);
      }
    }
    return used;
  }

  /** The free IPs of an L3 network, lowest first. */
  freeIps(l3: L3Network, limit: number): { range: IpRange; ip: string }[] {
    const used = this.#usedIps(l3.uuid);
    const free: { range: IpRange; ip: string }[] = [];
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
  ipCapacity(l3: L3Network): { total: number; used: number } {
    const total = l3.ipRanges.reduce(
      (sum, range) => sum + ipToNumber(range.endIp) - ipToNumber(range.startIp) + 1,
      0,
    );
    return { total, used: this.#usedIps(l3.uuid).size };
  }

  #assignIp(nic: VmNic, staticIp?: string): void {
    const l3 = this.l3Networks.get(nic.l3NetworkUuid);
    if (!l3) return;
    let choice: { range: IpRange; ip: string } | undefined;
    if (staticIp !== undefined) {
      const range = l3.ipRanges.find((r) =>
        ipToNumber(r.startIp) <= ipToNumber(staticIp) && ipToNumber(staticIp) <= ipToNumber(r.endIp)
      );
      if (!range) {
        throw invalidArgument(
          `static IP[${staticIp}] is not in any IP range of L3 network[uuid:${l3.uuid}]`,
        );
      }
      if (this.#usedIps(l3.uuid).has(staticIp)) {
        throw operationError(`IP[${staticIp}] in L3 network[uuid:${l3.uuid}] has been occupied`);
      }
      choice = { range, ip: staticIp };
    } else {
      choice = this.freeIps(l3, 1)[0];
      if (!choice) {
        throw operationError(`IP range of L3 network[uuid:${l3.uuid}] has no IP available`);
      }
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

  #releaseIps(vmUuid: string): void {
    for (const nic of this.nics.values()) {
      if (nic.vmInstanceUuid !== vmUuid) continue;
      nic.usedIps = [];
      nic.ip = undefined;
      nic.netmask = undefined;
      nic.gateway = undefined;
      nic.usedIpUuid = undefined;
    }
  }

  #staticIps(systemTags: string[]): Map<string, string> {
    const staticIps = new Map<string, string>();
    for (const tag of systemTags) {
      const match = /^staticIp::([0-9a-f]{32})::(.+)$/.exec(tag);
      if (match) staticIps.set(match[1], match[2]);
    }
    return staticIps;
  }

  /** Checks CreateVmInstance's parameters as the API interceptors do, and resolves them. */
  #planCreate(request: CreateVmRequest): CreatePlan {
    const api = "org.zstack.header.vm.APICreateVmInstanceMsg";
    const mandatory = (value: unknown, field: string) => {
      if (value === undefined) {
        throw invalidArgument(`field[${field}] of message[${api}] is mandatory, can not be null`);
      }
    };
    mandatory(request.name, "name");
    mandatory(request.imageUuid, "imageUuid");
    const name = request.name as string;
    if (name.length > 255) {
      throw invalidArgument(`field[name] of message[${api}] exceeds the length limit[255]`);
    }
    const strategy = request.strategy ?? "InstantStart";
    if (!["InstantStart", "JustCreate", "CreateStopped"].includes(strategy)) {
      throw invalidArgument(
        `valid value for field[strategy] of message[${api}] are [InstantStart, JustCreate, CreateStopped], but ${strategy} found`,
      );
    }
    const image = this.images.get(request.imageUuid as string);
    if (!image) throw resourceNotFound("imageUuid", request.imageUuid as string, "ImageVO");
    if (image.state !== "Enabled" || image.status !== "Ready") {
      throw invalidArgument(
        `image[uuid:${image.uuid}] is not Enabled or not Ready, can't create vm from it`,
      );
    }
    if (image.mediaType === "DataVolumeTemplate" || image.system) {
      throw invalidArgument(
        `image[uuid:${image.uuid}] is of mediaType: ${image.mediaType}, only RootVolumeTemplate and ISO can be used to create vm`,
      );
    }
    if (image.mediaType === "ISO" && !request.rootDiskOfferingUuid && !request.rootDiskSize) {
      throw invalidArgument(
        `rootDiskOfferingUuid or rootDiskSize cannot be null when image mediaType is ISO`,
      );
    }
    let cpuNum = request.cpuNum;
    let memorySize = request.memorySize;
    if (request.instanceOfferingUuid !== undefined) {
      const offering = this.instanceOfferings.get(request.instanceOfferingUuid);
      if (!offering) {
        throw resourceNotFound(
          "instanceOfferingUuid",
          request.instanceOfferingUuid,
          "InstanceOfferingVO",
        );
      }
      if (offering.state !== "Enabled") {
        throw invalidArgument(
          `instance offering[uuid:${offering.uuid}] is not Enabled, can't create vm from it`,
        );
      }
      cpuNum = offering.cpuNum;
      memorySize = offering.memorySize;
    }
    if (cpuNum === undefined || memorySize === undefined) {
      throw invalidArgument("Missing CPU/memory settings");
    }
    if (cpuNum < 1 || cpuNum > 1024) {
      throw invalidArgument(`cpuNum[${cpuNum}] must be in [1, 1024]`);
    }
    if (memorySize < 1) throw invalidArgument(`memorySize[${memorySize}] must be positive`);
    const l3Uuids = request.l3NetworkUuids ?? [];
    if (l3Uuids.length === 0 && !request.zoneUuid && !request.clusterUuid && !request.hostUuid) {
      throw invalidArgument(
        "at least one of l3NetworkUuids, zoneUuid, clusterUuid, hostUuid must be set",
      );
    }
    const l3s = l3Uuids.map((uuid) => {
      const l3 = this.l3Networks.get(uuid);
      if (!l3) throw resourceNotFound("l3NetworkUuids", uuid, "L3NetworkVO");
      if (l3.state !== "Enabled") {
        throw invalidArgument(`l3Network[uuid:${uuid}] is Disabled, can not create vm on it`);
      }
      if (l3.system) {
        throw invalidArgument(
          `l3Network[uuid:${uuid}] is system network, can not create user vm on it`,
        );
      }
      return l3;
    });
    if (new Set(l3Uuids).size !== l3Uuids.length) throw invalidArgument("duplicate l3NetworkUuids");
    if (
      request.defaultL3NetworkUuid !== undefined && !l3Uuids.includes(request.defaultL3NetworkUuid)
    ) {
      throw invalidArgument(
        `defaultL3NetworkUuid[uuid:${request.defaultL3NetworkUuid}] is not in l3NetworkUuids${
          JSON.stringify(l3Uuids)
        }`,
      );
    }
    for (const uuid of request.dataDiskOfferingUuids ?? []) {
      if (!this.diskOfferings.has(uuid)) {
        throw resourceNotFound("dataDiskOfferingUuids", uuid, "DiskOfferingVO");
      }
    }
    if (
      request.rootDiskOfferingUuid !== undefined &&
      !this.diskOfferings.has(request.rootDiskOfferingUuid)
    ) {
      throw resourceNotFound(
        "rootDiskOfferingUuid",
        request.rootDiskOfferingUuid,
        "DiskOfferingVO",
      );
    }
    // Placement: hostUuid overrides clusterUuid, which overrides zoneUuid, then the L3's zone.
    let zoneUuid: string;
    let clusterUuid: string | undefined;
    const hostUuid = request.hostUuid;
    if (hostUuid !== undefined) {
      const host = this.hosts.get(hostUuid);
      if (!host) throw resourceNotFound("hostUuid", hostUuid, "HostVO");
      zoneUuid = host.zoneUuid;
      clusterUuid = host.clusterUuid;
    } else if (request.clusterUuid !== undefined) {
      const cluster = this.clusters.get(request.clusterUuid);
      if (!cluster) throw resourceNotFound("clusterUuid", request.clusterUuid, "ClusterVO");
      zoneUuid = cluster.zoneUuid;
      clusterUuid = cluster.uuid;
    } else if (request.zoneUuid !== undefined) {
      if (!this.zones.has(request.zoneUuid)) {
        throw resourceNotFound("zoneUuid", request.zoneUuid, "ZoneVO");
      }
      zoneUuid = request.zoneUuid;
    } else {
      zoneUuid = l3s[0].zoneUuid;
    }
    for (const tag of request.systemTags) this.#checkSystemTag(tag);
    if (request.systemTags.filter((tag) => tag.startsWith("userdata::")).length > 1) {
      throw invalidArgument("only one userdata system tag is allowed, but 2 found");
    }
    return {
      name,
      strategy,
      image,
      cpuNum,
      memorySize,
      l3s,
      l3Uuids,
      zoneUuid,
      clusterUuid,
      hostUuid,
    };
  }

  /** CreateVmInstance: validation, then allocation, then the boot according to `strategy`. */
  createVm(request: CreateVmRequest): Promise<VmInstanceView> {
    const {
      name,
      strategy,
      image,
      cpuNum,
      memorySize,
      l3s,
      l3Uuids,
      zoneUuid,
      clusterUuid,
      hostUuid,
    } = this.#planCreate(request);
    const uuid = this.#claimUuid(request.resourceUuid);
    const candidates = this.#hostsFor({ zoneUuid, clusterUuid }, hostUuid);
    const host = strategy === "JustCreate"
      ? undefined
      : this.#allocateHost(candidates, cpuNum, memorySize);

    const now = new Date();
    const rootVolumeUuid = newUuid();
    const vm: VmInstance = {
      uuid,
      name,
      description: request.description,
      zoneUuid,
      clusterUuid,
      imageUuid: image.uuid,
      instanceOfferingUuid: request.instanceOfferingUuid,
      rootVolumeUuid,
      platform: request.platform ?? image.platform,
      architecture: request.architecture ?? image.architecture,
      guestOsType: request.guestOsType ?? image.guestOsType,
      defaultL3NetworkUuid: request.defaultL3NetworkUuid ?? l3Uuids[0],
      type: request.type ?? "UserVm",
      hypervisorType: "KVM",
      memorySize,
      reservedMemorySize: request.reservedMemorySize ?? 0,
      cpuNum,
      cpuSpeed: 0,
      allocatorStrategy: "LeastVmPreferredHostAllocatorStrategy",
      state: "Created",
      createDate: now,
      lastOpDate: now,
    };
    const staticIps = this.#staticIps(request.systemTags);
    const nics: VmNic[] = l3s.map((l3, deviceId) => ({
      uuid: newUuid(),
      vmInstanceUuid: uuid,
      l3NetworkUuid: l3.uuid,
      mac: randomMac(),
      ipVersion: 4,
      deviceId,
      driverType: "virtio",
      type: "VNIC",
      state: "enable",
      internalName: `vnic${this.vms.size + 1}.${deviceId}`,
      usedIps: [],
      createDate: now,
      lastOpDate: now,
    }));
    // IPs are allocated at create for every strategy (JustCreate included), so that a
    // created VM can be found by `vmNics.ip`.
    const assigned: VmNic[] = [];
    try {
      for (const nic of nics) {
        this.#assignIp(nic, staticIps.get(nic.l3NetworkUuid));
        this.nics.set(nic.uuid, nic);
        assigned.push(nic);
      }
    } catch (error) {
      for (const nic of assigned) this.nics.delete(nic.uuid);
      throw error;
    }
    const primaryStorage = request.primaryStorageUuidForRootVolume !== undefined
      ? this.primaryStorages.get(request.primaryStorageUuidForRootVolume)
      : [...this.primaryStorages.values()].find((ps) => ps.zoneUuid === zoneUuid);
    const rootSize = request.rootDiskSize ??
      (request.rootDiskOfferingUuid
        ? this.diskOfferings.get(request.rootDiskOfferingUuid)?.diskSize
        : undefined) ??
      image.size;
    this.volumes.set(rootVolumeUuid, {
      uuid: rootVolumeUuid,
      name: `ROOT-for-${name}`,
      description: `Root volume for VM[uuid:${uuid}]`,
      primaryStorageUuid: primaryStorage?.uuid,
      vmInstanceUuid: uuid,
      rootImageUuid: image.uuid,
      installPath: `${
        primaryStorage?.url ?? "/zstack_ps"
      }/rootVolumes/acct-36c27e8f/vol-${rootVolumeUuid}/${rootVolumeUuid}.qcow2`,
      type: "Root",
      format: "qcow2",
      size: rootSize,
      actualSize: image.actualSize,
      deviceId: 0,
      state: "Enabled",
      status: "Ready",
      isShareable: false,
      createDate: now,
      lastOpDate: now,
    });
    const dataSizes = [
      ...(request.dataDiskOfferingUuids ?? []).map((offering) => ({
        size: this.diskOfferings.get(offering)?.diskSize ?? 0,
        offering,
      })),
      ...(request.dataDiskSizes ?? []).map((size) => ({ size, offering: undefined })),
    ];
    dataSizes.forEach(({ size, offering }, index) => {
      const volumeUuid = newUuid();
      this.volumes.set(volumeUuid, {
        uuid: volumeUuid,
        name: `DATA-for-${name}`,
        primaryStorageUuid: primaryStorage?.uuid,
        vmInstanceUuid: uuid,
        diskOfferingUuid: offering,
        installPath: `${
          primaryStorage?.url ?? "/zstack_ps"
        }/dataVolumes/vol-${volumeUuid}/${volumeUuid}.qcow2`,
        type: "Data",
        format: "qcow2",
        size,
        actualSize: 0,
        deviceId: index + 1,
        state: "Enabled",
        status: "Ready",
        isShareable: false,
        lastVmInstanceUuid: uuid,
        lastAttachDate: now,
        createDate: now,
        lastOpDate: now,
      });
    });
    this.vms.set(uuid, vm);
    for (const tag of request.systemTags) this.createTag("System", "VmInstanceVO", uuid, tag);
    for (const tag of request.userTags) {
      if (!this.tagsOf(uuid).user.includes(tag)) this.createTag("User", "VmInstanceVO", uuid, tag);
    }
    if (host) {
      // Reserved before the first await, so that concurrent creates cannot overcommit a host.
      this.#placeOnHost(vm, host);
      this.#setState(vm, "Starting");
    }
    return this.serial(uuid, async () => {
      if (host) {
        await pause(this.#timing.vmBootMs, this.#signal);
        if (strategy === "CreateStopped") {
          this.#release(vm);
          this.#setState(vm, "Stopped");
        } else {
          this.#setState(vm, "Running");
        }
      }
      return this.vmView(vm);
    });
  }

  /** StartVmInstance; Running is a no-op. */
  startVm(
    uuid: string,
    options: { hostUuid?: string; clusterUuid?: string } = {},
  ): Promise<VmInstanceView> {
    const vm = this.vm(uuid);
    return this.serial(uuid, async () => {
      this.checkState(vm, "StartVmInstance");
      if (vm.state === "Running") return this.vmView(vm);
      let candidates = this.#hostsFor(
        { zoneUuid: vm.zoneUuid, clusterUuid: options.clusterUuid ?? vm.clusterUuid },
        options.hostUuid,
      );
      if (options.hostUuid !== undefined && !this.hosts.has(options.hostUuid)) {
        throw resourceNotFound("hostUuid", options.hostUuid, "HostVO");
      }
      if (candidates.length === 0 && options.hostUuid === undefined) {
        candidates = this.#hostsFor({ zoneUuid: vm.zoneUuid });
      }
      const host = this.#allocateHost(candidates, vm.cpuNum, vm.memorySize, vm.lastHostUuid);
      this.#placeOnHost(vm, host);
      this.#setState(vm, "Starting");
      await pause(this.#timing.vmBootMs, this.#signal);
      this.#setState(vm, "Running");
      return this.vmView(vm);
    });
  }

  /** StopVmInstance; Stopped is a no-op. */
  stopVm(uuid: string): Promise<VmInstanceView> {
    const vm = this.vm(uuid);
    return this.serial(uuid, async () => {
      this.checkState(vm, "StopVmInstance");
      if (vm.state === "Stopped") return this.vmView(vm);
      this.#setState(vm, "Stopping");
      await pause(this.#timing.transitionMs, this.#signal);
      this.#release(vm);
      this.#setState(vm, "Stopped");
      return this.vmView(vm);
    });
  }

  /** RebootVmInstance. */
  rebootVm(uuid: string): Promise<VmInstanceView> {
    return this.#simpleTransition(uuid, "RebootVmInstance", "Rebooting", "Running", "boot");
  }

  /** PauseVmInstance. */
  pauseVm(uuid: string): Promise<VmInstanceView> {
    return this.#simpleTransition(uuid, "PauseVmInstance", "Pausing", "Paused", "transition");
  }

  /** ResumeVmInstance. */
  resumeVm(uuid: string): Promise<VmInstanceView> {
    return this.#simpleTransition(uuid, "ResumeVmInstance", "Resuming", "Running", "transition");
  }

  /**
   * An action that only moves the VM through one transitional state: checked
   * against the state table, serialised per VM, `via` for the boot or
   * transition time, then `to`.
   */
  #simpleTransition(
    uuid: string,
    operation: VmOperation,
    via: VmState,
    to: VmState,
    duration: "boot" | "transition",
  ): Promise<VmInstanceView> {
    const vm = this.vm(uuid);
    return this.serial(uuid, async () => {
      this.checkState(vm, operation);
      this.#setState(vm, via);
      const ms = duration === "boot" ? this.#timing.vmBootMs : this.#timing.transitionMs;
      await pause(ms, this.#signal);
      this.#setState(vm, to);
      return this.vmView(vm);
    });
  }

  /**
   * DestroyVmInstance under the Delay deletion policy: the VM stays Destroyed (and
   * queryable) until expunged, its host capacity and IPs are released and data volumes
   * are detached. A missing uuid succeeds; a Created VM is removed at once.
   */
  destroyVm(uuid: string): Promise<void> {
    const vm = this.vms.get(uuid);
    if (!vm) return Promise.resolve();
    return this.serial(uuid, async () => {
      if (!this.vms.has(uuid) || vm.state === "Destroyed") return;
      this.checkState(vm, "DestroyVmInstance");
      if (vm.state === "Created") {
        this.#remove(vm);
        return;
      }
      this.#setState(vm, "Destroying");
      await pause(this.#timing.transitionMs, this.#signal);
      this.#release(vm);
      this.#releaseIps(uuid);
      const now = new Date();
      for (const volume of this.volumes.values()) {
        if (volume.vmInstanceUuid !== uuid || volume.type !== "Data") continue;
        volume.vmInstanceUuid = undefined;
        volume.deviceId = undefined;
        volume.lastDetachDate = now;
      }
      this.#setState(vm, "Destroyed");
      this.#destroyedAt.set(uuid, Date.now());
    });
  }

  /** RecoverVmInstance: Destroyed becomes Stopped, with its IPs allocated again. */
  recoverVm(uuid: string): Promise<VmInstanceView> {
    const vm = this.vm(uuid);
    return this.serial(uuid, () => {
      this.checkState(vm, "RecoverVmInstance");
      for (const nic of this.nics.values()) {
        if (nic.vmInstanceUuid === uuid) this.#assignIp(nic);
      }
      this.#destroyedAt.delete(uuid);
      this.#setState(vm, "Stopped");
      return Promise.resolve(this.vmView(vm));
    });
  }

  /** ExpungeVmInstance: removes a Destroyed VM with its NICs, root volume and tags. */
  expungeVm(uuid: string): Promise<void> {
    const vm = this.vm(uuid);
    return this.serial(uuid, async () => {
      this.checkState(vm, "ExpungeVmInstance");
      this.#setState(vm, "Expunging");
      await pause(this.#timing.transitionMs, this.#signal);
      this.#remove(vm);
    });
  }

  #remove(vm: VmInstance): void {
    this.#release(vm);
    for (const [uuid, nic] of this.nics) {
      if (nic.vmInstanceUuid === vm.uuid) this.nics.delete(uuid);
    }
    for (const [uuid, volume] of this.volumes) {
      if (volume.vmInstanceUuid !== vm.uuid) continue;
      if (volume.type === "Root") {
        this.volumes.delete(uuid);
        for (const [snapshotUuid, snapshot] of this.snapshots) {
          if (snapshot.volumeUuid === uuid) this.snapshots.delete(snapshotUuid);
        }
        this.#deleteTagsOf(uuid);
      } else {
        volume.vmInstanceUuid = undefined;
        volume.deviceId = undefined;
      }
    }
    this.#deleteTagsOf(vm.uuid);
    this.#destroyedAt.delete(vm.uuid);
    this.vms.delete(vm.uuid);
  }

  /** Hosts a VM could live-migrate to: same cluster, not its host, with room for it. */
  migrationTargets(vm: VmInstance): Host[] {
    return [...this.hosts.values()].filter((host) =>
      host.clusterUuid === vm.clusterUuid && host.uuid !== vm.hostUuid &&
      this.#fits(host, vm.cpuNum, vm.memorySize)
    );
  }

  /** MigrateVm: live migration to `hostUuid` or to the best other host of the cluster. */
  migrateVm(uuid: string, hostUuid?: string): Promise<VmInstanceView> {
    const vm = this.vm(uuid, "vmInstanceUuid");
    return this.serial(uuid, async () => {
      this.checkState(vm, "MigrateVm");
      let target: Host;
      if (hostUuid !== undefined) {
        const host = this.hosts.get(hostUuid);
        if (!host) throw resourceNotFound("hostUuid", hostUuid, "HostVO");
        if (host.uuid === vm.hostUuid) {
          throw invalidArgument(`the vm[uuid:${uuid}] is already on host[uuid:${hostUuid}]`);
        }
        if (host.clusterUuid !== vm.clusterUuid) {
          throw operationError(
            `host[uuid:${hostUuid}] is not in the cluster[uuid:${vm.clusterUuid}] of vm[uuid:${uuid}]`,
          );
        }
        if (!this.#fits(host, vm.cpuNum, vm.memorySize)) throw noHost(vm.cpuNum, vm.memorySize);
        target = host;
      } else {
        const candidates = this.migrationTargets(vm);
        if (candidates.length === 0) throw noHost(vm.cpuNum, vm.memorySize);
        target = this.#allocateHost(candidates, vm.cpuNum, vm.memorySize);
      }
      const before = vm.state;
      this.#reserve(target, vm.cpuNum, vm.memorySize);
      this.#setState(vm, "Migrating");
      await pause(this.#timing.transitionMs, this.#signal);
      this.#release(vm);
      vm.hostUuid = target.uuid;
      vm.lastHostUuid = target.uuid;
      this.#setState(vm, before === "Paused" ? "Paused" : "Running");
      return this.vmView(vm);
    });
  }

  /** UpdateVmInstance: name, description, cpuNum and memorySize (the last two when not running). */
  updateVm(
    uuid: string,
    changes: { name?: string; description?: string; cpuNum?: number; memorySize?: number },
  ): Promise<VmInstanceView> {
    const vm = this.vm(uuid);
    return this.serial(uuid, () => {
      if (changes.name !== undefined) vm.name = changes.name;
      if (changes.description !== undefined) vm.description = changes.description;
      if (changes.cpuNum !== undefined || changes.memorySize !== undefined) {
        this.#resize(vm, changes.cpuNum ?? vm.cpuNum, changes.memorySize ?? vm.memorySize);
      }
      vm.lastOpDate = new Date();
      return Promise.resolve(this.vmView(vm));
    });
  }

  #resize(vm: VmInstance, cpuNum: number, memorySize: number): void {
    const host = vm.hostUuid ? this.hosts.get(vm.hostUuid) : undefined;
    if (host) {
      const cpu = cpuNum - vm.cpuNum;
      const memory = memorySize - vm.memorySize;
      if (host.availableCpuCapacity < cpu || host.availableMemoryCapacity < memory) {
        throw noHost(cpuNum, memorySize);
      }
      this.#reserve(host, cpu, memory);
    }
    vm.cpuNum = cpuNum;
    vm.memorySize = memorySize;
  }

  /** ChangeInstanceOffering. */
  changeInstanceOffering(uuid: string, instanceOfferingUuid: string): Promise<VmInstanceView> {
    const vm = this.vm(uuid, "vmInstanceUuid");
    return this.serial(uuid, () => {
      this.checkState(vm, "ChangeInstanceOffering");
      const offering = this.instanceOfferings.get(instanceOfferingUuid);
      if (!offering) {
        throw resourceNotFound("instanceOfferingUuid", instanceOfferingUuid, "InstanceOfferingVO");
      }
      this.#resize(vm, offering.cpuNum, offering.memorySize);
      vm.instanceOfferingUuid = offering.uuid;
      vm.lastOpDate = new Date();
      return Promise.resolve(this.vmView(vm));
    });
  }

  /** Sets a VM's state directly, as a host sync would (Crashed, Unknown, ...): for tests. */
  forceVmState(uuid: string, state: VmState): void {
    const vm = this.vm(uuid);
    if (["Stopped", "Created", "Destroyed"].includes(state)) this.#release(vm);
    this.#setState(vm, state);
  }

  // ---- volumes -----------------------------------------------------------------------

  /** The volume with `uuid`, or SYS.1003 naming `field`. */
  volume(uuid: string, field = "uuid"): Volume {
    const volume = this.volumes.get(uuid);
    if (!volume) throw resourceNotFound(field, uuid, "VolumeVO");
    return volume;
  }

  /** CreateDataVolume: NotInstantiated until attached unless a primary storage is given. */
  createDataVolume(request: {
    name?: string;
    description?: string;
    diskOfferingUuid?: string;
    diskSize?: number;
    primaryStorageUuid?: string;
    resourceUuid?: string;
    systemTags: string[];
    userTags: string[];
  }): Volume {
    const api = "org.zstack.header.volume.APICreateDataVolumeMsg";
    if (request.name === undefined) {
      throw invalidArgument(`field[name] of message[${api}] is mandatory, can not be null`);
    }
    let size = request.diskSize;
    if (request.diskOfferingUuid !== undefined) {
      const offering = this.diskOfferings.get(request.diskOfferingUuid);
      if (!offering) {
        throw resourceNotFound("diskOfferingUuid", request.diskOfferingUuid, "DiskOfferingVO");
      }
      size = offering.diskSize;
    }
    if (size === undefined) {
      throw invalidArgument("either diskOfferingUuid or diskSize must be set");
    }
    if (size <= 0) throw invalidArgument(`diskSize[${size}] must be positive`);
    let primaryStorage: PrimaryStorage | undefined;
    if (request.primaryStorageUuid !== undefined) {
      primaryStorage = this.primaryStorages.get(request.primaryStorageUuid);
      if (!primaryStorage) {
        throw resourceNotFound(
          "primaryStorageUuid",
          request.primaryStorageUuid,
          "PrimaryStorageVO",
        );
      }
    }
    const uuid = this.#claimUuid(request.resourceUuid);
    const now = new Date();
    const volume: Volume = {
      uuid,
      name: request.name,
      description: request.description,
      primaryStorageUuid: primaryStorage?.uuid,
      diskOfferingUuid: request.diskOfferingUuid,
      installPath: primaryStorage
        ? `${primaryStorage.url}/dataVolumes/vol-${uuid}/${uuid}.qcow2`
        : undefined,
      type: "Data",
      format: "qcow2",
      size,
      actualSize: 0,
      state: "Enabled",
      status: primaryStorage ? "Ready" : "NotInstantiated",
      isShareable: false,
      createDate: now,
      lastOpDate: now,
    };
    this.volumes.set(uuid, volume);
    for (const tag of request.userTags) this.createTag("User", "VolumeVO", uuid, tag);
    return volume;
  }

  /** AttachDataVolumeToVm. */
  attachVolume(volumeUuid: string, vmUuid: string): Promise<Volume> {
    const volume = this.volume(volumeUuid, "volumeUuid");
    const vm = this.vm(vmUuid, "vmInstanceUuid");
    return this.serial(vmUuid, async () => {
      this.checkState(vm, "AttachDataVolumeToVm");
      if (volume.type !== "Data") {
        throw operationError(
          `the volume[uuid:${volumeUuid}] is not a data volume, can not be attached`,
        );
      }
      if (volume.state !== "Enabled") {
        throw operationError(
          `data volume[uuid:${volumeUuid}] is not Enabled, current state is ${volume.state}`,
        );
      }
      if (volume.status !== "Ready" && volume.status !== "NotInstantiated") {
        throw operationError(
          `data volume[uuid:${volumeUuid}] is not Ready or NotInstantiated, current status is ${volume.status}`,
        );
      }
      if (volume.vmInstanceUuid !== undefined) {
        throw operationError(
          `data volume[uuid:${volumeUuid}] has been attached to vm[uuid:${volume.vmInstanceUuid}], can't attach again`,
        );
      }
      await pause(this.#timing.transitionMs, this.#signal);
      const used = new Set(
        [...this.volumes.values()].filter((v) => v.vmInstanceUuid === vmUuid).map((v) =>
          v.deviceId
        ),
      );
      let deviceId = 1;
      while (used.has(deviceId)) deviceId++;
      if (volume.status === "NotInstantiated") {
        const root = this.volumes.get(vm.rootVolumeUuid);
        const ps = root?.primaryStorageUuid
          ? this.primaryStorages.get(root.primaryStorageUuid)
          : undefined;
        volume.primaryStorageUuid = ps?.uuid;
        volume.installPath = `${
          ps?.url ?? "/zstack_ps"
        }/dataVolumes/vol-${volume.uuid}/${volume.uuid}.qcow2`;
        volume.status = "Ready";
      }
      const now = new Date();
      volume.vmInstanceUuid = vmUuid;
      volume.lastVmInstanceUuid = vmUuid;
      volume.deviceId = deviceId;
      volume.lastAttachDate = now;
      volume.lastOpDate = now;
      return volume;
    });
  }

  /** DetachDataVolumeFromVm. */
  detachVolume(volumeUuid: string, vmUuid?: string): Promise<Volume> {
    const volume = this.volume(volumeUuid);
    const attachedTo = vmUuid ?? volume.vmInstanceUuid;
    if (attachedTo === undefined) {
      throw operationError(
        `data volume[uuid:${volumeUuid}] is not attached to any vm, can't detach`,
      );
    }
    return this.serial(attachedTo, async () => {
      if (volume.type !== "Data") {
        throw operationError(`can not detach root volume[uuid:${volumeUuid}]`);
      }
      if (volume.vmInstanceUuid !== attachedTo) {
        throw operationError(
          `data volume[uuid:${volumeUuid}] is not attached to vm[uuid:${attachedTo}]`,
        );
      }
      const vm = this.vms.get(attachedTo);
      if (vm) this.checkState(vm, "DetachDataVolumeFromVm");
      await pause(this.#timing.transitionMs, this.#signal);
      const now = new Date();
      volume.vmInstanceUuid = undefined;
      volume.deviceId = undefined;
      volume.lastDetachDate = now;
      volume.lastOpDate = now;
      return volume;
    });
  }

  /** DeleteDataVolume under the Delay policy: detached and Deleted; a missing uuid succeeds. */
  deleteVolume(uuid: string): void {
    const volume = this.volumes.get(uuid);
    if (!volume || volume.status === "Deleted") return;
    if (volume.type === "Root") throw operationError(`can not delete root volume[uuid:${uuid}]`);
    volume.vmInstanceUuid = undefined;
    volume.deviceId = undefined;
    volume.status = "Deleted";
    volume.lastOpDate = new Date();
  }

  /** ExpungeDataVolume: removes a Deleted volume with its snapshots and tags. */
  expungeVolume(uuid: string): void {
    const volume = this.volume(uuid);
    if (volume.status !== "Deleted") {
      throw operationError(`the volume[uuid:${uuid}] is not deleted yet, can't expunge it`);
    }
    for (const [snapshotUuid, snapshot] of this.snapshots) {
      if (snapshot.volumeUuid === uuid) this.snapshots.delete(snapshotUuid);
    }
    this.#deleteTagsOf(uuid);
    this.volumes.delete(uuid);
  }

  /** RecoverDataVolume: a Deleted volume comes back detached. */
  recoverVolume(uuid: string): Volume {
    const volume = this.volume(uuid);
    if (volume.status !== "Deleted") {
      throw operationError(`the volume[uuid:${uuid}] is not deleted yet, can't recover it`);
    }
    volume.status = volume.primaryStorageUuid ? "Ready" : "NotInstantiated";
    volume.lastOpDate = new Date();
    return volume;
  }

  // ---- snapshots ---------------------------------------------------------------------

  /** CreateVolumeSnapshot: the volume must be Ready and Enabled. */
  createSnapshot(
    volumeUuid: string,
    request: { name?: string; description?: string; resourceUuid?: string },
  ): Promise<VolumeSnapshot> {
    const volume = this.volume(volumeUuid, "volumeUuid");
    return this.serial(volume.vmInstanceUuid ?? volumeUuid, async () => {
      if (request.name === undefined) {
        throw invalidArgument(
          "field[name] of message[org.zstack.header.storage.snapshot.APICreateVolumeSnapshotMsg] is mandatory, can not be null",
        );
      }
      if (volume.status !== "Ready" || volume.state !== "Enabled") {
        throw operationError(
          `volume[uuid:${volumeUuid}] is not in state Enabled or status Ready, current state is ${volume.state}, status is ${volume.status}`,
        );
      }
      const uuid = this.#claimUuid(request.resourceUuid);
      await pause(this.#timing.transitionMs, this.#signal);
      const siblings = [...this.snapshots.values()].filter((s) => s.volumeUuid === volumeUuid);
      const latest = siblings.find((s) => s.latest);
      for (const snapshot of siblings) snapshot.latest = false;
      const now = new Date();
      const snapshot: VolumeSnapshot = {
        uuid,
        name: request.name,
        description: request.description,
        type: "Hypervisor",
        volumeUuid,
        treeUuid: latest?.treeUuid ?? newUuid(),
        parentUuid: latest?.uuid,
        primaryStorageUuid: volume.primaryStorageUuid,
        primaryStorageInstallPath: `${volume.installPath ?? "/zstack_ps"}.snapshots/${uuid}.qcow2`,
        volumeType: volume.type,
        format: volume.format,
        latest: true,
        size: volume.actualSize,
        distance: (latest?.distance ?? -1) + 1,
        state: "Enabled",
        status: "Ready",
        backupStorageRefs: [],
        createDate: now,
        lastOpDate: now,
      };
      this.snapshots.set(uuid, snapshot);
      return snapshot;
    });
  }

  /** RevertVolumeFromSnapshot: every VM the volume is attached to must be Stopped. */
  revertSnapshot(uuid: string): Promise<void> {
    const snapshot = this.snapshots.get(uuid);
    if (!snapshot) throw resourceNotFound("uuid", uuid, "VolumeSnapshotVO");
    const volume = this.volume(snapshot.volumeUuid);
    return this.serial(volume.vmInstanceUuid ?? volume.uuid, async () => {
      const vm = volume.vmInstanceUuid ? this.vms.get(volume.vmInstanceUuid) : undefined;
      if (vm && vm.state !== "Stopped") {
        throw operationError(
          `unable to revert volume[uuid:${volume.uuid}] to snapshot[uuid:${uuid}], the vm[uuid:${vm.uuid}] volume attached to is not in Stopped state, current state is ${vm.state}`,
        );
      }
      await pause(this.#timing.transitionMs, this.#signal);
      volume.lastOpDate = new Date();
    });
  }

  /** UpdateVolumeSnapshot. */
  updateSnapshot(uuid: string, changes: { name?: string; description?: string }): VolumeSnapshot {
    const snapshot = this.snapshots.get(uuid);
    if (!snapshot) throw resourceNotFound("uuid", uuid, "VolumeSnapshotVO");
    if (changes.name !== undefined) snapshot.name = changes.name;
    if (changes.description !== undefined) snapshot.description = changes.description;
    snapshot.lastOpDate = new Date();
    return snapshot;
  }

  /** DeleteVolumeSnapshot with its descendants; a missing uuid succeeds. */
  deleteSnapshot(uuid: string): void {
    const snapshot = this.snapshots.get(uuid);
    if (!snapshot) return;
    const doomed = new Set([uuid]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const other of this.snapshots.values()) {
        if (other.parentUuid && doomed.has(other.parentUuid) && !doomed.has(other.uuid)) {
          doomed.add(other.uuid);
          grew = true;
        }
      }
    }
    for (const doomedUuid of doomed) {
      this.snapshots.delete(doomedUuid);
      this.#deleteTagsOf(doomedUuid);
    }
    if (snapshot.latest && snapshot.parentUuid) {
      const parent = this.snapshots.get(snapshot.parentUuid);
      if (parent) parent.latest = true;
    }
  }
}
