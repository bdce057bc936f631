/**
 * Volumes: root and data volumes with their install paths on primary storage, and what
 * CreateDataVolume, AttachDataVolumeToVm, DetachDataVolumeFromVm, ResizeDataVolume,
 * DeleteDataVolume (Delay policy), ExpungeDataVolume, RecoverDataVolume, UpdateVolume and
 * ChangeVolumeState do. A data volume takes room on its primary storage once it is
 * instantiated there (at create when a primary storage is named, else at its first
 * attach); the storage's `availableCapacity` is what its volumes leave free, Deleted ones
 * included until they are expunged.
 *
 * @module
 */

import { invalidArgument, missingField, operationError, resourceNotFound } from "../errors.ts";
import type { PrimaryStorage, Volume } from "../inventory.ts";
import { getVm, getVolume } from "./lookup.ts";
import { type NameChanges, rename } from "./rename.ts";
import { deleteSnapshotsOf } from "./snapshots.ts";
import type { SimState } from "./store.ts";
import { createTag, deleteTagsOf } from "./tags.ts";
import { checkState } from "./vm_states.ts";

/** What CreateDataVolume asks for. */
export interface DataVolumeRequest {
  name?: string;
  description?: string;
  diskOfferingUuid?: string;
  diskSize?: number;
  primaryStorageUuid?: string;
  resourceUuid?: string;
  systemTags: string[];
  userTags: string[];
}

/** The fields a new volume must be given; the rest take the defaults of a fresh qcow2 volume. */
export type VolumeFields = Pick<Volume, "uuid" | "name" | "type" | "size"> & Partial<Volume>;

/** Where a data volume lives on `primaryStorage` (or on the default path without one). */
export function dataVolumePath(primaryStorage: PrimaryStorage | undefined, uuid: string): string {
  return `${primaryStorage?.url ?? "/zstack_ps"}/dataVolumes/vol-${uuid}/${uuid}.qcow2`;
}

/** A new Enabled, Ready, empty qcow2 volume with `fields` set. */
export function newVolume(fields: VolumeFields): Volume {
  const now = new Date();
  return {
    format: "qcow2",
    actualSize: 0,
    state: "Enabled",
    status: "Ready",
    isShareable: false,
    createDate: now,
    lastOpDate: now,
    ...fields,
  };
}

/** Takes a volume off the VM it is attached to, leaving the dates to the caller. */
export function clearAttachment(volume: Volume): void {
  volume.vmInstanceUuid = undefined;
  volume.deviceId = undefined;
}

/** Bytes the volumes on `primaryStorage` take, Deleted ones included until expunged. */
function usedCapacity(state: SimState, primaryStorage: PrimaryStorage): number {
  let used = 0;
  for (const volume of state.volumes.values()) {
    if (volume.primaryStorageUuid === primaryStorage.uuid) used += volume.size;
  }
  return used;
}

/** Sets the `availableCapacity` of `primaryStorage` to what its volumes leave free. */
function refreshCapacity(state: SimState, primaryStorage: PrimaryStorage | undefined): void {
  if (!primaryStorage) return;
  primaryStorage.availableCapacity = primaryStorage.totalCapacity -
    usedCapacity(state, primaryStorage);
  primaryStorage.lastOpDate = new Date();
}

/** Fails as ZStack's allocator does unless `primaryStorage` has `bytes` free. */
function checkRoom(state: SimState, primaryStorage: PrimaryStorage, bytes: number): void {
  const available = primaryStorage.totalCapacity - usedCapacity(state, primaryStorage);
  if (bytes <= available) return;
  throw operationError(
    `primary storage[uuid:${primaryStorage.uuid}, name:${primaryStorage.name}] has not enough capacity: required ${bytes} bytes, available capacity ${available} bytes`,
  );
}

function diskSizeOf(state: SimState, request: DataVolumeRequest): number {
  let size = request.diskSize;
  if (request.diskOfferingUuid !== undefined) {
    const offering = state.diskOfferings.get(request.diskOfferingUuid);
    if (!offering) {
      throw resourceNotFound("diskOfferingUuid", request.diskOfferingUuid, "DiskOfferingVO");
    }
    size = offering.diskSize;
  }
  if (size === undefined) {
    throw invalidArgument("either diskOfferingUuid or diskSize must be set");
  }
  if (size <= 0) throw invalidArgument(`diskSize[${size}] must be positive`);
  return size;
}

/**
 * CreateDataVolume. The volume is recorded as soon as its uuid is claimed, so it can be
 * queried while the job runs: without a primary storage it is NotInstantiated (until its
 * first attach); with one it is Creating while it is instantiated there, then Ready.
 */
