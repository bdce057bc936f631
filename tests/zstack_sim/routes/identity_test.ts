import { assertEquals } from "../../_harness/assert.ts";
import { withSim } from "../_client.ts";

Deno.test("LogInByUser always fails with ID.1000: there are no IAM users", async () => {
  await withSim(async (client) => {
    const answer = await client.raw("PUT", "/v1/accounts/users/login", {
      body: { logInByUser: { accountName: "admin", userName: "u", password: "x" } },
      auth: false,
    });
    assertEquals([answer.status, answer.body.error.code], [503, "ID.1000"]);
  });
});

Deno.test("access keys created over the API are queryable, by uuid too", async () => {
  await withSim(async (client) => {
    const created = await client.call("POST", "/v1/accesskeys", {
      params: { AccessKeyID: "key-1", AccessKeySecret: "secret-1", description: "ci" },
    });
    assertEquals(created.status, 200);
    const key = created.body.inventory;
    assertEquals([key.AccessKeyID, key.description], ["key-1", "ci"]);
    const [queried] = await client.query("/v1/accesskeys", "AccessKeyID=key-1");
    assertEquals(queried.uuid, key.uuid);
    const byUuid = await client.get(`/v1/accesskeys/${key.uuid}`);
    assertEquals(byUuid.body.inventories.map((k: { uuid: string }) => k.uuid), [key.uuid]);
  });
});
