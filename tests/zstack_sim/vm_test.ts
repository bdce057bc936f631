import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "../_harness/assert.ts";
import { delay, withSim } from "./_client.ts";

const GiB = 2 ** 30;

Deno.test("CreateVmInstance boots Starting -> Running after vmBootMs, on a host, with an IP from l3-default", async () => {
  await withSim(async (client, sim) => {
    const [l3] = await client.query("/v1/l3-networks", "name=l3-default");
    const accepted = await client.raw("POST", "/v1/vm-instances", {
      body: {
        params: {
          name: "vm1",
          imageUuid: await client.uuidOf("/v1/images", "cirros"),
          instanceOfferingUuid: await client.uuidOf("/v1/instance-offerings", "small"),
          l3NetworkUuids: [l3.uuid],
        },
        systemTags: ["userdata::I2Nsb3VkLWNvbmZpZwo=", "hostname::node-1"],
        userTags: ["k8s-agent:cluster-a"],
      },
    });
    assertEquals(accepted.status, 202);
    await delay(50);
    const [starting] = await client.query("/v1/vm-instances", "name=vm1");
    assertEquals(starting.state, "Starting");
    const done = await client.poll(accepted.body.location);
    assertEquals(done.status, 200);
    const vm = done.body.inventory;
    assertEquals(vm.state, "Running");
    assertEquals([vm.cpuNum, vm.memorySize, vm.type, vm.hypervisorType], [1, GiB, "UserVm", "KVM"]);
    assert(sim.hosts().some((host) => host.uuid === vm.hostUuid));
    assertEquals(vm.vmNics.length, 1);
    assertEquals(vm.vmNics[0].ip, "192.168.100.10");
    assertEquals(vm.vmNics[0].l3NetworkUuid, l3.uuid);
    assertEquals(vm.vmNics[0].gateway, "192.168.100.1");
    assertMatch(vm.vmNics[0].mac, /^fa(:[0-9a-f]{2}){5}$/);
    assertEquals(vm.allVolumes.map((volume: { type: string }) => volume.type), ["Root"]);
    assertEquals(vm.defaultL3NetworkUuid, l3.uuid);
    const systemTags = await client.query("/v1/system-tags", `resourceUuid=${vm.uuid}`);
    assertEquals(systemTags.map((tag) => tag.tag).sort(), [
      "hostname::node-1",
      "userdata::I2Nsb3VkLWNvbmZpZwo=",
    ]);
    const second = await client.createVm("vm2");
    assertEquals(second.body.inventory.vmNics[0].ip, "192.168.100.11");
  }, { vmBootMs: 200 });
});

Deno.test("a resourceUuid makes create idempotent: the repeat fails and no second VM appears", async () => {
  await withSim(async (client, sim) => {
    const resourceUuid = "aaaaaaaabbbbccccddddeeeeeeeeeeee";
    const first = await client.createVm("idem", { resourceUuid });
    assertEquals(first.status, 200);
    assertEquals(first.body.inventory.uuid, resourceUuid);
    const repeat = await client.createVm("idem", { resourceUuid });
    assertEquals(repeat.status, 503);
    assertStringIncludes(repeat.body.error.details, "Duplicate entry");
    assertEquals(sim.vms().length, 1);
    const invalid = await client.createVm("bad", { resourceUuid: "not-a-uuid" });
    assertEquals(invalid.body.error.code, "SYS.1007");
  });
});

Deno.test("start on Running and stop on Stopped are no-ops returning the inventory", async () => {
  await withSim(async (client) => {
    const vm = (await client.createVm("noop")).body.inventory;
    const started = await client.action(vm.uuid, "startVmInstance");
    assertEquals([started.status, started.body.inventory.state], [200, "Running"]);
    const stopped = await client.action(vm.uuid, "stopVmInstance", { type: "cold" });
    assertEquals(stopped.body.inventory.state, "Stopped");
    assertEquals(stopped.body.inventory.hostUuid, undefined);
    assertEquals(stopped.body.inventory.lastHostUuid, vm.hostUuid);
    const again = await client.action(vm.uuid, "stopVmInstance");
    assertEquals([again.status, again.body.inventory.state], [200, "Stopped"]);
    const restarted = await client.action(vm.uuid, "startVmInstance");
    assertEquals(restarted.body.inventory.state, "Running");
  });
});

