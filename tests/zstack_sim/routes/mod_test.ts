import { assert, assertEquals } from "../../_harness/assert.ts";
import { matchRoute, ROUTES } from "./mod.ts";

Deno.test("literal segments win over variables, and variables are decoded", () => {
  assertEquals(matchRoute("GET", "/v1/vm-instances/nics")?.route.api?.name, "QueryVmNic");
  assertEquals(matchRoute("GET", "/v1/vm-instances/abc")?.path, { uuid: "abc" });
  assertEquals(
    matchRoute("GET", "/v1/hosts/capacities/cpu-memory")?.route.api?.name,
    "GetCpuMemoryCapacity",
  );
  const attach = matchRoute("POST", "/v1/volumes/v%201/vm-instances/vm");
  assertEquals(attach?.path, { volumeUuid: "v 1", vmInstanceUuid: "vm" });
  assertEquals(matchRoute("PATCH", "/v1/zones"), undefined);
  assertEquals(matchRoute("GET", "/v1/vm-instances//console-addresses"), undefined);
});

Deno.test("the table has one route per method and pattern, and every route an API or actions", () => {
  const keys = ROUTES.map((route) => `${route.method} ${route.pattern}`);
  assertEquals(new Set(keys).size, keys.length);
  for (const route of ROUTES) {
    assert((route.api === undefined) !== (route.actions === undefined), `${route.pattern}`);
    if (route.api?.kind === "query") {
      assert(route.pattern.startsWith(`/v1${route.api.collection?.path}`), route.pattern);
    }
  }
});

Deno.test("every area is in the table", () => {
  const names = new Set(
    ROUTES.flatMap((route) => [route.api, ...Object.values(route.actions ?? {})]).map((api) =>
      api?.name
    ),
  );
  for (
    const name of [
      "LogInByAccount",
      "QueryHost",
      "AddImage",
      "GetFreeIp",
      "GetPrimaryStorageCapacity",
      "CreateVmInstance",
      "StartVmInstance",
      "CreateDataVolume",
      "RevertVolumeFromSnapshot",
      "CreateSystemTag",
    ]
  ) {
    assert(names.has(name), name);
  }
});
