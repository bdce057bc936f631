import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "../../_harness/assert.ts";
import { InvalidInputError, UnavailableError } from "../../../lib/provider.ts";
import {
  inventoryReplySchema,
  queryReplySchema,
  vmInstanceSchema,
} from "../../../providers/zstack/api_types.ts";
import { toProviderError, ZStackHttpError } from "../../../providers/zstack/errors.ts";
import { client, invalidSession, isLogin, loginReply, signal, vm } from "./_fixtures.ts";
import { json, startReplayServer, text } from "./_replay_server.ts";

Deno.test("client parses doubles and Gson dates leniently", async () => {
  const server = startReplayServer((request) =>
    isLogin(request) ? json(200, loginReply) : json(200, { inventories: [vm], schema: {} })
  );
  try {
    const reply = await client(server.url).get("/v1/vm-instances", {
      schema: queryReplySchema(vmInstanceSchema),
      signal,
    });
    const [parsed] = reply.inventories;
    assertEquals(parsed.memorySize, 8589934592);
    assertEquals(parsed.cpuNum, 1);
    assertEquals(parsed.createDate?.toISOString(), "2017-06-07T21:20:28.000Z");
    assertEquals(parsed.vmNics[0].usedIps, []);
  } finally {
    await server.close();
  }
});

Deno.test("ID.1001 on the poll of an async call logs in again and submits anew with a new job uuid", async () => {
  let logins = 0;
  const server = startReplayServer((request) => {
    if (isLogin(request)) {
      logins++;
      return json(200, {
        inventory: { ...loginReply.inventory, uuid: `s${logins}`.padEnd(32, "0") },
      });
    }
    if (request.method === "DELETE") {
      return json(202, {
        location: `http://mn/zstack/v1/api-jobs/${request.headers.get("X-Job-UUID")}`,
      });
    }
    // The poll answers for the session the job was submitted with.
    const submit = server.received.findLast((r) => r.method === "DELETE")!;
    return submit.headers.get("Authorization") === `OAuth ${"s1".padEnd(32, "0")}`
      ? json(503, invalidSession)
      : json(200, {});
  });
  try {
    await client(server.url).call("DELETE", "/v1/vm-instances/abc", {
      schema: inventoryReplySchema(vmInstanceSchema).partial(),
      query: "deleteMode=Permissive",
      signal,
    });
    const submits = server.received.filter((r) => r.method === "DELETE");
    assertEquals(submits.length, 2);
    assertEquals(submits[0].search, "?deleteMode=Permissive");
    assert(submits[0].headers.get("X-Job-UUID") !== submits[1].headers.get("X-Job-UUID"));
    assertEquals(logins, 2);
  } finally {
    await server.close();
  }
});

Deno.test("plain-text 400 is a ZStackHttpError mapped to InvalidInputError; an expired job is UnavailableError", async () => {
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    if (request.method === "GET" && !request.path.includes("api-jobs")) {
      return text(400, "[cpuNum] field is excepted an int or long, but was [x].");
    }
    if (request.method === "POST") {
      return json(202, { location: "http://mn/zstack/v1/api-jobs/dead" });
    }
    return text(404, "the job has been expired");
  });
  try {
    const zstack = client(server.url);
    const bad = await assertRejects(
      () =>
        zstack.get("/v1/vm-instances", {
          query: "q=cpuNum=x",
          schema: queryReplySchema(vmInstanceSchema),
          signal,
        }),
      ZStackHttpError,
    );
    assertEquals(bad.status, 400);
    assertInstanceOf(toProviderError(bad, "querying"), InvalidInputError);
    const expired = await assertRejects(
      () =>
        zstack.call("POST", "/v1/vm-instances", {
          body: {},
          schema: inventoryReplySchema(vmInstanceSchema),
          signal,
        }),
      UnavailableError,
    );
    assertStringIncludes(expired.message, "the job has been expired");
  } finally {
    await server.close();
  }
});

Deno.test("a submission whose answer was lost is found again through 'Duplicate job uuid'", async () => {
  let submits = 0;
  const server = startReplayServer(async (request) => {
    if (isLogin(request)) return json(200, loginReply);
    if (request.method === "POST") {
      submits++;
      if (submits === 1) {
        await new Promise((resolve) => setTimeout(resolve, 300)); // accepted, answer too late
        return json(202, { location: "http://mn/zstack/v1/api-jobs/late" });
      }
      return text(400, `Duplicate job uuid[${request.headers.get("X-Job-UUID")}]`);
    }
    return json(200, { inventory: vm });
  });
  try {
    const reply = await client(server.url, { requestTimeoutMs: 100 }).call(
      "POST",
      "/v1/vm-instances",
      { body: { params: {} }, schema: inventoryReplySchema(vmInstanceSchema), signal },
    );
    assertEquals(reply.inventory.uuid, vm.uuid);
    const [first, second] = server.received.filter((r) => r.method === "POST");
    assertEquals(first.headers.get("X-Job-UUID"), second.headers.get("X-Job-UUID"));
    const poll = server.received.find((r) => r.path.startsWith("/v1/api-jobs/"))!;
    assertEquals(poll.path, `/v1/api-jobs/${first.headers.get("X-Job-UUID")}`);
  } finally {
    await server.close();
  }
});
