import { assertEquals } from "../../_harness/assert.ts";
import { withSim } from "../_client.ts";

Deno.test("system tags are checked on create and update, and queryable by text", async () => {
  await withSim(async (client) => {
    const vm = (await client.createVm("t")).body.inventory;
    const base = { resourceType: "VmInstanceVO", resourceUuid: vm.uuid };
    const created = await client.call("POST", "/v1/system-tags", {
      params: { ...base, tag: "hostname::web-1" },
    });
    const tag = created.body.inventory;
    assertEquals([tag.type, tag.inherent], ["System", false]);
    const refused = await client.call("POST", "/v1/system-tags", { params: { ...base, tag: "x" } });
    assertEquals(refused.body.error.details, "no system tag matches[x]");
    const updated = await client.call("PUT", `/v1/system-tags/${tag.uuid}/actions`, {
      updateSystemTag: { tag: "hostname::web-2" },
    });
    assertEquals(updated.body.inventory.tag, "hostname::web-2");
    const [queried] = await client.query("/v1/system-tags", "tag=hostname::web-2");
    assertEquals(queried.uuid, tag.uuid);
    assertEquals((await client.query("/v1/user-tags", `uuid=${tag.uuid}`)).length, 0);
  });
});

Deno.test("a tag needs resourceType, resourceUuid and tag; deleting a tag twice succeeds", async () => {
  await withSim(async (client) => {
    const vm = (await client.createVm("t")).body.inventory;
    const missing = await client.call("POST", "/v1/user-tags", {
      params: { resourceUuid: vm.uuid, tag: "a" },
    });
    assertEquals(
      missing.body.error.details,
      "field[resourceType] of message[org.zstack.header.tag.APICreateUserTagMsg] is mandatory, can not be null",
    );
    const tag = (await client.call("POST", "/v1/user-tags", {
      params: { resourceType: "VmInstanceVO", resourceUuid: vm.uuid, tag: "a" },
    })).body.inventory;
    assertEquals((await client.call("DELETE", `/v1/tags/${tag.uuid}`)).status, 200);
    assertEquals((await client.call("DELETE", `/v1/tags/${tag.uuid}`)).status, 200);
  });
});