Deno.test("an action the state does not allow is SYS.1006 caused by VM.1010", async () => {
  await withSim(async (client) => {
    const vm = (await client.createVm("wrong-state")).body.inventory;
    await client.action(vm.uuid, "stopVmInstance");
    const paused = await client.action(vm.uuid, "pauseVmInstance");
    assertEquals(paused.status, 503);
    const error = paused.body.error;
    assertEquals([error.code, error.description], ["SYS.1006", "An operation failed"]);
    assertEquals(error.cause.code, "VM.1010");
    assertEquals(
      error.cause.details,
      "current vm instance state[Stopped] doesn't allow to proceed message[org.zstack.header.vm.APIPauseVmInstanceMsg], allowed states are [Running]",
    );
    assertEquals(
      (await client.action(vm.uuid, "rebootVmInstance")).body.error.cause.code,
      "VM.1010",
    );
    assertEquals(
      (await client.action(vm.uuid, "recoverVmInstance")).body.error.cause.code,
      "VM.1010",
    );
  });
});

Deno.test("pause, resume and reboot move through their states", async () => {
  await withSim(async (client) => {
    const vm = (await client.createVm("cycle")).body.inventory;
    assertEquals((await client.action(vm.uuid, "pauseVmInstance")).body.inventory.state, "Paused");
    assertEquals(
      (await client.action(vm.uuid, "startVmInstance")).body.error.cause.code,
      "VM.1010",
    );
    assertEquals(
      (await client.action(vm.uuid, "resumeVmInstance")).body.inventory.state,
      "Running",
    );
    const reboot = await client.raw("PUT", `/v1/vm-instances/${vm.uuid}/actions`, {
      body: { rebootVmInstance: {} },
    });
    await delay(40);
    assertEquals((await client.query("/v1/vm-instances", `uuid=${vm.uuid}`))[0].state, "Rebooting");
    assertEquals((await client.poll(reboot.body.location)).body.inventory.state, "Running");
  }, { vmBootMs: 150 });
});

Deno.test("an action on an unknown uuid is SYS.1003; destroy of an unknown uuid succeeds", async () => {
  await withSim(async (client) => {
    const missing = "0123456789abcdef0123456789abcdef";
    const start = await client.action(missing, "startVmInstance");
    assertEquals(start.body.error.code, "SYS.1003");
    assertEquals(
      start.body.error.details,
      `invalid field[uuid], resource[uuid:${missing}, type:VmInstanceVO] not found`,
    );
    const destroy = await client.call("DELETE", `/v1/vm-instances/${missing}`);
    assertEquals([destroy.status, destroy.body], [200, {}]);
    const expunge = await client.action(missing, "expungeVmInstance");
    assertEquals(expunge.body.error.code, "SYS.1003");
  });
});

