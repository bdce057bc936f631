import { assertEquals, assertRejects, assertStringIncludes } from "../../_harness/assert.ts";
import { UnavailableError } from "../../../lib/provider.ts";
import { client, isLogin, listZones, loginReply, metricValue } from "./_fixtures.ts";
import { json, startReplayServer, text } from "./_replay_server.ts";

Deno.test("a 503 without an ErrorCode (proxy, starting server) is retried with backoff", async () => {
  let queries = 0;
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    queries++;
    return queries <= 2
      ? text(503, "Service Unavailable")
      : json(200, { inventories: [], schema: {} });
  });
  try {
    const zstack = client(server.url);
    await listZones(zstack);
    assertEquals(queries, 3);
    assertEquals(zstack.stats().retries, 2);
  } finally {
    await server.close();
  }
});

Deno.test("an unreachable endpoint gives UnavailableError naming it after the retries", async () => {
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const endpoint = `http://127.0.0.1:${port}/zstack`;
  const zstack = client(endpoint, { retries: 2 });
  const error = await assertRejects(
    () => listZones(zstack),
    UnavailableError,
  );
  assertStringIncludes(error.message, endpoint);
  assertStringIncludes(error.message, "after 3 attempts");
});

Deno.test("no more requests are in flight than maxConcurrentRequests", async () => {
  let inFlight = 0;
  let most = 0;
  const server = startReplayServer(async (request) => {
    if (isLogin(request)) return json(200, loginReply);
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 30));
    inFlight--;
    return json(200, { inventories: [], schema: {} });
  });
  try {
    const zstack = client(server.url, { maxConcurrentRequests: 2 });
    await Promise.all(
      Array.from(
        { length: 7 },
        () => listZones(zstack),
      ),
    );
    assertEquals(most, 2);
    assertEquals(zstack.stats().maxInFlight, 2);
    assertEquals(zstack.stats().inFlight, 0);
  } finally {
    await server.close();
  }
});

Deno.test("a reply of the wrong shape is UnavailableError naming the field", async () => {
  const server = startReplayServer((request) =>
    isLogin(request) ? json(200, loginReply) : json(200, { inventories: [{ name: "no uuid" }] })
  );
  try {
    const error = await assertRejects(
      () => listZones(client(server.url)),
      UnavailableError,
    );
    assertStringIncludes(error.message, `field "inventories.0.uuid"`);
  } finally {
    await server.close();
  }
});

Deno.test("every exchange is counted by method and HTTP status, unanswered ones as error, and timed", async () => {
  const sample = (method: string, code: string) =>
    metricValue("vkedge_zstack_requests_total", { method, code });
  const timed = (method: string) =>
    metricValue("vkedge_zstack_request_duration_seconds_count", { method });
  let queries = 0;
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    queries++;
    return queries === 1 ? text(502, "Bad Gateway") : json(200, { inventories: [], schema: {} });
  });
  const before = {
    login: await sample("PUT", "200"),
    ok: await sample("GET", "200"),
    bad: await sample("GET", "502"),
    error: await sample("GET", "error"),
    timed: await timed("GET"),
  };
  try {
    await listZones(client(server.url));
    assertEquals(await sample("PUT", "200"), before.login + 1);
    assertEquals(await sample("GET", "502"), before.bad + 1);
    assertEquals(await sample("GET", "200"), before.ok + 1);
    const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const down = client(`http://127.0.0.1:${port}/zstack`, {
      retries: 1,
      credentials: { kind: "accessKey", accessKeyId: "KEY", accessKeySecret: "s" },
    });
    await assertRejects(
      () => listZones(down),
      UnavailableError,
    );
    assertEquals(await sample("GET", "error"), before.error + 2);
    assertEquals(await timed("GET"), before.timed + 4);
  } finally {
    await server.close();
  }
});
