/**
 * Finding the resources the APIs act on: a VM, volume or snapshot by uuid, or SYS.1003
 * naming the API field that held the uuid, and a VM as QueryVmInstance shows it.
 *
 * @module
 */

import { resourceNotFound } from "../errors.ts";
import type { VmInstance, VmInstanceView, Volume, VolumeSnapshot } from "../inventory.ts";
import type { SimState } from "./store.ts";

/** Which API field held the uuid looked up, for the SYS.1003 (default `uuid`). */
export interface LookupOptions {
  field?: string;
}

/** The VM with `uuid`, or SYS.1003 naming the field. */
export function getVm(state: SimState, uuid: string, options: LookupOptions = {}): VmInstance {
  const field = options.field ?? "uuid";
  const vm = state.vms.get(uuid);
  if (!vm) throw resourceNotFound(field, uuid, "VmInstanceVO");
  return vm;
}

/** The volume with `uuid`, or SYS.1003 naming the field. */
export function getVolume(state: SimState, uuid: string, options: LookupOptions = {}): Volume {
  const field = options.field ?? "uuid";
  const volume = state.volumes.get(uuid);
  if (!volume) throw resourceNotFound(field, uuid, "VolumeVO");
  return volume;
}

/** The snapshot with `uuid`, or SYS.1003. */
export function getSnapshot(state: SimState, uuid: string): VolumeSnapshot {
  const snapshot = state.snapshots.get(uuid);
  if (!snapshot) throw resourceNotFound("uuid", uuid, "VolumeSnapshotVO");
  return snapshot;
}

/** The VM as QueryVmInstance returns it, with NICs and volumes. */
export function vmView(state: SimState, vm: VmInstance): VmInstanceView {
  const vmNics = [...state.nics.values()]
    .filter((nic) => nic.vmInstanceUuid === vm.uuid)
    .sort((a, b) => a.deviceId - b.deviceId);
  const allVolumes = [...state.volumes.values()]
    .filter((volume) => volume.vmInstanceUuid === vm.uuid)
    .sort((a, b) => (a.deviceId ?? 0) - (b.deviceId ?? 0));
  return { ...vm, vmNics, allVolumes, vmCdRoms: [] };
}
