import { assertEquals } from "../../_harness/assert.ts";
import { withSim } from "../_client.ts";

Deno.test("the console address is the host's IP and a VNC port counting the VMs on it", async () => {
  await withSim(async (client, sim) => {
    const hosts = sim.hosts();
    const first = (await client.createVm("a", { hostUuid: hosts[0].uuid })).body.inventory;
    const second = (await client.createVm("b", { hostUuid: hosts[0].uuid })).body.inventory;
    const answer = await client.get(`/v1/vm-instances/${second.uuid}/console-addresses`);
    assertEquals([answer.body.hostIp, answer.body.port, answer.body.protocol], [
      hosts[0].managementIp,
      5901,
      "vnc",
    ]);
    await client.action(first.uuid, "stopVmInstance");
    const stopped = await client.get(`/v1/vm-instances/${first.uuid}/console-addresses`);
    assertEquals(stopped.body.error.cause.code, "VM.1010");
  });
});

Deno.test("migration targets are the cluster's other hosts; a bad deleteMode or stop type is SYS.1007", async () => {
  await withSim(async (client, sim) => {
    const vm = (await client.createVm("m")).body.inventory;
    const targets = await client.get(`/v1/vm-instances/${vm.uuid}/migration-target-hosts`);
    assertEquals(
      targets.body.inventories.map((host: { uuid: string }) => host.uuid),
      sim.hosts().filter((host) => host.uuid !== vm.hostUuid).map((host) => host.uuid),
    );
    const stop = await client.action(vm.uuid, "stopVmInstance", { type: "hard" });
    assertEquals(stop.body.error.code, "SYS.1007");
    const destroy = await client.call("DELETE", `/v1/vm-instances/${vm.uuid}?deleteMode=Soon`);
    assertEquals(
      destroy.body.error.details,
      "valid value for field[deleteMode] are [Permissive, Enforcing], but Soon found",
    );
    const missing = await client.get(`/v1/vm-instances/${"f".repeat(32)}/migration-target-hosts`);
    assertEquals(missing.body.error.details.includes("invalid field[vmInstanceUuid]"), true);
  });
});

Deno.test("NICs are queryable joined to their VM and L3 network; update and offering change resize", async () => {
  await withSim(async (client) => {
    const vm = (await client.createVm("n")).body.inventory;
    const [nic] = await client.query(
      "/v1/vm-instances/nics",
      "vmInstance.name=n",
      "l3Network.name=l3-default",
    );
    assertEquals(nic.uuid, vm.vmNics[0].uuid);
    const [joined] = await client.query(
      "/v1/vm-instances",
      "image.name=cirros",
      "rootVolume.type=Root",
    );
    assertEquals(joined.uuid, vm.uuid);
    const updated = await client.action(vm.uuid, "updateVmInstance", { name: "n2", cpuNum: 2 });
    assertEquals([updated.body.inventory.name, updated.body.inventory.cpuNum], ["n2", 2]);
    const tooMany = await client.action(vm.uuid, "updateVmInstance", { cpuNum: 2000 });
    assertEquals(tooMany.body.error.code, "SYS.1007");
    const medium = await client.uuidOf("/v1/instance-offerings", "medium");
    const changed = await client.action(vm.uuid, "changeInstanceOffering", {
      instanceOfferingUuid: medium,
    });
    assertEquals([changed.body.inventory.cpuNum, changed.body.inventory.instanceOfferingUuid], [
      2,
      medium,
    ]);
    const none = await client.action(vm.uuid, "changeInstanceOffering", {});
    assertEquals(none.body.error.code, "SYS.1007");
  });
});
