import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { createdVm, freshState, smallSeed } from "../_state.ts";
import { ApiError } from "../errors.ts";
import { getSnapshot, getVm, getVolume, vmView } from "./lookup.ts";

Deno.test("an unknown uuid is SYS.1003 naming the API field that held it", async () => {
  const state = await freshState();
  const uuid = "f".repeat(32);
  const vm = assertThrows(() => getVm(state, uuid, { field: "vmInstanceUuid" }), ApiError);
  assertEquals(
    vm.error.details,
    `invalid field[vmInstanceUuid], resource[uuid:${uuid}, type:VmInstanceVO] not found`,
  );
  assertThrows(() => getVolume(state, uuid), ApiError, "invalid field[uuid]");
  assertThrows(() => getSnapshot(state, uuid), ApiError, "VolumeSnapshotVO");
});

Deno.test("a VM's view lists its NICs and volumes by device id", async () => {
  const state = await freshState({ seed: smallSeed() });
  const created = await createdVm(state, { dataDiskSizes: [1, 2] });
  const view = vmView(state, getVm(state, created.uuid));
  assertEquals(view.allVolumes.map((volume) => volume.deviceId), [0, 1, 2]);
  assertEquals(view.vmNics.map((nic) => nic.deviceId), [0]);
  assertEquals(view.vmCdRoms, []);
});
