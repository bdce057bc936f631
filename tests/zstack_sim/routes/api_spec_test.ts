import { assertEquals } from "../../_harness/assert.ts";
import { freshState, smallSeed } from "../_state.ts";
import { Auth } from "../auth.ts";
import {
  type ApiContext,
  defineApi,
  queryRoutes,
  SYNC,
  uuidAction,
  uuidCommand,
} from "./api_spec.ts";
import { collection } from "./collection.ts";
import { Params } from "./params.ts";

async function context(path: Record<string, string>): Promise<ApiContext> {
  return {
    state: await freshState({ seed: smallSeed() }),
    auth: new Auth({ sessionTimeoutSeconds: 60 }),
    path,
    query: new URLSearchParams(),
    params: new Params({}),
    systemTags: [],
    userTags: [],
  };
}

Deno.test("an API is async and authenticated unless it says otherwise", () => {
  const run = () => ({});
  const job = defineApi("DoIt", run, { fields: { a: "string" }, timeoutMs: 5 });
  assertEquals([job.kind, job.authenticated, job.fields, job.timeoutMs], ["async", true, {
    a: "string",
  }, 5]);
  const now = defineApi("Look", run, SYNC);
  assertEquals([now.kind, now.authenticated], ["sync", true]);
  assertEquals(defineApi("In", run, { kind: "sync", authenticated: false }).authenticated, false);
});

Deno.test("uuid actions act on the path's uuid: one replies with the inventory, the other with {}", async () => {
  const ctx = await context({ uuid: "z" });
  const seen: string[] = [];
  const action = uuidAction("Get", (_state, uuid) => Promise.resolve({ uuid }));
  assertEquals(await action.run(ctx), { inventory: { uuid: "z" } });
  const command = uuidCommand("Drop", (_state, uuid) => seen.push(uuid));
  assertEquals(await command.run(ctx), {});
  assertEquals(seen, ["z"]);
});

Deno.test("a query API answers on its collection path and on one uuid below it", () => {
  const zones = collection({
    path: "/zones",
    voName: "ZoneVO",
    inventoryClass: "Z",
    fields: [],
    items: "zones",
  });
  const routes = queryRoutes("QueryZone", zones);
  assertEquals(routes.map((route) => `${route.method} ${route.pattern}`), [
    "GET /v1/zones",
    "GET /v1/zones/{uuid}",
  ]);
  assertEquals(routes.map((route) => [route.api?.kind, route.api?.collection]), [["query", zones], [
    "query",
    zones,
  ]]);
});