export async function createDataVolume(
  state: SimState,
  request: DataVolumeRequest,
): Promise<Volume> {
  if (request.name === undefined) {
    throw missingField("name", "org.zstack.header.volume.APICreateDataVolumeMsg");
  }
  const size = diskSizeOf(state, request);
  let primaryStorage: PrimaryStorage | undefined;
  if (request.primaryStorageUuid !== undefined) {
    primaryStorage = state.primaryStorages.get(request.primaryStorageUuid);
    if (!primaryStorage) {
      throw resourceNotFound("primaryStorageUuid", request.primaryStorageUuid, "PrimaryStorageVO");
    }
  }
  const uuid = state.claimUuid(request.resourceUuid);
  if (primaryStorage) checkRoom(state, primaryStorage, size);
  const volume = newVolume({
    uuid,
    name: request.name,
    description: request.description,
    primaryStorageUuid: primaryStorage?.uuid,
    diskOfferingUuid: request.diskOfferingUuid,
    installPath: primaryStorage ? dataVolumePath(primaryStorage, uuid) : undefined,
    type: "Data",
    size,
    status: primaryStorage ? "Creating" : "NotInstantiated",
  });
  state.volumes.set(uuid, volume);
  for (const tag of request.userTags) {
    createTag(state, { type: "User", resourceType: "VolumeVO", resourceUuid: uuid, tag });
  }
  if (!primaryStorage) return volume;
  refreshCapacity(state, primaryStorage);
  await state.pause("transition");
  volume.status = "Ready";
  volume.lastOpDate = new Date();
  return volume;
}

function checkAttachable(volume: Volume): void {
  const uuid = volume.uuid;
  if (volume.type !== "Data") {
    throw operationError(`the volume[uuid:${uuid}] is not a data volume, can not be attached`);
  }
  if (volume.state !== "Enabled") {
    throw operationError(
      `data volume[uuid:${uuid}] is not Enabled, current state is ${volume.state}`,
    );
  }
  if (volume.status !== "Ready" && volume.status !== "NotInstantiated") {
    throw operationError(
      `data volume[uuid:${uuid}] is not Ready or NotInstantiated, current status is ${volume.status}`,
    );
  }
  if (volume.vmInstanceUuid !== undefined) {
    throw operationError(
      `data volume[uuid:${uuid}] has been attached to vm[uuid:${volume.vmInstanceUuid}], can't attach again`,
    );
  }
}

function freeDeviceId(state: SimState, vmUuid: string): number {
  const used = new Set(
    [...state.volumes.values()].filter((v) => v.vmInstanceUuid === vmUuid).map((v) => v.deviceId),
  );
  let deviceId = 1;
  while (used.has(deviceId)) deviceId++;
  return deviceId;
}

