import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { createdVm, freshState, smallSeed, uuidNamed } from "../_state.ts";
import { ApiError } from "../errors.ts";
import type { VmInstanceView } from "../inventory.ts";
import type { SimState } from "./store.ts";
import { tagsOf } from "./tags.ts";
import {
  changeInstanceOffering,
  destroyVm,
  expungeOverdue,
  expungeVm,
  forceVmState,
  ignoreGuestShutdown,
  migrateVm,
  pauseVm,
  recoverVm,
  resumeVm,
  startVm,
  stopVm,
  updateVm,
} from "./vm_actions.ts";

const GiB = 2 ** 30;

function runningVm(state: SimState): Promise<VmInstanceView> {
  return createdVm(state, { userTags: ["k:v"] });
}

function twoHostSeed() {
  return smallSeed({
    hosts: [{ cpuNum: 4, memorySize: 8 * GiB }, { cpuNum: 4, memorySize: 8 * GiB }],
  });
}

Deno.test("stop frees the host, start comes back to the last host, pause and resume keep it", async () => {
  const state = await freshState({ seed: twoHostSeed() });
  const vm = await runningVm(state);
  const stopped = await stopVm(state, vm.uuid);
  assertEquals([stopped.state, stopped.hostUuid, stopped.lastHostUuid], [
    "Stopped",
    undefined,
    vm.hostUuid,
  ]);
  const started = await startVm(state, vm.uuid);
  assertEquals([started.state, started.hostUuid], ["Running", vm.hostUuid]);
  assertEquals((await pauseVm(state, vm.uuid)).state, "Paused");
  assertEquals((await resumeVm(state, vm.uuid)).state, "Running");
  // Start of a Running VM is a no-op, whatever host it names; of a Stopped one, the host must exist.
  assertEquals((await startVm(state, vm.uuid, { hostUuid: "f".repeat(32) })).state, "Running");
  await stopVm(state, vm.uuid);
  await assertRejects(
    () => startVm(state, vm.uuid, { hostUuid: "f".repeat(32) }),
    ApiError,
    "HostVO",
  );
});

Deno.test("destroy keeps the VM Destroyed without host or IP; recover gives the IP back; expunge removes it", async () => {
  const state = await freshState({ seed: smallSeed() });
  const vm = await runningVm(state);
  await destroyVm(state, vm.uuid);
  const destroyed = state.vms.get(vm.uuid)!;
  assertEquals([destroyed.state, destroyed.hostUuid], ["Destroyed", undefined]);
  assertEquals(state.nics.get(vm.vmNics[0].uuid)?.ip, undefined);
  await destroyVm(state, vm.uuid);
  assertEquals((await recoverVm(state, vm.uuid)).vmNics[0].ip, "10.0.0.2");
  await destroyVm(state, vm.uuid);
  await expungeVm(state, vm.uuid);
  assertEquals([state.vms.has(vm.uuid), state.volumes.has(vm.rootVolumeUuid)], [false, false]);
  assertEquals(tagsOf(state, vm.uuid).user, []);
  await destroyVm(state, vm.uuid);
});

Deno.test("Destroyed VMs are expunged once vm/expungePeriod is over, not before", async () => {
  const state = await freshState({ seed: smallSeed(), timing: { vmExpungeSeconds: 60 } });
  const vm = await runningVm(state);
  await destroyVm(state, vm.uuid);
  expungeOverdue(state, Date.now() + 30_000);
  assertEquals(state.vms.has(vm.uuid), true);
  expungeOverdue(state, Date.now() + 61_000);
  assertEquals(state.vms.has(vm.uuid), false);
});

Deno.test("migration moves the VM and its capacity to the other host; the same host is refused", async () => {
  const state = await freshState({ seed: twoHostSeed() });
  const vm = await runningVm(state);
  await assertRejects(
    () => migrateVm(state, vm.uuid, { hostUuid: vm.hostUuid }),
    ApiError,
    "is already on host",
  );
  const moved = await migrateVm(state, vm.uuid);
  const [from, to] = [state.hosts.get(vm.hostUuid!)!, state.hosts.get(moved.hostUuid!)!];
  assertEquals(from.uuid === to.uuid, false);
  assertEquals([from.availableCpuCapacity, to.availableCpuCapacity], [4, 3]);
  assertEquals(moved.state, "Running");
});

Deno.test("update renames and resizes within the host; a new offering resizes too", async () => {
  const state = await freshState({ seed: smallSeed() });
  const vm = await runningVm(state);
  const updated = await updateVm(state, vm.uuid, { name: "renamed", cpuNum: 3 });
  assertEquals([updated.name, updated.cpuNum], ["renamed", 3]);
  await assertRejects(() => updateVm(state, vm.uuid, { cpuNum: 9 }), ApiError, "no host having");
  const offering = uuidNamed(state.instanceOfferings, "one");
  const changed = await changeInstanceOffering(state, vm.uuid, { instanceOfferingUuid: offering });
  assertEquals([changed.cpuNum, changed.memorySize, changed.instanceOfferingUuid], [
    1,
    GiB,
    offering,
  ]);
  await assertRejects(
    () => changeInstanceOffering(state, vm.uuid, { instanceOfferingUuid: "f".repeat(32) }),
    ApiError,
    "InstanceOfferingVO",
  );
});

Deno.test("a forced Crashed keeps the host; a forced Stopped releases it", async () => {
  const state = await freshState({ seed: smallSeed() });
  const vm = await runningVm(state);
  forceVmState(state, vm.uuid, { to: "Crashed" });
  assertEquals(state.vms.get(vm.uuid)?.hostUuid, vm.hostUuid);
  forceVmState(state, vm.uuid, { to: "Stopped" });
  assertEquals(state.vms.get(vm.uuid)?.hostUuid, undefined);
  assertEquals(state.hosts.get(vm.hostUuid!)?.availableCpuCapacity, 4);
});

Deno.test("a graceful stop waits out a guest that ignores it, then the power is cut; a cold stop does not wait", async () => {
  const state = await freshState({
    seed: smallSeed(),
    timing: { transitionMs: 5, guestShutdownTimeoutMs: 200 },
  });
  const vm = await runningVm(state);
  ignoreGuestShutdown(state, vm.uuid, true);
  let started = Date.now();
  assertEquals((await stopVm(state, vm.uuid, { type: "grace" })).state, "Stopped");
  assertEquals(Date.now() - started >= 190, true);
  await startVm(state, vm.uuid);
  started = Date.now();
  assertEquals((await stopVm(state, vm.uuid, { type: "cold" })).state, "Stopped");
  assertEquals(Date.now() - started < 150, true);
  ignoreGuestShutdown(state, vm.uuid, false);
  await startVm(state, vm.uuid);
  started = Date.now();
  assertEquals((await stopVm(state, vm.uuid)).state, "Stopped");
  assertEquals(Date.now() - started < 150, true);
});
