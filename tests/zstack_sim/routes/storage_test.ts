import { assertEquals } from "../../_harness/assert.ts";
import { withSim } from "../_client.ts";

const TiB = 2 ** 40;

Deno.test("GetPrimaryStorageCapacity sums the storage of the uuids, zones or clusters asked for", async () => {
  await withSim(async (client) => {
    const [ps] = await client.query("/v1/primary-storage");
    const [cluster] = await client.query("/v1/clusters");
    for (
      const params of [
        [["all", "true"]],
        [["primaryStorageUuids", ps.uuid]],
        [["zoneUuids", ps.zoneUuid]],
        [["clusterUuids", cluster.uuid]],
      ] as [string, string][][]
    ) {
      const answer = await client.get("/v1/primary-storage/capacities", params);
      assertEquals([answer.body.totalCapacity, answer.body.availablePhysicalCapacity], [
        2 * TiB,
        2 * TiB,
      ]);
    }
    const none = await client.get("/v1/primary-storage/capacities", [[
      "zoneUuids",
      "f".repeat(32),
    ]]);
    assertEquals(none.body.totalCapacity, 0);
  });
});

Deno.test("backup storage is queryable with its zones", async () => {
  await withSim(async (client) => {
    const [bs] = await client.query("/v1/backup-storage", "type=ImageStoreBackupStorage");
    const [zone] = await client.query("/v1/zones");
    assertEquals([bs.name, bs.attachedZoneUuids], ["bs-imagestore", [zone.uuid]]);
  });
});