/** AttachDataVolumeToVm; a NotInstantiated volume is created on the root volume's storage. */
export function attachVolume(
  state: SimState,
  request: { volumeUuid: string; vmUuid: string },
): Promise<Volume> {
  const { volumeUuid, vmUuid } = request;
  const volume = getVolume(state, volumeUuid, { field: "volumeUuid" });
  const vm = getVm(state, vmUuid, { field: "vmInstanceUuid" });
  return state.serial(vmUuid, async () => {
    checkState(vm, "AttachDataVolumeToVm");
    checkAttachable(volume);
    await state.pause("transition");
    const deviceId = freeDeviceId(state, vmUuid);
    if (volume.status === "NotInstantiated") {
      const root = state.volumes.get(vm.rootVolumeUuid);
      const ps = root?.primaryStorageUuid
        ? state.primaryStorages.get(root.primaryStorageUuid)
        : undefined;
      if (ps) checkRoom(state, ps, volume.size);
      volume.primaryStorageUuid = ps?.uuid;
      volume.installPath = dataVolumePath(ps, volume.uuid);
      volume.status = "Ready";
      refreshCapacity(state, ps);
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

/** DetachDataVolumeFromVm, from `vmUuid` or from the VM the volume is attached to. */
export function detachVolume(
  state: SimState,
  volumeUuid: string,
  options: { vmUuid?: string } = {},
): Promise<Volume> {
  const volume = getVolume(state, volumeUuid);
  const attachedTo = options.vmUuid ?? volume.vmInstanceUuid;
  if (attachedTo === undefined) {
    throw operationError(
      `data volume[uuid:${volumeUuid}] is not attached to any vm, can't detach`,
    );
  }
  return state.serial(attachedTo, async () => {
    if (volume.type !== "Data") {
      throw operationError(`can not detach root volume[uuid:${volumeUuid}]`);
    }
    if (volume.vmInstanceUuid !== attachedTo) {
      throw operationError(
        `data volume[uuid:${volumeUuid}] is not attached to vm[uuid:${attachedTo}]`,
      );
    }
    const vm = state.vms.get(attachedTo);
    if (vm) checkState(vm, "DetachDataVolumeFromVm");
    await state.pause("transition");
    const now = new Date();
    clearAttachment(volume);
    volume.lastDetachDate = now;
    volume.lastOpDate = now;
    return volume;
  });
}

/**
 * ResizeDataVolume: grows a data volume to `size` bytes (ZStack cannot shrink one), on a
 * VM that is Running, Stopped or Paused when it is attached, taking the extra room on its
 * primary storage.
 */
export function resizeDataVolume(
  state: SimState,
  uuid: string,
  options: { size?: number },
): Promise<Volume> {
  const volume = getVolume(state, uuid);
  const apiClass = "org.zstack.header.volume.APIResizeDataVolumeMsg";
  const { size } = options;
  if (size === undefined) throw missingField("size", apiClass);
  if (volume.type !== "Data") {
    throw operationError(`the volume[uuid:${uuid}] is not a data volume, can not resize it`);
  }
  if (size < volume.size) {
    throw invalidArgument(
      `the new size[${size}] of data volume[uuid:${uuid}] is smaller than its current size[${volume.size}], shrinking a volume is not supported`,
    );
  }
  return state.serial(volume.vmInstanceUuid ?? uuid, async () => {
    if (volume.state !== "Enabled" || !["Ready", "NotInstantiated"].includes(volume.status)) {
      throw operationError(
        `data volume[uuid:${uuid}] is not Enabled and Ready or NotInstantiated, current state is ${volume.state}, status is ${volume.status}`,
      );
    }
    const vm = volume.vmInstanceUuid ? state.vms.get(volume.vmInstanceUuid) : undefined;
    if (vm) checkState(vm, "ResizeDataVolume");
    const ps = volume.primaryStorageUuid
      ? state.primaryStorages.get(volume.primaryStorageUuid)
      : undefined;
    if (ps) checkRoom(state, ps, size - volume.size);
    await state.pause("transition");
    volume.size = size;
    volume.lastOpDate = new Date();
    refreshCapacity(state, ps);
    return volume;
  });
}

/** DeleteDataVolume under the Delay policy: detached and Deleted; a missing uuid succeeds. */
export function deleteVolume(state: SimState, uuid: string): void {
  const volume = state.volumes.get(uuid);
  if (!volume || volume.status === "Deleted") return;
  if (volume.type === "Root") throw operationError(`can not delete root volume[uuid:${uuid}]`);
  clearAttachment(volume);
  volume.status = "Deleted";
  volume.lastOpDate = new Date();
}

/** Removes a volume with its snapshots and tags, freeing its room on primary storage. */
export function removeVolume(state: SimState, uuid: string): void {
  const ps = state.primaryStorages.get(state.volumes.get(uuid)?.primaryStorageUuid ?? "");
  deleteSnapshotsOf(state, uuid);
  deleteTagsOf(state, uuid);
  state.volumes.delete(uuid);
  refreshCapacity(state, ps);
}

/** ExpungeDataVolume: removes a Deleted volume with its snapshots and tags. */
export function expungeVolume(state: SimState, uuid: string): void {
  const volume = getVolume(state, uuid);
  if (volume.status !== "Deleted") {
    throw operationError(`the volume[uuid:${uuid}] is not deleted yet, can't expunge it`);
  }
  removeVolume(state, uuid);
}

/** RecoverDataVolume: a Deleted volume comes back detached. */
export function recoverVolume(state: SimState, uuid: string): Volume {
  const volume = getVolume(state, uuid);
  if (volume.status !== "Deleted") {
    throw operationError(`the volume[uuid:${uuid}] is not deleted yet, can't recover it`);
  }
  volume.status = volume.primaryStorageUuid ? "Ready" : "NotInstantiated";
  volume.lastOpDate = new Date();
  return volume;
}

/** UpdateVolume: name and description. */
export function updateVolume(state: SimState, uuid: string, changes: NameChanges): Volume {
  const volume = getVolume(state, uuid);
  rename(volume, changes);
  return volume;
}

/** ChangeVolumeState: `stateEvent` is `enable` or `disable` (mandatory). */
export function changeVolumeState(
  state: SimState,
  uuid: string,
  options: { stateEvent?: string },
): Volume {
  const { stateEvent } = options;
  const volume = getVolume(state, uuid);
  const apiClass = "org.zstack.header.volume.APIChangeVolumeStateMsg";
  if (stateEvent === undefined) throw missingField("stateEvent", apiClass);
  if (stateEvent !== "enable" && stateEvent !== "disable") {
    throw invalidArgument(
      `valid value for field[stateEvent] of message[${apiClass}] are [enable, disable], but ${stateEvent} found`,
    );
  }
  volume.state = stateEvent === "enable" ? "Enabled" : "Disabled";
  volume.lastOpDate = new Date();
  return volume;
}