Deno.test("destroy leaves the VM Destroyed and queryable, frees host and IP; recover and expunge", async () => {
  await withSim(async (client, sim) => {
    const vm = (await client.createVm("doomed", {}, { userTags: ["owner:test"] })).body.inventory;
    const host = sim.hosts().find((h) => h.uuid === vm.hostUuid)!;
    assertEquals(host.availableCpuCapacity, 15);
    const destroyed = await client.call(
      "DELETE",
      `/v1/vm-instances/${vm.uuid}?deleteMode=Permissive`,
    );
    assertEquals([destroyed.status, destroyed.body], [200, {}]);
    const [gone] = await client.query("/v1/vm-instances", `uuid=${vm.uuid}`);
    assertEquals(gone.state, "Destroyed");
    assertEquals(gone.hostUuid, undefined);
    assertEquals(gone.vmNics[0].ip, undefined);
    assertEquals(host.availableCpuCapacity, 16);
    assertEquals((await client.query("/v1/vm-instances", "state!=Destroyed")).length, 0);
    assertEquals(
      (await client.action(vm.uuid, "startVmInstance")).body.error.cause.code,
      "VM.1010",
    );

    const recovered = await client.action(vm.uuid, "recoverVmInstance");
    assertEquals(recovered.body.inventory.state, "Stopped");
    assert(recovered.body.inventory.vmNics[0].ip);
    await client.call("DELETE", `/v1/vm-instances/${vm.uuid}`);
    const again = await client.call("DELETE", `/v1/vm-instances/${vm.uuid}`);
    assertEquals(again.status, 200);
    const expunged = await client.action(vm.uuid, "expungeVmInstance");
    assertEquals([expunged.status, expunged.body], [200, {}]);
    assertEquals(await client.query("/v1/vm-instances", `uuid=${vm.uuid}`), []);
    assertEquals(await client.query("/v1/user-tags", `resourceUuid=${vm.uuid}`), []);
    assertEquals(sim.volumes().length, 0);
  });
});

Deno.test("host capacity: VMs reserve CPU and memory; too large for any host fails like ZStack's allocator", async () => {
  await withSim(async (client, sim) => {
    const capacity = await client.get("/v1/hosts/capacities/cpu-memory", [["all", "true"]]);
    assertEquals([capacity.body.totalCpu, capacity.body.availableCpu, capacity.body.success], [
      32,
      32,
      true,
    ]);
    const big = await client.createVm("big", {
      instanceOfferingUuid: undefined,
      cpuNum: 12,
      memorySize: 48 * GiB,
    });
    assertEquals(big.status, 200);
    const big2 = await client.createVm("big2", {
      instanceOfferingUuid: undefined,
      cpuNum: 12,
      memorySize: 48 * GiB,
    });
    assertEquals(big2.status, 200);
    assertNotEquals(big.body.inventory.hostUuid, big2.body.inventory.hostUuid);
    const after = await client.get("/v1/hosts/capacities/cpu-memory", [["all", "true"]]);
    assertEquals([after.body.availableCpu, after.body.availableMemory], [8, 32 * GiB]);
    const tooBig = await client.createVm("too-big", {
      instanceOfferingUuid: undefined,
      cpuNum: 8,
      memorySize: 32 * GiB,
    });
    assertEquals(tooBig.status, 503);
    assertEquals(tooBig.body.error.code, "SYS.1006");
    assertEquals(
      tooBig.body.error.details,
      `no host having cpu[8], memory[${32 * GiB} bytes] found`,
    );
    assertEquals(sim.vms().length, 2);
    await client.action(big.body.inventory.uuid, "stopVmInstance");
    const fits = await client.createVm("fits", {
      instanceOfferingUuid: undefined,
      cpuNum: 8,
      memorySize: 32 * GiB,
    });
    assertEquals(fits.body.inventory.state, "Running");
    const restart = await client.action(big.body.inventory.uuid, "startVmInstance");
    assertEquals(
      restart.body.error.details,
      `no host having cpu[12], memory[${48 * GiB} bytes] found`,
    );
  });
});

Deno.test("mandatory fields and missing CPU/memory settings are SYS.1007 on the poll", async () => {
  await withSim(async (client) => {
    const noImage = await client.call("POST", "/v1/vm-instances", { params: { name: "x" } });
    assertEquals(
      noImage.body.error.details,
      "field[imageUuid] of message[org.zstack.header.vm.APICreateVmInstanceMsg] is mandatory, can not be null",
    );
    const noSize = await client.createVm("nosize", { instanceOfferingUuid: undefined });
    assertEquals([noSize.body.error.code, noSize.body.error.details], [
      "SYS.1007",
      "Missing CPU/memory settings",
    ]);
    const badImage = await client.createVm("badimage", {
      imageUuid: "0123456789abcdef0123456789abcdef",
    });
    assertEquals(badImage.body.error.code, "SYS.1003");
    const badTag = await client.createVm("badtag", {}, { systemTags: ["color::red"] });
    assertEquals(badTag.body.error.code, "SYS.1007");
  });
});

