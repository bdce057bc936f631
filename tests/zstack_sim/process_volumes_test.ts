// The simulator as a separate process, as the end-to-end tests run it: `--transition` keeps
// a data volume Creating that long, `--data-volume-delete-on-vm-destroy` makes a destroyed
// VM take its data volumes with it, and the harness's `volumes()` reads every data volume
// with its tags, PV, claim, node and attachment.

import { assertEquals } from "../_harness/assert.ts";
import { startZStackSim } from "../_harness/zstack.ts";
import { Client, delay } from "./_client.ts";
import type { Simulator } from "./mod.ts";

Deno.test("a simulator process lists data volumes with their tags and VM; its flags set the Creating time and deleteOnVmDestroy", async () => {
  const sim = await startZStackSim({ transitionMs: 300, dataVolumeDeleteOnVmDestroy: true });
  try {
    const client = new Client({ url: sim.url } as Simulator);
    await client.login();
    const vm = (await client.createVm("with-disk")).body.inventory;
    const [ps] = await client.query("/v1/primary-storage");
    const tags = [
      "vkedge.io/cluster:e2e",
      "vkedge.io/node:e2e/node-1",
      "vkedge.io/claim:shop/db",
      "vkedge.io/pv:pvc-1",
    ];
    const creating = client.call("POST", "/v1/volumes/data", {
      params: { name: "pvc-1", diskSize: 2 ** 30, primaryStorageUuid: ps.uuid },
      userTags: tags,
    });
    await delay(100);
    const [during] = await sim.volumes();
    assertEquals([during.status, during.pv, during.claim, during.node], [
      "Creating",
      "pvc-1",
      "shop/db",
      "node-1",
    ]);
    const volume = (await creating).body.inventory;
    await client.call("POST", `/v1/volumes/${volume.uuid}/vm-instances/${vm.uuid}`, {
      params: {},
    });
    const [attached] = await sim.volumes();
    assertEquals([attached.status, attached.vmInstanceUuid, attached.userTags], [
      "Ready",
      vm.uuid,
      tags,
    ]);
    await client.call("DELETE", `/v1/vm-instances/${vm.uuid}`);
    const [afterDestroy] = await sim.volumes();
    assertEquals([afterDestroy.status, afterDestroy.vmInstanceUuid], ["Deleted", undefined]);
  } finally {
    await sim.stop();
    await Deno.remove(sim.dir, { recursive: true });
  }
});
