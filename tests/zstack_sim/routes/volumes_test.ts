import { assertEquals } from "../../_harness/assert.ts";
import { withSim } from "../_client.ts";

Deno.test("volume actions: update renames, changeVolumeState wants enable or disable, recover undoes delete", async () => {
  await withSim(async (client) => {
    const created = await client.call("POST", "/v1/volumes/data", {
      params: { name: "data", diskSize: 2 ** 30 },
      userTags: ["app:db"],
    });
    const volume = created.body.inventory;
    const actions = `/v1/volumes/${volume.uuid}/actions`;
    const renamed = await client.call("PUT", actions, { updateVolume: { name: "data-2" } });
    assertEquals(renamed.body.inventory.name, "data-2");
    const disabled = await client.call("PUT", actions, {
      changeVolumeState: { stateEvent: "disable" },
    });
    assertEquals(disabled.body.inventory.state, "Disabled");
    const bad = await client.call("PUT", actions, { changeVolumeState: { stateEvent: "off" } });
    assertEquals(bad.body.error.code, "SYS.1007");
    await client.call("DELETE", `/v1/volumes/${volume.uuid}`);
    const recovered = await client.call("PUT", actions, { recoverDataVolume: {} });
    assertEquals(recovered.body.inventory.status, "NotInstantiated");
    const [tagged] = await client.query("/v1/volumes", "__userTag__=app:db");
    assertEquals(tagged.uuid, volume.uuid);
  });
});

Deno.test("snapshots are queryable from their volume and back; update renames one", async () => {
  await withSim(async (client) => {
    const vm = (await client.createVm("s")).body.inventory;
    const root = vm.rootVolumeUuid;
    const snapshot = (await client.call("POST", `/v1/volumes/${root}/volume-snapshots`, {
      params: { name: "snap" },
    })).body.inventory;
    const [volume] = await client.query("/v1/volumes", "snapshot.name=snap");
    assertEquals(volume.uuid, root);
    const [back] = await client.query("/v1/volume-snapshots", "volume.type=Root");
    assertEquals(back.uuid, snapshot.uuid);
    const renamed = await client.call("PUT", `/v1/volume-snapshots/${snapshot.uuid}/actions`, {
      updateVolumeSnapshot: { name: "snap-2", description: "before upgrade" },
    });
    assertEquals([renamed.body.inventory.name, renamed.body.inventory.description], [
      "snap-2",
      "before upgrade",
    ]);
    const deleted = await client.call("DELETE", `/v1/volume-snapshots/${snapshot.uuid}`);
    assertEquals([deleted.status, deleted.body], [200, {}]);
    assertEquals((await client.query("/v1/volume-snapshots")).length, 0);
  });
});

Deno.test("ResizeDataVolume has its own route and action key; a smaller size is SYS.1007", async () => {
  await withSim(async (client) => {
    const [ps] = await client.query("/v1/primary-storage");
    const created = await client.call("POST", "/v1/volumes/data", {
      params: { name: "data", diskSize: 2 ** 30, primaryStorageUuid: ps.uuid },
    });
    const volume = created.body.inventory;
    assertEquals(volume.status, "Ready");
    const resize = `/v1/volumes/data/resize/${volume.uuid}/actions`;
    const grown = await client.call("PUT", resize, { resizeDataVolume: { size: 2 ** 31 } });
    assertEquals(grown.body.inventory.size, 2 ** 31);
    const shrunk = await client.call("PUT", resize, { resizeDataVolume: { size: 2 ** 30 } });
    assertEquals(shrunk.body.error.code, "SYS.1007");
    const [after] = await client.query("/v1/volumes", `uuid=${volume.uuid}`);
    assertEquals(after.size, 2 ** 31);
    const [storage] = await client.query("/v1/primary-storage", `uuid=${ps.uuid}`);
    assertEquals(storage.availableCapacity, storage.totalCapacity - 2 ** 31);
  });
});
