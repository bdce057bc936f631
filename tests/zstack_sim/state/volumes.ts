/**
 * Volumes: root and data volumes with their install paths on primary storage, and what
 * CreateDataVolume, AttachDataVolumeToVm, DetachDataVolumeFromVm, DeleteDataVolume (Delay
 * policy), ExpungeDataVolume, RecoverDataVolume, UpdateVolume and ChangeVolumeState do.
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

/** CreateDataVolume: NotInstantiated until attached unless a primary storage is given. */
export function createDataVolume(state: SimState, request: DataVolumeRequest): Volume {
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
  const volume = newVolume({
    uuid,
    name: request.name,
    description: request.description,
    primaryStorageUuid: primaryStorage?.uuid,
    diskOfferingUuid: request.diskOfferingUuid,
    installPath: primaryStorage ? dataVolumePath(primaryStorage, uuid) : undefined,
    type: "Data",
    size,
    status: primaryStorage ? "Ready" : "NotInstantiated",
  });
  state.volumes.set(uuid, volume);
  for (const tag of request.userTags) {
    createTag(state, { type: "User", resourceType: "VolumeVO", resourceUuid: uuid, tag });
  }
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
      volume.primaryStorageUuid = ps?.uuid;
      volume.installPath = dataVolumePath(ps, volume.uuid);
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

/** DeleteDataVolume under the Delay policy: detached and Deleted; a missing uuid succeeds. */
export function deleteVolume(state: SimState, uuid: string): void {
  const volume = state.volumes.get(uuid);
  if (!volume || volume.status === "Deleted") return;
  if (volume.type === "Root") throw operationError(`can not delete root volume[uuid:${uuid}]`);
  clearAttachment(volume);
  volume.status = "Deleted";
  volume.lastOpDate = new Date();
}

/** Removes a volume with its snapshots and tags. */
export function removeVolume(state: SimState, uuid: string): void {
  deleteSnapshotsOf(state, uuid);
  deleteTagsOf(state, uuid);
  state.volumes.delete(uuid);
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
