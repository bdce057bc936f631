import { createHash, createHmac } from "node:crypto";
import {
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../../_harness/assert.ts";
import { UnauthenticatedError } from "../../../lib/provider.ts";
import { queryReplySchema, zoneOrClusterSchema } from "../../../providers/zstack/api_types.ts";
import { ZStackClient } from "../../../providers/zstack/client.ts";
import { accessKeySignature, sha512Hex } from "../../../providers/zstack/session.ts";
import {
  client,
  invalidSession,
  isLogin,
  listZones,
  loginReply,
  metricValue,
  signal,
} from "./_fixtures.ts";
import { json, startReplayServer } from "./_replay_server.ts";

Deno.test("client logs in with the SHA-512 hex password and sends the session as OAuth", async () => {
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    return json(200, { inventories: [{ uuid: "z1", name: "zone-1" }], schema: {} });
  });
  try {
    const zones = await client(server.url).get("/v1/zones", {
      query: "limit=1",
      schema: queryReplySchema(zoneOrClusterSchema),
      signal,
    });
    assertEquals(zones.inventories.map((zone) => zone.name), ["zone-1"]);
    const [login, query] = server.received;
    assertEquals(login.body, {
      logInByAccount: {
        accountName: "admin",
        password: createHash("sha512").update("password").digest("hex"),
      },
    });
    assertEquals(query.headers.get("Authorization"), `OAuth ${loginReply.inventory.uuid}`);
    assertEquals(query.search, "?limit=1");
  } finally {
    await server.close();
  }
});

Deno.test("ID.1001 on a GET logs in again and repeats the GET once", async () => {
  let logins = 0;
  const server = startReplayServer((request) => {
    if (isLogin(request)) {
      logins++;
      return json(200, {
        inventory: { ...loginReply.inventory, uuid: `session${logins}`.padEnd(32, "0") },
      });
    }
    if (request.headers.get("Authorization") === `OAuth ${"session1".padEnd(32, "0")}`) {
      return json(503, invalidSession);
    }
    return json(200, { inventories: [], schema: {} });
  });
  try {
    const zstack = client(server.url);
    const reply = await listZones(zstack);
    assertEquals(reply.inventories, []);
    assertEquals(logins, 2);
    assertEquals(zstack.stats().logins, 2);
  } finally {
    await server.close();
  }
});

Deno.test("wrong credentials (503 ID.1000) give UnauthenticatedError naming account and endpoint, not an outage", async () => {
  const server = startReplayServer(() =>
    json(503, {
      error: {
        code: "ID.1000",
        description: "Unable to authenticate a user",
        details: "wrong account name or password",
      },
    })
  );
  try {
    const error = await assertRejects(
      () => listZones(client(server.url)),
      UnauthenticatedError,
    );
    assertStringIncludes(
      error.message,
      `ZStack at ${server.url} refuses the login of account "admin"`,
    );
    assertStringIncludes(error.message, "wrong account name or password");
    assertStringIncludes(error.message, "check accountName and the password");
  } finally {
    await server.close();
  }
});

Deno.test("AccessKey requests carry Date and an HMAC-SHA1 signature of method, date and /v1 path", async () => {
  const server = startReplayServer(() => json(200, { inventories: [], schema: {} }));
  try {
    const zstack = new ZStackClient({
      endpoint: server.url,
      credentials: { kind: "accessKey", accessKeyId: "KEYID", accessKeySecret: "s3cret" },
    });
    await zstack.get("/v1/zones", {
      query: "q=name=zone-1",
      schema: queryReplySchema(zoneOrClusterSchema),
      signal,
    });
    const [request] = server.received;
    const date = request.headers.get("Date") ?? "";
    assertMatch(date, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const expected = createHmac("sha1", "s3cret").update(`GET\n${date}\n/v1/zones`).digest(
      "base64",
    );
    assertEquals(request.headers.get("Authorization"), `ZStack KEYID:${expected}`);
  } finally {
    await server.close();
  }
});

Deno.test("the password hash and the AccessKey signature match what ZStack computes", async () => {
  assertEquals(await sha512Hex("password"), createHash("sha512").update("password").digest("hex"));
  const request = { method: "GET", date: "Tue, 01 Dec 2026 09:00:00 GMT", uri: "/v1/zones" };
  assertEquals(
    await accessKeySignature("s3cret", request),
    createHmac("sha1", "s3cret").update(`GET\n${request.date}\n/v1/zones`).digest("base64"),
  );
});

Deno.test("every successful login is counted in vkedge_zstack_logins_total, failed ones not", async () => {
  let logins = 0;
  const server = startReplayServer((request) => {
    if (isLogin(request)) {
      logins++;
      return logins === 3
        ? json(503, { error: { code: "ID.1000", details: "wrong account name or password" } })
        : json(200, { inventory: { ...loginReply.inventory, uuid: `s${logins}`.padEnd(32, "0") } });
    }
    return request.headers.get("Authorization") === `OAuth ${"s1".padEnd(32, "0")}`
      ? json(503, invalidSession)
      : json(200, { inventories: [], schema: {} });
  });
  const before = await metricValue("vkedge_zstack_logins_total");
  try {
    const zstack = client(server.url);
    await listZones(zstack);
    assertEquals(await metricValue("vkedge_zstack_logins_total"), before + 2);
    await assertRejects(
      () => listZones(client(server.url)),
      UnauthenticatedError,
      "refuses the login of account",
    );
    assertEquals(await metricValue("vkedge_zstack_logins_total"), before + 2);
    assertEquals(zstack.stats().logins, 2);
  } finally {
    await server.close();
  }
});
