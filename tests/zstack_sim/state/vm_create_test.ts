import { assert, assertEquals, assertRejects } from "../../_harness/assert.ts";
import { freshState, smallSeed, uuidNamed, vmRequest } from "../_state.ts";
import { ApiError } from "../errors.ts";
import { tagsOf } from "./tags.ts";
import { createVm } from "./vm_create.ts";

Deno.test("InstantStart ends Running on a host with a NIC, a root volume, data volumes and tags", async () => {
  const state = await freshState({ seed: smallSeed() });
  const vm = await createVm(
    state,
    vmRequest(state, {
      dataDiskOfferingUuids: [uuidNamed(state.diskOfferings, "d")],
      dataDiskSizes: [5],
      systemTags: ["hostname::web"],
      userTags: ["owner:a", "owner:a"],
    }),
  );
  assertEquals(vm.state, "Running");
  assert(vm.hostUuid !== undefined);
  assertEquals(vm.vmNics.map((nic) => nic.ip), ["10.0.0.2"]);
  assertEquals(vm.allVolumes.map((volume) => [volume.type, volume.deviceId, volume.size]), [
    ["Root", 0, 2 ** 30],
    ["Data", 1, 10 * 2 ** 30],
    ["Data", 2, 5],
  ]);
  assertEquals(vm.allVolumes[0].installPath?.startsWith("/zstack_ps/rootVolumes/"), true);
  assertEquals(tagsOf(state, vm.uuid), { user: ["owner:a"], system: ["hostname::web"] });
});

Deno.test("JustCreate takes no host but an IP; CreateStopped boots and ends Stopped with capacity back", async () => {
  const state = await freshState({ seed: smallSeed() });
  const created = await createVm(state, vmRequest(state, { strategy: "JustCreate" }));
  assertEquals([created.state, created.hostUuid, created.vmNics[0].ip], [
    "Created",
    undefined,
    "10.0.0.2",
  ]);
  const stopped = await createVm(state, vmRequest(state, { name: "b", strategy: "CreateStopped" }));
  assertEquals([stopped.state, stopped.hostUuid !== undefined], ["Stopped", false]);
  assertEquals(stopped.lastHostUuid !== undefined, true);
  const host = [...state.hosts.values()][0];
  assertEquals(host.availableCpuCapacity, host.totalCpuCapacity);
});

Deno.test("a static IP comes from the staticIp:: tag; a failed NIC leaves no NIC behind", async () => {
  const state = await freshState({ seed: smallSeed({ range: ["10.0.0.2", "10.0.0.2"] }) });
  const l3 = uuidNamed(state.l3Networks, "net");
  const vm = await createVm(state, vmRequest(state, { systemTags: [`staticIp::${l3}::10.0.0.2`] }));
  assertEquals(vm.vmNics[0].ip, "10.0.0.2");
  const nics = state.nics.size;
  await assertRejects(
    async () => await createVm(state, vmRequest(state, { name: "b" })),
    ApiError,
    "has no IP available",
  );
  assertEquals([state.nics.size, state.vms.size], [nics, 1]);
});
