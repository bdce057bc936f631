import { assertEquals, assertRejects, assertThrows } from "../../_harness/assert.ts";
import { createdVm, freshState, smallSeed, uuidNamed } from "../_state.ts";
import { ApiError } from "../errors.ts";
import { createSnapshot } from "./snapshots.ts";
import type { SimState } from "./store.ts";
import { tagsOf } from "./tags.ts";
import {
  attachVolume,
  changeVolumeState,
  createDataVolume,
  deleteVolume,
  detachVolume,
  expungeVolume,
  recoverVolume,
  updateVolume,
} from "./volumes.ts";

async function vmUuid(state: SimState): Promise<string> {
  return (await createdVm(state)).uuid;
}

Deno.test("a data volume without storage is NotInstantiated until attached, then lives by the root volume", async () => {
  const state = await freshState({ seed: smallSeed() });
  const volume = createDataVolume(state, {
    name: "data",
    diskOfferingUuid: uuidNamed(state.diskOfferings, "d"),
    systemTags: [],
    userTags: ["app:db"],
  });
  assertEquals([volume.status, volume.installPath, volume.size], [
    "NotInstantiated",
    undefined,
    10 * 2 ** 30,
  ]);
  assertEquals(tagsOf(state, volume.uuid).user, ["app:db"]);
  const vm = await vmUuid(state);
  const attached = await attachVolume(state, { volumeUuid: volume.uuid, vmUuid: vm });
  assertEquals([attached.status, attached.deviceId, attached.vmInstanceUuid], ["Ready", 1, vm]);
  assertEquals(
    attached.installPath,
    `/zstack_ps/dataVolumes/vol-${volume.uuid}/${volume.uuid}.qcow2`,
  );
  await assertRejects(
    () => attachVolume(state, { volumeUuid: volume.uuid, vmUuid: vm }),
    ApiError,
    "can't attach again",
  );
  const detached = await detachVolume(state, volume.uuid);
  assertEquals([detached.vmInstanceUuid, detached.deviceId, detached.lastVmInstanceUuid], [
    undefined,
    undefined,
    vm,
  ]);
  assertThrows(() => detachVolume(state, volume.uuid), ApiError, "is not attached to any vm");
});

Deno.test("a size is needed and must be positive; a named primary storage must exist", async () => {
  const state = await freshState({ seed: smallSeed() });
  const base = { name: "v", systemTags: [], userTags: [] };
  assertThrows(
    () => createDataVolume(state, base),
    ApiError,
    "either diskOfferingUuid or diskSize",
  );
  assertThrows(
    () => createDataVolume(state, { ...base, diskSize: 0 }),
    ApiError,
    "must be positive",
  );
  assertThrows(
    () => createDataVolume(state, { ...base, diskSize: 1, primaryStorageUuid: "f".repeat(32) }),
    ApiError,
    "PrimaryStorageVO",
  );
  const ps = uuidNamed(state.primaryStorages, "ps");
  const ready = createDataVolume(state, { ...base, diskSize: 1, primaryStorageUuid: ps });
  assertEquals([ready.status, ready.primaryStorageUuid], ["Ready", ps]);
});

Deno.test("delete is Delay: Deleted, recoverable; expunge removes it with snapshots; a root volume stays", async () => {
  const state = await freshState({ seed: smallSeed() });
  const ps = uuidNamed(state.primaryStorages, "ps");
  const volume = createDataVolume(state, {
    name: "v",
    diskSize: 1,
    primaryStorageUuid: ps,
    systemTags: [],
    userTags: [],
  });
  await createSnapshot(state, volume.uuid, { name: "s" });
  assertThrows(() => expungeVolume(state, volume.uuid), ApiError, "is not deleted yet");
  deleteVolume(state, volume.uuid);
  assertEquals(volume.status, "Deleted");
  assertEquals(recoverVolume(state, volume.uuid).status, "Ready");
  deleteVolume(state, volume.uuid);
  expungeVolume(state, volume.uuid);
  assertEquals([state.volumes.has(volume.uuid), state.snapshots.size], [false, 0]);
  deleteVolume(state, volume.uuid);
  const root = state.vms.get(await vmUuid(state))!.rootVolumeUuid;
  assertThrows(() => deleteVolume(state, root), ApiError, "can not delete root volume");
});

Deno.test("update renames; the state event must be given and be enable or disable", async () => {
  const state = await freshState({ seed: smallSeed() });
  const volume = createDataVolume(state, { name: "v", diskSize: 1, systemTags: [], userTags: [] });
  assertEquals(updateVolume(state, volume.uuid, { description: "d" }).description, "d");
  assertEquals(volume.name, "v");
  assertEquals(changeVolumeState(state, volume.uuid, { stateEvent: "disable" }).state, "Disabled");
  assertThrows(() => changeVolumeState(state, volume.uuid, {}), ApiError, "field[stateEvent]");
  assertThrows(
    () => changeVolumeState(state, volume.uuid, { stateEvent: "off" }),
    ApiError,
    "but off found",
  );
  assertThrows(() => changeVolumeState(state, "f".repeat(32), {}), ApiError, "VolumeVO");
});
