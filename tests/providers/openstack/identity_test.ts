import {
  identityFromMetadata,
  nodeTag,
  ownerMetadata,
  ownerTags,
  serverNameFor,
  uidTag,
} from "../../../providers/openstack/identity.ts";
import { assert, assertEquals, assertMatch } from "../../_harness/assert.ts";

const owner = { clusterName: "edge-prod", nodeName: "edge-1" };
const identity = { namespace: "default", name: "web", uid: "6f1c2b3a-0000-4000-8000-000000000001" };

Deno.test("tags fit Nova's 60 characters without / or ,: the node's hashed, a UUID workload's plain", async () => {
  const tags = await ownerTags(identity, owner);
  assertEquals(tags[0], "vkedge");
  assertMatch(tags[1], /^vkedge-node-[0-9a-f]{24}$/);
  assertEquals(tags[2], `vkedge-uid-${identity.uid}`);
  const long = await uidTag("x/".repeat(40));
  assertMatch(long, /^vkedge-uid-[0-9a-f]{40}$/);
  assert(tags.every((tag) => tag.length <= 60 && !/[/,]/.test(tag)));
  assertEquals(await nodeTag(owner), tags[1]);
  assert(await nodeTag({ ...owner, nodeName: "edge-2" }) !== tags[1], "nodes differ");
});

Deno.test("ownership is read only from metadata naming this cluster and node", () => {
  const metadata = ownerMetadata(identity, owner);
  assertEquals(identityFromMetadata(metadata, owner), identity);
  assertEquals(identityFromMetadata(metadata, { ...owner, nodeName: "edge-2" }), undefined);
  assertEquals(identityFromMetadata(metadata, { ...owner, clusterName: "other" }), undefined);
  assertEquals(identityFromMetadata({ ...metadata, "vkedge.io:pod-uid": "" }, owner), undefined);
  assertEquals(serverNameFor(identity), "vkedge-default.web");
});
