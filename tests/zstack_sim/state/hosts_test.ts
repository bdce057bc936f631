import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { freshState, smallSeed, vmRecord } from "../_state.ts";
import { ApiError } from "../errors.ts";
import type { Host, VmInstance } from "../inventory.ts";
import {
  allocateHost,
  capacityOf,
  fits,
  hostsFor,
  migrationTargets,
  placeOnHost,
  release,
  reserve,
  resize,
} from "./hosts.ts";

const GiB = 2 ** 30;

async function twoHosts(): Promise<
  { hosts: Host[]; state: Awaited<ReturnType<typeof freshState>> }
> {
  const state = await freshState({
    seed: smallSeed({
      hosts: [{ cpuNum: 4, memorySize: 8 * GiB }, { cpuNum: 4, memorySize: 16 * GiB }],
    }),
  });
  return { state, hosts: [...state.hosts.values()] };
}

function vmWith(demand: { cpuNum: number; memorySize: number }): VmInstance {
  return vmRecord(demand);
}

Deno.test("the allocator picks the host with the most free memory, or the preferred one that fits", async () => {
  const { hosts } = await twoHosts();
  const [small, large] = hosts;
  const demand = { cpuNum: 1, memorySize: GiB };
  assertEquals(allocateHost(hosts, demand).uuid, large.uuid);
  assertEquals(allocateHost(hosts, demand, { preferred: small.uuid }).uuid, small.uuid);
  const tooBig = { cpuNum: 1, memorySize: 12 * GiB };
  assertEquals(allocateHost(hosts, tooBig, { preferred: small.uuid }).uuid, large.uuid);
  const none = assertThrows(() => allocateHost(hosts, { cpuNum: 8, memorySize: GiB }), ApiError);
  assertEquals(none.error.details, `no host having cpu[8], memory[${GiB} bytes] found`);
});

Deno.test("a disabled or disconnected host takes no VM", async () => {
  const { hosts } = await twoHosts();
  const demand = { cpuNum: 1, memorySize: GiB };
  hosts[0].state = "Disabled";
  hosts[1].status = "Disconnected";
  assertEquals(hosts.map((host) => fits(host, demand)), [false, false]);
});

Deno.test("placing reserves capacity, release gives it back (never above the total)", async () => {
  const { state, hosts } = await twoHosts();
  const vm = vmWith({ cpuNum: 2, memorySize: 2 * GiB });
  placeOnHost(vm, hosts[0]);
  assertEquals([hosts[0].availableCpuCapacity, hosts[0].availableMemoryCapacity], [2, 6 * GiB]);
  assertEquals([vm.hostUuid, vm.lastHostUuid, vm.clusterUuid], [
    hosts[0].uuid,
    hosts[0].uuid,
    hosts[0].clusterUuid,
  ]);
  reserve(hosts[0], { cpuNum: -4, memorySize: 0 });
  release(state, vm);
  assertEquals([hosts[0].availableCpuCapacity, vm.hostUuid, vm.lastHostUuid], [
    4,
    undefined,
    hosts[0].uuid,
  ]);
});

Deno.test("resize takes the difference from the host and refuses what does not fit", async () => {
  const { state, hosts } = await twoHosts();
  const vm = vmWith({ cpuNum: 1, memorySize: GiB });
  placeOnHost(vm, hosts[0]);
  resize(state, vm, { cpuNum: 3, memorySize: 4 * GiB });
  assertEquals([hosts[0].availableCpuCapacity, hosts[0].availableMemoryCapacity], [1, 4 * GiB]);
  assertThrows(() => resize(state, vm, { cpuNum: 5, memorySize: GiB }), ApiError, "no host having");
  assertEquals([vm.cpuNum, vm.memorySize], [3, 4 * GiB]);
});

Deno.test("placement narrows by zone, cluster and host; migration targets are the others with room", async () => {
  const { state, hosts } = await twoHosts();
  const zoneUuid = hosts[0].zoneUuid;
  assertEquals(hostsFor(state, { zoneUuid }).length, 2);
  assertEquals(hostsFor(state, { zoneUuid, hostUuid: hosts[1].uuid }), [hosts[1]]);
  assertEquals(hostsFor(state, { zoneUuid, clusterUuid: "elsewhere" }), []);
  const vm = vmWith({ cpuNum: 1, memorySize: 10 * GiB });
  placeOnHost(vm, hosts[1]);
  assertEquals(migrationTargets(state, vm), []);
  vm.memorySize = GiB;
  assertEquals(migrationTargets(state, vm), [hosts[0]]);
});

Deno.test("capacity sums add up the hosts given", async () => {
  const { hosts } = await twoHosts();
  assertEquals(capacityOf(hosts), {
    totalCpu: 8,
    availableCpu: 8,
    totalMemory: 24 * GiB,
    availableMemory: 24 * GiB,
    managedCpuNum: 8,
  });
});
