/**
 * Volume snapshots: the snapshot tree of each volume (the latest one is the parent of
 * the next; deleting one deletes its descendants), and what CreateVolumeSnapshot,
 * RevertVolumeFromSnapshot, UpdateVolumeSnapshot and DeleteVolumeSnapshot do to the
 * inventory.
 *
 * @module
 */

import { missingField, operationError } from "../errors.ts";
import { newUuid, type VolumeSnapshot } from "../inventory.ts";
import { getSnapshot, getVolume } from "./lookup.ts";
import { type NameChanges, rename } from "./rename.ts";
import type { SimState } from "./store.ts";
import { deleteTagsOf } from "./tags.ts";

/** What CreateVolumeSnapshot asks for. */
export interface SnapshotRequest {
  name?: string;
  description?: string;
  resourceUuid?: string;
}

/**
 * CreateVolumeSnapshot: the volume must be Ready and Enabled. The snapshot is recorded
 * with status Creating as soon as its uuid is claimed, so it can be queried while the
 * job runs, and becomes Ready (and the latest of its tree) when the job ends.
 */
export function createSnapshot(
  state: SimState,
  volumeUuid: string,
  request: SnapshotRequest,
): Promise<VolumeSnapshot> {
  const volume = getVolume(state, volumeUuid, { field: "volumeUuid" });
  return state.serial(volume.vmInstanceUuid ?? volumeUuid, async () => {
    if (request.name === undefined) {
      throw missingField("name", "org.zstack.header.storage.snapshot.APICreateVolumeSnapshotMsg");
    }
    if (volume.status !== "Ready" || volume.state !== "Enabled") {
      throw operationError(
        `volume[uuid:${volumeUuid}] is not in state Enabled or status Ready, current state is ${volume.state}, status is ${volume.status}`,
      );
    }
    const uuid = state.claimUuid(request.resourceUuid);
    const siblings = [...state.snapshots.values()].filter((s) => s.volumeUuid === volumeUuid);
    const latest = siblings.find((s) => s.latest);
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
      latest: false,
      size: 0,
      distance: (latest?.distance ?? -1) + 1,
      state: "Enabled",
      status: "Creating",
      backupStorageRefs: [],
      createDate: now,
      lastOpDate: now,
    };
    state.snapshots.set(uuid, snapshot);
    await state.pause("transition");
    for (const sibling of siblings) sibling.latest = false;
    snapshot.latest = true;
    snapshot.size = volume.actualSize;
    snapshot.status = "Ready";
    snapshot.lastOpDate = new Date();
    return snapshot;
  });
}

/** RevertVolumeFromSnapshot: every VM the volume is attached to must be Stopped. */
export function revertSnapshot(state: SimState, uuid: string): Promise<void> {
  const snapshot = getSnapshot(state, uuid);
  const volume = getVolume(state, snapshot.volumeUuid);
  return state.serial(volume.vmInstanceUuid ?? volume.uuid, async () => {
    const vm = volume.vmInstanceUuid ? state.vms.get(volume.vmInstanceUuid) : undefined;
    if (vm && vm.state !== "Stopped") {
      throw operationError(
        `unable to revert volume[uuid:${volume.uuid}] to snapshot[uuid:${uuid}], the vm[uuid:${vm.uuid}] volume attached to is not in Stopped state, current state is ${vm.state}`,
      );
    }
    await state.pause("transition");
    volume.lastOpDate = new Date();
  });
}

/** UpdateVolumeSnapshot. */
export function updateSnapshot(
  state: SimState,
  uuid: string,
  changes: NameChanges,
): VolumeSnapshot {
  const snapshot = getSnapshot(state, uuid);
  rename(snapshot, changes);
  return snapshot;
}

/** DeleteVolumeSnapshot with its descendants; a missing uuid succeeds. */
export function deleteSnapshot(state: SimState, uuid: string): void {
  const snapshot = state.snapshots.get(uuid);
  if (!snapshot) return;
  const doomed = new Set([uuid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const other of state.snapshots.values()) {
      if (other.parentUuid && doomed.has(other.parentUuid) && !doomed.has(other.uuid)) {
        doomed.add(other.uuid);
        grew = true;
      }
    }
  }
  for (const doomedUuid of doomed) {
    state.snapshots.delete(doomedUuid);
    deleteTagsOf(state, doomedUuid);
  }
  if (snapshot.latest && snapshot.parentUuid) {
    const parent = state.snapshots.get(snapshot.parentUuid);
    if (parent) parent.latest = true;
  }
}

/** Removes every snapshot of a volume, as expunging the volume does. */
export function deleteSnapshotsOf(state: SimState, volumeUuid: string): void {
  for (const [uuid, snapshot] of state.snapshots) {
    if (snapshot.volumeUuid === volumeUuid) state.snapshots.delete(uuid);
  }
}
