import { assert, assertEquals } from "../../_harness/assert.ts";
import {
  identityFromTags,
  identityKey,
  isZStackUuid,
  nodeTag,
  ownerTags,
  vmNameForPod,
  vmUuidForPod,
} from "../../../providers/zstack/identity.ts";
import { uid } from "./_mapping_fixtures.ts";

Deno.test("the VM uuid is the pod UID without dashes, or a SHA-256 prefix for other UIDs", async () => {
  assertEquals(await vmUuidForPod(uid), "0f6c2b9e5d1a4c7e9b3f2a8d4e6f1c0b");
  const hashed = await vmUuidForPod("not-a-uuid");
  assertEquals(hashed.length, 32);
  assertEquals(hashed, await vmUuidForPod("not-a-uuid"));
  assert(/^[0-9a-f]{32}$/.test(hashed));
});

Deno.test("VM name and tags say which cluster, node and pod the VM serves", () => {
  const identity = { namespace: "default", name: "web", uid };
  assertEquals(vmNameForPod(identity), "vkedge-default.web");
  const tags = ownerTags(identity, { clusterName: "edge", nodeName: "node-1" });
  assertEquals(tags, [
    "vkedge.io/cluster:edge",
    "vkedge.io/node:edge/node-1",
    "vkedge.io/namespace:default",
    "vkedge.io/pod:web",
    `vkedge.io/pod-uid:${uid}`,
  ]);
  assertEquals(identityFromTags([...tags, "someone-else:tag"]), identity);
  assertEquals(identityFromTags(tags.slice(0, 3)), undefined);
});

Deno.test("identity keys, uuid forms and the node tag read as the API reference writes them", () => {
  assertEquals(identityKey({ namespace: "shop", name: "db" }), "shop/db");
  assert(isZStackUuid("0f6c2b9e5d1a4c7e9b3f2a8d4e6f1c0b"));
  assert(!isZStackUuid("0F6C2B9E5D1A4C7E9B3F2A8D4E6F1C0B"));
  assert(!isZStackUuid(uid));
  assertEquals(nodeTag("edge", "node-1"), "vkedge.io/node:edge/node-1");
});
