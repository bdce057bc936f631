import { assertEquals } from "../../_harness/assert.ts";
import { hostSchema, vmInstanceSchema } from "../../../providers/zstack/api_types.ts";
import { KnownHosts } from "../../../providers/zstack/hosts.ts";
import { client, conditionsOf, inventories, isLogin, loginReply, signal } from "./_fixtures.ts";
import { json, startReplayServer } from "./_replay_server.ts";

const h1 = { uuid: "1".repeat(32), name: "host-1", managementIp: "172.20.0.11" };
const h2 = { uuid: "2".repeat(32), name: "", managementIp: "172.20.0.12" };

function vmOn(hostUuid: string | undefined, lastHostUuid?: string) {
  return vmInstanceSchema.parse({
    uuid: "v".repeat(32),
    name: "vm",
    state: "Running",
    hostUuid,
    lastHostUuid,
  });
}

Deno.test("hosts name VMs by name, else IP, else uuid; statuses take the (last) host's IP", async () => {
  const server = startReplayServer((request) =>
    isLogin(request) ? json(200, loginReply) : inventories([h2])
  );
  try {
    const known = new KnownHosts(client(server.url));
    known.add([hostSchema.parse(h1)]);
    assertEquals(known.first()?.uuid, h1.uuid);
    await known.learn([vmOn(h1.uuid), vmOn(undefined, h2.uuid), vmOn(h1.uuid)], signal);
    const queries = server.received.filter((request) => request.path === "/v1/hosts");
    assertEquals(queries.map(conditionsOf), [[`uuid?=${h2.uuid}`]]);
    await known.learn([vmOn(h2.uuid)], signal);
    assertEquals(server.received.filter((request) => request.path === "/v1/hosts").length, 1);
    assertEquals(known.nameOf(vmOn(h1.uuid)), "host-1");
    assertEquals(known.nameOf(vmOn(h2.uuid)), "172.20.0.12");
    assertEquals(known.nameOf(vmOn("3".repeat(32))), "3".repeat(32));
    assertEquals(known.nameOf(vmOn(undefined, h2.uuid)), undefined);
    assertEquals(known.ipOf(vmOn(undefined, h2.uuid)), "172.20.0.12");
  } finally {
    await server.close();
  }
});
