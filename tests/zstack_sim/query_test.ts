import { assertEquals, assertThrows } from "../_harness/assert.ts";
import { withSim } from "./_client.ts";
import { ApiError, HttpError } from "./errors.ts";
import { type Condition, parseCondition, parseQuery, type QueryTarget, runQuery } from "./query.ts";

Deno.test("conditions split at the first operator found in ZStack's order, values untrimmed", () => {
  const cases: [string, Condition][] = [
    ["state!=Destroyed", { field: "state", op: "!=", value: "Destroyed" }],
    ["uuid?=a,b", { field: "uuid", op: "?=", value: "a,b" }],
    ["uuid!?=a,b", { field: "uuid", op: "!?=", value: "a,b" }],
    ["name~=vm-%", { field: "name", op: "~=", value: "vm-%" }],
    ["name!~=vm-%", { field: "name", op: "!~=", value: "vm-%" }],
    ["cpuNum>=2", { field: "cpuNum", op: ">=", value: "2" }],
    ["description is null", { field: "description", op: " is null", value: "" }],
    ["hostUuid not null", { field: "hostUuid", op: " not null", value: "" }],
    ["name= a ", { field: "name", op: "=", value: " a " }],
    // `!=` is tried before `=`, wherever it is.
    ["name=a!=b", { field: "name=a", op: "!=", value: "b" }],
  ];
  for (const [text, condition] of cases) assertEquals(parseCondition(text), condition, text);
  assertThrows(() => parseCondition("nonsense"), HttpError);
});

Deno.test("limit defaults to 1000; sort without a sign (a decoded '+') is ascending", () => {
  const query = parseQuery(new URLSearchParams("sort= name&fields=uuid,name&fields=state"));
  assertEquals(query.limit, 1000);
  assertEquals(query.sort, { field: "name", ascending: true });
  assertEquals(query.fields, ["uuid", "name"]);
  assertEquals(parseQuery(new URLSearchParams("sort=-cpuNum")).sort, {
    field: "cpuNum",
    ascending: false,
  });
});

interface Item {
  uuid: string;
  name: string;
  cpuNum: number;
  description?: string;
  nics: { ip: string }[];
}

const target: QueryTarget<Item> = {
  voName: "ItemVO",
  inventoryClass: "Item",
  fields: ["uuid", "name", "cpuNum", "description", "nics"],
  tags: (item) => ({ user: item.uuid === "a" ? ["owner:x"] : [], system: [] }),
};

const items: Item[] = [
  { uuid: "a", name: "vm-a", cpuNum: 1, nics: [{ ip: "10.0.0.1" }] },
  {
    uuid: "b",
    name: "VM-B",
    cpuNum: 4,
    description: "big",
    nics: [{ ip: "10.0.0.2" }, { ip: "10.0.0.3" }],
  },
  { uuid: "c", name: "other", cpuNum: 2, nics: [] },
];

function uuids(...q: string[]): string[] {
  const query = parseQuery(new URLSearchParams(q.map((c) => ["q", c])));
  return (runQuery(target, items, query).inventories ?? []).map((item) => (item as Item).uuid);
}

Deno.test("operators compare numbers numerically and strings like MySQL's case-insensitive collation", () => {
  assertEquals(uuids("cpuNum>1"), ["b", "c"]);
  assertEquals(uuids("cpuNum<=2"), ["a", "c"]);
  assertEquals(uuids("name~=vm-%"), ["a", "b"]);
  assertEquals(uuids("name!~=vm-%"), ["c"]);
  assertEquals(uuids("name=vm-b"), ["b"]);
  assertEquals(uuids("uuid?=a,c"), ["a", "c"]);
  assertEquals(uuids("uuid!?=a,c"), ["b"]);
  assertEquals(uuids("description is null"), ["a", "c"]);
  assertEquals(uuids("description not null"), ["b"]);
  // SQL: a NULL column never satisfies `!=`.
  assertEquals(uuids("description!=big"), []);
  assertEquals(uuids("cpuNum>1", "name~=%b"), ["b"]);
});

Deno.test("joined lists match when any element matches; negations mean 'none matches'", () => {
  assertEquals(uuids("nics.ip=10.0.0.3"), ["b"]);
  assertEquals(uuids("nics.ip!=10.0.0.3"), ["a", "c"]);
  assertEquals(uuids("__userTag__=owner:x"), ["a"]);
  assertEquals(uuids("__userTag__!=owner:x"), ["b", "c"]);
  assertEquals(uuids("__userTag__~=owner:%"), ["a"]);
});

Deno.test("a field the resource does not have is SYS.1007", () => {
  const error = assertThrows(() => uuids("color=red"), ApiError);
  assertEquals(error.error.code, "SYS.1007");
});

