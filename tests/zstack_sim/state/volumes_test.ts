import { assertEquals, assertRejects, assertThrows } from "../../_harness/assert.ts";
import { createdVm, freshState, smallSeed, uuidNamed } from "../_state.ts";
import { ApiError } from "../errors.ts";
import { createSnapshot } from "./snapshots.ts";
import type { SimState } from "./store.ts";
import { tagsOf } from "./tags.ts";
import { destroyVm, expungeVm, stopVm } from "./vm_actions.ts";
import {
  attachVolume,
  changeVolumeState,
  createDataVolume,
  deleteVolume,
  detachVolume,
  expungeVolume,
  recoverVolume,
  resizeDataVolume,
  updateVolume,
} from "./volumes.ts";

const GiB = 2 ** 30;

async function vmUuid(state: SimState): Promise<string> {
  return (await createdVm(state)).uuid;
}

/** A data volume of `size` bytes on the seed's primary storage. */
async function storedVolume(state: SimState, size = GiB) {
  return await createDataVolume(state, {
    name: "v",
    diskSize: size,
    primaryStorageUuid: uuidNamed(state.primaryStorages, "ps"),
    systemTags: [],
    userTags: [],
  });
}

Deno.test("a data volume without storage is NotInstantiated until attached, then lives by the root volume", async () => {
  const state = await freshState({ seed: smallSeed() });
  const volume = await createDataVolume(state, {
    name: "data",
    diskOfferingUuid: uuidNamed(state.diskOfferings, "d"),
    systemTags: [],
    userTags: ["app:db"],
  });
  assertEquals([volume.status, volume.installPath, volume.size], [
    "NotInstantiated",
    undefined,
    10 * GiB,
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
  await assertRejects(
    () => createDataVolume(state, base),
    ApiError,
    "either diskOfferingUuid or diskSize",
  );
  await assertRejects(
    () => createDataVolume(state, { ...base, diskSize: 0 }),
    ApiError,
    "must be positive",
  );
  await assertRejects(
    () => createDataVolume(state, { ...base, diskSize: 1, primaryStorageUuid: "f".repeat(32) }),
    ApiError,
    "PrimaryStorageVO",
  );
  const ps = uuidNamed(state.primaryStorages, "ps");
  const ready = await createDataVolume(state, { ...base, diskSize: 1, primaryStorageUuid: ps });
  assertEquals([ready.status, ready.primaryStorageUuid], ["Ready", ps]);
});

Deno.test("a volume on a primary storage is queryable as Creating while its job runs, under the resourceUuid it claimed", async () => {
  const state = await freshState({ seed: smallSeed(), timing: { transitionMs: 50 } });
  const resourceUuid = "0123456789ab4def8123456789abcdef";
  const creating = storedVolumeWithUuid(state, resourceUuid);
  assertEquals(state.volumes.get(resourceUuid)?.status, "Creating");
  await assertRejects(
    () => storedVolumeWithUuid(state, resourceUuid),
    ApiError,
    "Duplicate entry",
  );
  assertEquals((await creating).status, "Ready");
  assertEquals(state.volumes.size, 1);
});

function storedVolumeWithUuid(state: SimState, resourceUuid: string) {
  return createDataVolume(state, {
    name: "v",
    diskSize: GiB,
    primaryStorageUuid: uuidNamed(state.primaryStorages, "ps"),
    resourceUuid,
    systemTags: [],
    userTags: [],
  });
}

Deno.test("data volumes take room on their primary storage until expunged; a full one refuses them naming the capacity", async () => {
  const seed = {
    ...smallSeed(),
    primaryStorages: [{ name: "ps", zone: "z", totalCapacity: "3Gi" }],
  };
  const state = await freshState({ seed });
  const ps = state.primaryStorages.get(uuidNamed(state.primaryStorages, "ps"))!;
  const first = await storedVolume(state, 2 * GiB);
  assertEquals(ps.availableCapacity, GiB);
  await assertRejects(() => storedVolume(state, 2 * GiB), ApiError, "has not enough capacity");
  assertEquals(state.volumes.size, 1);
  await assertRejects(
    () => resizeDataVolume(state, first.uuid, { size: 4 * GiB }),
    ApiError,
    "required 2147483648 bytes, available capacity 1073741824 bytes",
  );
  deleteVolume(state, first.uuid);
  assertEquals(ps.availableCapacity, GiB, "a Deleted volume still takes its room");
  expungeVolume(state, first.uuid);
  assertEquals(ps.availableCapacity, 3 * GiB);
});

Deno.test("resize grows a data volume, attached to a running or stopped VM or not, and never shrinks it", async () => {
  const state = await freshState({ seed: smallSeed() });
  const volume = await storedVolume(state);
  assertEquals((await resizeDataVolume(state, volume.uuid, { size: 2 * GiB })).size, 2 * GiB);
  assertThrows(
    () => resizeDataVolume(state, volume.uuid, { size: GiB }),
    ApiError,
    "shrinking a volume is not supported",
  );
  assertThrows(() => resizeDataVolume(state, volume.uuid, {}), ApiError, "field[size]");
  const vm = await vmUuid(state);
  await attachVolume(state, { volumeUuid: volume.uuid, vmUuid: vm });
  assertEquals((await resizeDataVolume(state, volume.uuid, { size: 3 * GiB })).size, 3 * GiB);
  await stopVm(state, vm);
  assertEquals((await resizeDataVolume(state, volume.uuid, { size: 4 * GiB })).size, 4 * GiB);
  const root = state.vms.get(vm)!.rootVolumeUuid;
  assertThrows(
    () => resizeDataVolume(state, root, { size: 100 * GiB }),
    ApiError,
    "is not a data volume",
  );
});

Deno.test("a volume attaches to a Stopped VM and detaches from it; a Destroyed VM takes neither", async () => {
  const state = await freshState({ seed: smallSeed() });
  const vm = await vmUuid(state);
  await stopVm(state, vm);
  const volume = await storedVolume(state);
  assertEquals(
    (await attachVolume(state, { volumeUuid: volume.uuid, vmUuid: vm })).vmInstanceUuid,
    vm,
  );
  assertEquals((await detachVolume(state, volume.uuid, { vmUuid: vm })).vmInstanceUuid, undefined);
  await destroyVm(state, vm);
  await assertRejects(
    () => attachVolume(state, { volumeUuid: volume.uuid, vmUuid: vm }),
    ApiError,
    "current vm instance state[Destroyed]",
  );
});

Deno.test("destroying a VM detaches its data volumes; under dataVolume.deleteOnVmDestroy it deletes them", async () => {
  for (const deleteOnDestroy of [false, true]) {
    const state = await freshState({ seed: smallSeed() });
    state.globalConfig.dataVolumeDeleteOnVmDestroy = deleteOnDestroy;
    const vm = await vmUuid(state);
    const volume = await storedVolume(state);
    await attachVolume(state, { volumeUuid: volume.uuid, vmUuid: vm });
    await destroyVm(state, vm);
    await expungeVm(state, vm);
    assertEquals(
      [volume.vmInstanceUuid, volume.status, state.volumes.has(volume.uuid)],
      [undefined, deleteOnDestroy ? "Deleted" : "Ready", true],
      `deleteOnVmDestroy ${deleteOnDestroy}`,
    );
  }
});

Deno.test("delete is Delay: Deleted, recoverable; expunge removes it with snapshots; a root volume stays", async () => {
  const state = await freshState({ seed: smallSeed() });
  const volume = await storedVolume(state, 1);
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
  const volume = await createDataVolume(state, {
    name: "v",
    diskSize: 1,
    systemTags: [],
    userTags: [],
  });
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
