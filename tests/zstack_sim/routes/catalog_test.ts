import { assertEquals } from "../../_harness/assert.ts";
import { withSim } from "../_client.ts";

Deno.test("AddImage adds a queryable Ready image; a uuid in use is refused", async () => {
  await withSim(async (client) => {
    const resourceUuid = "abcdefabcdefabcdefabcdefabcdef01";
    const added = await client.call("POST", "/v1/images", {
      params: { name: "debian", url: "http://images.example/debian.qcow2", resourceUuid },
    });
    assertEquals([added.status, added.body.inventory.status, added.body.inventory.format], [
      200,
      "Ready",
      "qcow2",
    ]);
    assertEquals((await client.query("/v1/images", "name=debian"))[0].uuid, resourceUuid);
    const again = await client.call("POST", "/v1/images", {
      params: { name: "debian", url: "http://x", resourceUuid },
    });
    assertEquals(again.body.error.details, `resourceUuid[${resourceUuid}] is already in use`);
    const noUrl = await client.call("POST", "/v1/images", { params: { name: "x" } });
    assertEquals(noUrl.body.error.code, "SYS.1007");
  });
});

Deno.test("instance and disk offerings are created with their mandatory fields, then queryable", async () => {
  await withSim(async (client) => {
    const offering = await client.call("POST", "/v1/instance-offerings", {
      params: { name: "large", cpuNum: 8, memorySize: 2 ** 34 },
    });
    assertEquals(offering.body.inventory.cpuNum, 8);
    const missing = await client.call("POST", "/v1/instance-offerings", {
      params: { name: "x", cpuNum: 1 },
    });
    assertEquals(
      missing.body.error.details,
      "field[memorySize] of message[org.zstack.header.configuration.APICreateInstanceOfferingMsg] is mandatory, can not be null",
    );
    const disk = await client.call("POST", "/v1/disk-offerings", {
      params: { name: "disk-1g", diskSize: 2 ** 30 },
    });
    assertEquals(disk.body.inventory.state, "Enabled");
    assertEquals((await client.query("/v1/disk-offerings", "name=disk-1g")).length, 1);
  });
});