Deno.test("queries over HTTP: joins, tags, count, replyWithCount, sort, limit, start, fields", async () => {
  await withSim(async (client) => {
    const names = ["q-c", "q-a", "q-b"];
    const vms = [];
    for (const name of names) {
      vms.push(
        (await client.createVm(name, {}, { userTags: [`owner:${name}`, "k8s-agent:cluster-a"] }))
          .body.inventory,
      );
    }
    await client.createVm("untagged");
    const ip = vms[1].vmNics[0].ip;
    assertEquals((await client.query("/v1/vm-instances", `vmNics.ip=${ip}`)).map((vm) => vm.name), [
      "q-a",
    ]);
    const tagged = await client.query(
      "/v1/vm-instances",
      "__userTag__=k8s-agent:cluster-a",
      "state!=Destroyed",
      "type=UserVm",
    );
    assertEquals(tagged.length, 3);
    const prefix = await client.get("/v1/vm-instances", [["q", "__userTag__~=owner:q-%"]]);
    assertEquals(prefix.body.inventories.length, 3);
    const without = await client.query("/v1/vm-instances", "__userTag__!=k8s-agent:cluster-a");
    assertEquals(without.map((vm) => vm.name), ["untagged"]);

    const count = await client.get("/v1/vm-instances", [["count", "true"]]);
    assertEquals(count.body, { total: 4 });
    const page = await client.get("/v1/vm-instances", [
      ["q", "name~=q-%"],
      ["sort", "+name"],
      ["limit", "2"],
      ["start", "1"],
      ["replyWithCount", "true"],
      ["fields", "name,uuid"],
    ]);
    assertEquals(page.body.total, 3);
    assertEquals(page.body.inventories, [
      { name: "q-b", uuid: vms[2].uuid },
      { name: "q-c", uuid: vms[0].uuid },
    ]);
    const desc = await client.get("/v1/vm-instances", [["q", "name~=q-%"], ["sort", "-name"], [
      "fields",
      "name",
    ]]);
    assertEquals(desc.body.inventories.map((vm: { name: string }) => vm.name), [
      "q-c",
      "q-b",
      "q-a",
    ]);
    assertEquals(desc.body.total, undefined);

    const nics = await client.query("/v1/vm-instances/nics", `ip=${ip}`);
    assertEquals(nics[0].vmInstanceUuid, vms[1].uuid);
    const byHost = await client.query(
      "/v1/vm-instances",
      `host.managementIp~=172.20.0.%`,
      "zone.name=zone-1",
    );
    assertEquals(byHost.length, 4);
  });
});

Deno.test("GET by uuid returns an inventories array, empty when missing", async () => {
  await withSim(async (client) => {
    const [zone] = await client.query("/v1/zones");
    const byUuid = await client.get(`/v1/zones/${zone.uuid}`);
    assertEquals(byUuid.body.inventories.length, 1);
    const missing = await client.get("/v1/vm-instances/0123456789abcdef0123456789abcdef");
    assertEquals([missing.status, missing.body.inventories], [200, []]);
  });
});

Deno.test("bad query syntax is 400 plain text; an unknown field is 503 SYS.1007", async () => {
  await withSim(async (client) => {
    const noOperator = await client.get("/v1/vm-instances", [["q", "name"]]);
    assertEquals(noOperator.status, 400);
    const badLimit = await client.get("/v1/vm-instances", [["limit", "x"]]);
    assertEquals(badLimit.status, 400);
    const unknown = await client.get("/v1/vm-instances", [["q", "color=red"]]);
    assertEquals([unknown.status, unknown.body.error.code], [503, "SYS.1007"]);
    const badField = await client.get("/v1/vm-instances", [["fields", "uuid,color"]]);
    assertEquals(badField.body.error.code, "SYS.1007");
  });
});

Deno.test("the seed provides zones, clusters, hosts, images, offerings and l3-default with its IP range", async () => {
  await withSim(async (client) => {
    assertEquals((await client.query("/v1/clusters")).length, 1);
    const hosts = await client.query("/v1/hosts");
    assertEquals(hosts.map((host) => [host.cpuNum, host.totalMemoryCapacity]), [
      [16, 64 * 2 ** 30],
      [16, 64 * 2 ** 30],
    ]);
    assertEquals((await client.query("/v1/images")).map((image) => image.name).sort(), [
      "cirros",
      "ubuntu-22.04",
    ]);
    assertEquals((await client.query("/v1/instance-offerings")).map((io) => io.name).sort(), [
      "medium",
      "small",
    ]);
    assertEquals((await client.query("/v1/disk-offerings")).length, 1);
    const [l3] = await client.query("/v1/l3-networks", "name=l3-default");
    assertEquals([l3.ipRanges[0].startIp, l3.ipRanges[0].endIp], [
      "192.168.100.10",
      "192.168.100.250",
    ]);
    assertEquals(
      (await client.query("/v1/l3-networks/ip-ranges"))[0].networkCidr,
      "192.168.100.0/24",
    );
  });
});
