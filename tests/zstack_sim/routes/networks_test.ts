import { assertEquals } from "../../_harness/assert.ts";
import { withSim } from "../_client.ts";

Deno.test("GetFreeIp lists the lowest free addresses of a network or of one of its ranges", async () => {
  await withSim(async (client) => {
    const [l3] = await client.query("/v1/l3-networks", "name=l3-default");
    await client.createVm("takes-10");
    const free = await client.get("/v1/l3-networks/ip/free", [
      ["l3NetworkUuid", l3.uuid],
      ["limit", "2"],
    ]);
    assertEquals(free.body.inventories.map((ip: { ip: string }) => ip.ip), [
      "192.168.100.11",
      "192.168.100.12",
    ]);
    const [range] = await client.query("/v1/l3-networks/ip-ranges");
    const byRange = await client.get("/v1/l3-networks/ip/free", [
      ["ipRangeUuid", range.uuid],
      ["limit", "1"],
    ]);
    assertEquals(byRange.body.inventories[0], {
      ipRangeUuid: range.uuid,
      ip: "192.168.100.11",
      netmask: "255.255.255.0",
      gateway: "192.168.100.1",
    });
    const neither = await client.get("/v1/l3-networks/ip/free");
    assertEquals(neither.body.error.code, "SYS.1007");
    const unknown = await client.get("/v1/l3-networks/ip/free", [["ipRangeUuid", "f".repeat(32)]]);
    assertEquals(unknown.body.error.code, "SYS.1003");
  });
});

Deno.test("GetIpAddressCapacity counts the range and the addresses in use", async () => {
  await withSim(async (client) => {
    await client.createVm("one");
    const capacity = await client.get("/v1/ip-capacity", [["all", "true"]]);
    assertEquals(
      [
        capacity.body.totalCapacity,
        capacity.body.usedIpAddressNumber,
        capacity.body.availableCapacity,
      ],
      [241, 1, 240],
    );
    assertEquals(capacity.body.ipv6TotalCapacity, 0);
    assertEquals((await client.get("/v1/ip-capacity")).body.error.code, "SYS.1007");
  });
});
