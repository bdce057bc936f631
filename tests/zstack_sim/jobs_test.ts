import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_harness/assert.ts";
import { delay, withSim } from "./_client.ts";

Deno.test("an async call answers 202 with a job location and apiTimeout, the poll 202 then 200", async () => {
  await withSim(async (client) => {
    const accepted = await client.raw("POST", "/v1/instance-offerings", {
      body: { params: { name: "large", cpuNum: 8, memorySize: 17179869184 } },
    });
    assertEquals(accepted.status, 202);
    assertMatch(
      accepted.body.location,
      /^http:\/\/127\.0\.0\.1:\d+\/zstack\/v1\/api-jobs\/[0-9a-f]{32}$/,
    );
    assertEquals(accepted.body.apiTimeout, 30 * 60 * 1000);
    const running = await fetch(accepted.body.location);
    assertEquals([running.status, await running.text()], [202, "{}"]);
    await delay(250);
    const done = await fetch(accepted.body.location);
    assertEquals(done.status, 200);
    const offering = JSON.parse(await done.text()).inventory;
    assertEquals([offering.name, offering.cpuNum, offering.memorySize], ["large", 8, 17179869184]);
    assertEquals((await client.query("/v1/instance-offerings", "name=large")).length, 1);
  }, { jobDurationMs: 150 });
});

Deno.test("CreateVmInstance announces its 12 h apiTimeout", async () => {
  await withSim(async (client) => {
    const accepted = await client.raw("POST", "/v1/vm-instances", { body: { params: {} } });
    assertEquals(accepted.body.apiTimeout, 12 * 3600 * 1000);
    const failed = await client.poll(accepted.body.location);
    assertEquals(failed.status, 503);
    assertEquals(failed.body.error.code, "SYS.1007");
    assertEquals(
      failed.body.error.details,
      "field[name] of message[org.zstack.header.vm.APICreateVmInstanceMsg] is mandatory, can not be null",
    );
  });
});

Deno.test("X-Job-UUID names the job; a reused or malformed one is 400", async () => {
  await withSim(async (client) => {
    const jobUuid = "0123456789abcdef0123456789abcdef";
    const body = { params: { name: "d1", diskSize: 1073741824 } };
    const first = await client.raw("POST", "/v1/disk-offerings", {
      body,
      headers: { "X-Job-UUID": jobUuid },
    });
    assertEquals(first.status, 202);
    assert(first.body.location.endsWith(`/v1/api-jobs/${jobUuid}`));
    const again = await client.raw("POST", "/v1/disk-offerings", {
      body,
      headers: { "X-Job-UUID": jobUuid },
    });
    assertEquals(again.status, 400);
    assertStringIncludes(again.text, "Duplicate job uuid");
    const bad = await client.raw("POST", "/v1/disk-offerings", {
      body,
      headers: { "X-Job-UUID": "abc" },
    });
    assertEquals(bad.status, 400);
    await client.poll(first.body.location);
  });
});

Deno.test("finished jobs expire: the poll then answers 404 in plain text", async () => {
  await withSim(async (client) => {
    const accepted = await client.raw("POST", "/v1/disk-offerings", {
      body: { params: { name: "d1", diskSize: 1073741824 } },
    });
    assertEquals((await client.poll(accepted.body.location)).status, 200);
    await delay(150);
    const expired = await fetch(accepted.body.location);
    assertEquals([expired.status, await expired.text()], [404, "the job has been expired"]);
    const unknown = await fetch(`${client.sim.url}/v1/api-jobs/ffffffffffffffffffffffffffffffff`);
    assertEquals(unknown.status, 404);
    await unknown.body?.cancel();
  }, { jobExpirySeconds: 0.1 });
});

Deno.test("polling needs no authentication, and any method but GET on api-jobs is 405", async () => {
  await withSim(async (client) => {
    const accepted = await client.raw("POST", "/v1/disk-offerings", {
      body: { params: { name: "d1", diskSize: 1073741824 } },
    });
    const polled = await client.poll(accepted.body.location);
    assertEquals(polled.status, 200);
    const post = await fetch(accepted.body.location, { method: "POST" });
    assertEquals(post.status, 405);
    await post.body?.cancel();
  });
});

Deno.test("the REST layer answers plain-text 400/404/500 for bad requests, before any job", async () => {
  await withSim(async (client) => {
    const noAction = await client.raw(
      "PUT",
      "/v1/vm-instances/0123456789abcdef0123456789abcdef/actions",
      {
        body: { fly: {} },
      },
    );
    assertEquals(noAction.status, 400);
    assertStringIncludes(noAction.text, "the body doesn't contain action mapping to the URL");
    const badType = await client.raw("POST", "/v1/vm-instances", {
      body: { params: { name: "x", cpuNum: "many", memorySize: 1 } },
    });
    assertEquals([badType.status, badType.text], [
      400,
      "[cpuNum] field is excepted an int or long, but was [many].",
    ]);
    const malformed = await client.raw("POST", "/v1/vm-instances", { text: "{not json" });
    assertEquals(malformed.status, 500);
    const noRoute = await client.raw("GET", "/v1/no-such-things");
    assertEquals(noRoute.status, 404);
    assertStringIncludes(noRoute.text, "no api mapping to");
  });
});

Deno.test("locationBase puts another host into job locations, as a MN behind NAT would", async () => {
  await withSim(async (client) => {
    const accepted = await client.raw("POST", "/v1/disk-offerings", {
      body: { params: { name: "d1", diskSize: 1073741824 } },
    });
    assertMatch(
      accepted.body.location,
      /^http:\/\/10\.0\.0\.1:8080\/zstack\/v1\/api-jobs\/[0-9a-f]{32}$/,
    );
    const rewritten = accepted.body.location.replace("http://10.0.0.1:8080/zstack", client.sim.url);
    assertEquals((await client.poll(rewritten)).status, 200);
  }, { locationBase: "http://10.0.0.1:8080" });
});

Deno.test("systemTags and userTags may sit beside params or inside them; the top level wins", async () => {
  await withSim(async (client) => {
    const created = await client.createVm("tagged", { userTags: ["inside"] }, {
      userTags: ["outside"],
    });
    assertEquals(created.status, 200);
    const tags = await client.query("/v1/user-tags", `resourceUuid=${created.body.inventory.uuid}`);
    assertEquals(tags.map((tag) => tag.tag), ["outside"]);
    const inner = await client.createVm("tagged2", { userTags: ["inside"] });
    const innerTags = await client.query(
      "/v1/user-tags",
      `resourceUuid=${inner.body.inventory.uuid}`,
    );
    assertEquals(innerTags.map((tag) => tag.tag), ["inside"]);
  });
});