Deno.test("JustCreate leaves the VM Created without a host until started; CreateStopped ends Stopped", async () => {
  await withSim(async (client) => {
    const created = (await client.createVm("later", { strategy: "JustCreate" })).body.inventory;
    assertEquals([created.state, created.hostUuid], ["Created", undefined]);
    assertEquals(
      (await client.action(created.uuid, "startVmInstance")).body.inventory.state,
      "Running",
    );
    const stopped = (await client.createVm("cold", { strategy: "CreateStopped" })).body.inventory;
    assertEquals([stopped.state, stopped.hostUuid], ["Stopped", undefined]);
    const throwaway =
      (await client.createVm("throwaway", { strategy: "JustCreate" })).body.inventory;
    await client.call("DELETE", `/v1/vm-instances/${throwaway.uuid}`);
    assertEquals(await client.query("/v1/vm-instances", `uuid=${throwaway.uuid}`), []);
  });
});

Deno.test("live migration moves a Running VM to the other host of its cluster and its capacity with it", async () => {
  await withSim(async (client, sim) => {
    const vm = (await client.createVm("mover")).body.inventory;
    const targets = await client.get(`/v1/vm-instances/${vm.uuid}/migration-target-hosts`);
    assertEquals(targets.body.inventories.length, 1);
    const target = targets.body.inventories[0].uuid;
    const migrated = await client.action(vm.uuid, "migrateVm", { hostUuid: target });
    assertEquals([migrated.body.inventory.state, migrated.body.inventory.hostUuid], [
      "Running",
      target,
    ]);
    assertEquals(sim.hosts().map((host) => host.availableCpuCapacity).sort(), [15, 16]);
    assertEquals(sim.hosts().find((host) => host.uuid === target)!.availableCpuCapacity, 15);
    const same = await client.action(vm.uuid, "migrateVm", { hostUuid: target });
    assertEquals(same.status, 503);
    await client.action(vm.uuid, "stopVmInstance");
    assertEquals((await client.action(vm.uuid, "migrateVm", {})).body.error.cause.code, "VM.1010");
  });
});

