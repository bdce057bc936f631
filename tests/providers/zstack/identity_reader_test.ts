import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { UnavailableError } from "../../../lib/provider.ts";
import { vmInstanceSchema } from "../../../providers/zstack/api_types.ts";
import { ownerTags } from "../../../providers/zstack/identity.ts";
import { IdentityReader } from "../../../providers/zstack/identity_reader.ts";
import { encodePodSpec } from "../../../providers/zstack/stored_spec.ts";
import { client, conditionsOf, inventories, isLogin, loginReply, signal } from "./_fixtures.ts";
import { json, startReplayServer, text } from "./_replay_server.ts";

const owner = { clusterName: "edge", nodeName: "node-1" };
const web = { namespace: "default", name: "web", uid: crypto.randomUUID() };

async function vmOf(uuid: string) {
  const { description } = await encodePodSpec({
    metadata: { ...web },
    spec: { containers: [{ name: "main", image: "zstack/cirros" }] },
  }, web);
  return vmInstanceSchema.parse({
    uuid,
    name: "vkedge-default.web",
    state: "Running",
    description,
  });
}

Deno.test("identities come from the owner tags, one tag query for the VMs; a VM without them is left out", async () => {
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    return inventories(
      ownerTags(web, owner).map((tag, index) => ({
        uuid: String(index).padStart(32, "0"),
        resourceUuid: "a".repeat(32),
        resourceType: "VmInstanceVO",
        tag,
      })),
    );
  });
  try {
    const reader = new IdentityReader(client(server.url), "vkedge.io/node:edge/node-1");
    assertEquals(await reader.read([], signal), new Map());
    const found = await reader.read(
      [await vmOf("a".repeat(32)), await vmOf("b".repeat(32))],
      signal,
    );
    assertEquals([...found], [["a".repeat(32), web]]);
    const queries = server.received.filter((request) => request.path === "/v1/user-tags");
    assertEquals(queries.map(conditionsOf), [[
      `resourceUuid?=${"a".repeat(32)},${"b".repeat(32)}`,
      "resourceType=VmInstanceVO",
    ]]);
  } finally {
    await server.close();
  }
});

Deno.test("without a user tag query (404) identities come from the descriptions, from then on", async () => {
  const server = startReplayServer((request) =>
    isLogin(request) ? json(200, loginReply) : text(404, "no api mapping to /v1/user-tags")
  );
  try {
    const reader = new IdentityReader(client(server.url), "vkedge.io/node:edge/node-1");
    const vm = await vmOf("a".repeat(32));
    assertEquals([...await reader.read([vm], signal)], [["a".repeat(32), web]]);
    assertEquals([...await reader.read([vm], signal)], [["a".repeat(32), web]]);
    assertEquals(server.received.filter((request) => request.path === "/v1/user-tags").length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("other tag query failures are contract errors", async () => {
  const server = startReplayServer((request) =>
    isLogin(request) ? json(200, loginReply) : text(500, "internal error")
  );
  try {
    const reader = new IdentityReader(client(server.url), "vkedge.io/node:edge/node-1");
    await assertRejects(
      async () => await reader.read([await vmOf("a".repeat(32))], signal),
      UnavailableError,
      "zstack provider: reading VM user tags",
    );
  } finally {
    await server.close();
  }
});
