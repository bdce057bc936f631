import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { NotFoundError } from "../../../lib/provider.ts";
import { getVm, pageSize, queryAll, zones } from "../../../providers/zstack/collections.ts";
import { eq } from "../../../providers/zstack/query.ts";
import { client, conditionsOf, inventories, isLogin, loginReply, signal } from "./_fixtures.ts";
import { json, startReplayServer } from "./_replay_server.ts";

Deno.test("queryAll reads page after page until the total is reached", async () => {
  const all = Array.from({ length: pageSize + 3 }, (_, index) => ({
    uuid: index.toString(16).padStart(32, "0"),
    name: `zone-${index}`,
  }));
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    const start = Number(new URLSearchParams(request.search).get("start"));
    return json(200, { inventories: all.slice(start, start + pageSize), total: all.length });
  });
  try {
    const found = await queryAll(client(server.url), zones, {
      conditions: [eq("state", "Enabled")],
      signal,
    });
    assertEquals(found.length, all.length);
    const pages = server.received.filter((request) => request.path === "/v1/zones");
    assertEquals(pages.map((page) => new URLSearchParams(page.search).get("start")), ["0", "500"]);
    assertEquals(conditionsOf(pages[0]), ["state=Enabled"]);
  } finally {
    await server.close();
  }
});

Deno.test("getVm answers undefined for an unknown uuid and a contract error when ZStack fails", async () => {
  let calls = 0;
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    calls++;
    return calls === 1 ? inventories([]) : json(503, {
      error: { code: "SYS.1003", details: "resource not found" },
    });
  });
  try {
    const zstack = client(server.url);
    assertEquals(await getVm(zstack, "a".repeat(32), { signal }), undefined);
    await assertRejects(
      () => getVm(zstack, "a".repeat(32), { signal }),
      NotFoundError,
      `zstack provider: reading VM ${"a".repeat(32)}`,
    );
  } finally {
    await server.close();
  }
});