Deno.test("data volumes: create, attach to a VM, detach, delete, expunge; snapshot revert needs Stopped", async () => {
  await withSim(async (client) => {
    const vm = (await client.createVm("with-disk")).body.inventory;
    const created = await client.call("POST", "/v1/volumes/data", {
      params: {
        name: "data1",
        diskOfferingUuid: await client.uuidOf("/v1/disk-offerings", "disk-10g"),
      },
    });
    const volume = created.body.inventory;
    assertEquals([volume.status, volume.size, volume.type], ["NotInstantiated", 10 * GiB, "Data"]);
    const attached = await client.call(
      "POST",
      `/v1/volumes/${volume.uuid}/vm-instances/${vm.uuid}`,
    );
    assertEquals([
      attached.body.inventory.vmInstanceUuid,
      attached.body.inventory.status,
      attached.body.inventory.deviceId,
    ], [vm.uuid, "Ready", 1]);
    assertEquals(
      (await client.query("/v1/vm-instances", `allVolumes.uuid=${volume.uuid}`))[0].uuid,
      vm.uuid,
    );
    const twice = await client.call("POST", `/v1/volumes/${volume.uuid}/vm-instances/${vm.uuid}`);
    assertEquals(twice.status, 503);

    const snapshot = await client.call("POST", `/v1/volumes/${volume.uuid}/volume-snapshots`, {
      params: { name: "snap1" },
    });
    assertEquals([snapshot.body.inventory.status, snapshot.body.inventory.latest], ["Ready", true]);
    const revertRunning = await client.call(
      "PUT",
      `/v1/volume-snapshots/${snapshot.body.inventory.uuid}/actions`,
      {
        revertVolumeFromSnapshot: {},
      },
    );
    assertEquals(revertRunning.status, 503);
    assertStringIncludes(revertRunning.body.error.details, "is not in Stopped state");
    await client.action(vm.uuid, "stopVmInstance");
    const reverted = await client.call(
      "PUT",
      `/v1/volume-snapshots/${snapshot.body.inventory.uuid}/actions`,
      {
        revertVolumeFromSnapshot: {},
      },
    );
    assertEquals([reverted.status, reverted.body], [200, {}]);

    const detached = await client.call(
      "DELETE",
      `/v1/volumes/${volume.uuid}/vm-instances?vmUuid=${vm.uuid}`,
    );
    assertEquals(detached.body.inventory.vmInstanceUuid, undefined);
    assertEquals(
      (await client.call("DELETE", `/v1/volumes/${volume.uuid}?deleteMode=Permissive`)).body,
      {},
    );
    assertEquals((await client.query("/v1/volumes", `uuid=${volume.uuid}`))[0].status, "Deleted");
    assertEquals(
      (await client.call("PUT", `/v1/volumes/${volume.uuid}/actions`, { expungeDataVolume: {} }))
        .status,
      200,
    );
    assertEquals(await client.query("/v1/volumes", `uuid=${volume.uuid}`), []);
    assertEquals(await client.query("/v1/volume-snapshots"), []);
    assertEquals((await client.call("DELETE", `/v1/volumes/${volume.uuid}`)).status, 200);
  });
});

Deno.test("user tags: create, query by resourceUuid, duplicate refused, delete", async () => {
  await withSim(async (client) => {
    const vm = (await client.createVm("tags")).body.inventory;
    const created = await client.call("POST", "/v1/user-tags", {
      params: { resourceType: "VmInstanceVO", resourceUuid: vm.uuid, tag: "pod:default/web" },
    });
    assertEquals([created.body.inventory.type, created.body.inventory.tag], [
      "User",
      "pod:default/web",
    ]);
    const duplicate = await client.call("POST", "/v1/user-tags", {
      params: { resourceType: "VmInstanceVO", resourceUuid: vm.uuid, tag: "pod:default/web" },
    });
    assertStringIncludes(duplicate.body.error.details, "Duplicated Tag");
    const badType = await client.call("POST", "/v1/user-tags", {
      params: { resourceType: "PodVO", resourceUuid: vm.uuid, tag: "x" },
    });
    assertStringIncludes(badType.body.error.details, "no resource type[PodVO] found in tag system");
    assertEquals((await client.query("/v1/vm-instances", "__userTag__=pod:default/web")).length, 1);
    assertEquals((await client.call("DELETE", `/v1/tags/${created.body.inventory.uuid}`)).body, {});
    assertEquals((await client.query("/v1/vm-instances", "__userTag__=pod:default/web")).length, 0);
  });
});

Deno.test("messages for one VM run one at a time: a stop sent during the boot waits for it", async () => {
  await withSim(async (client) => {
    const accepted = await client.raw("POST", "/v1/vm-instances", {
      body: {
        params: {
          name: "queued",
          imageUuid: await client.uuidOf("/v1/images", "cirros"),
          instanceOfferingUuid: await client.uuidOf("/v1/instance-offerings", "small"),
          l3NetworkUuids: [await client.uuidOf("/v1/l3-networks", "l3-default")],
        },
      },
    });
    await delay(30);
    const [vm] = await client.query("/v1/vm-instances", "name=queued");
    const stopped = await client.action(vm.uuid, "stopVmInstance");
    assertEquals(stopped.body.inventory.state, "Stopped");
    assertEquals((await client.poll(accepted.body.location)).body.inventory.state, "Running");
  }, { vmBootMs: 150 });
});
