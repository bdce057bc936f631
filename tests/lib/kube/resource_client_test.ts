import type { ConfigMap, Pod } from "kubernetes-types/core/v1.d.ts";
import { assertEquals, assertRejects, assertThrows } from "../../_harness/assert.ts";
import { CONFIG_MAPS, NODES, PODS, ResourceClient } from "../../../lib/kube/mod.ts";
import { FakeSender } from "./_fake_sender.ts";

Deno.test("ResourceClient turns verbs into requests: method, path, query, body and retry safety", async () => {
  const sender = new FakeSender();
  const pods = new ResourceClient<Pod>(sender, PODS, "ns");
  await pods.get("web", { resourceVersion: "0" });
  await pods.create({ metadata: { name: "web" } }, { fieldManager: "m", dryRun: true });
  await pods.update({ metadata: { name: "web" } });
  await pods.updateStatus({ metadata: { name: "web" } }, { fieldValidation: "Strict" });
  await pods.patch("web", { metadata: { labels: { a: "b" } } }, { type: "strategic" });
  await pods.delete("web", { gracePeriodSeconds: 30 });
  assertEquals(
    sender.requests.map((r) => [r.method, r.path, r.idempotent, r.contentType]),
    [
      ["GET", "/api/v1/namespaces/ns/pods/web", undefined, undefined],
      ["POST", "/api/v1/namespaces/ns/pods", false, undefined],
      ["PUT", "/api/v1/namespaces/ns/pods/web", true, undefined],
      ["PUT", "/api/v1/namespaces/ns/pods/web/status", true, undefined],
      [
        "PATCH",
        "/api/v1/namespaces/ns/pods/web",
        false,
        "application/strategic-merge-patch+json",
      ],
      ["DELETE", "/api/v1/namespaces/ns/pods/web", true, undefined],
    ],
  );
  assertEquals(sender.requests[0].query, { resourceVersion: "0" });
  assertEquals(sender.requests[1].query, {
    fieldManager: "m",
    dryRun: "All",
    fieldValidation: undefined,
  });
  assertEquals(sender.requests[1].body, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web" },
  });
  assertEquals(sender.requests[3].query?.fieldValidation, "Strict");
  assertEquals(sender.requests[5].body, {
    kind: "DeleteOptions",
    apiVersion: "v1",
    gracePeriodSeconds: 30,
  });
});

Deno.test("ResourceClient without a namespace writes to the object's namespace and refuses none", async () => {
  const sender = new FakeSender();
  const all = new ResourceClient<ConfigMap>(sender, CONFIG_MAPS);
  await all.create({ metadata: { name: "a", namespace: "team" } });
  await all.apply({ metadata: { name: "a", namespace: "team" } }, { fieldManager: "m" });
  assertEquals(sender.requests.map((r) => r.path), [
    "/api/v1/namespaces/team/configmaps",
    "/api/v1/namespaces/team/configmaps/a",
  ]);
  assertEquals(sender.requests[1].contentType, "application/apply-patch+yaml");
  await assertRejects(
    () => all.create({ metadata: { name: "a" } }),
    TypeError,
    "namespace: expected a namespace to create configmaps, found none",
  );
  await assertRejects(
    () => all.update({ metadata: {} }),
    TypeError,
    "metadata.name: expected a name to update configmaps, found none",
  );
  await assertRejects(
    () => all.patch("a", {}, { type: "apply" }),
    TypeError,
    "fieldManager: expected a field manager for a server-side apply, found none",
  );
  assertThrows(
    () => all.path({ name: "a", subresource: "../x" }),
    TypeError,
    'subresource: expected segments such as "status" or "proxy/stats", found "../x"',
  );
  assertEquals(new ResourceClient(sender, NODES).path({ name: "n" }), "/api/v1/nodes/n");
});

Deno.test("ResourceClient lists fill in missing items and metadata, and watches ask for bookmarks", async () => {
  const sender = new FakeSender();
  sender.answer = () => ({ kind: "PodList" });
  const pods = new ResourceClient<Pod>(sender, PODS, "ns");
  const list = await pods.list({ labelSelector: "app=web", limit: 2 });
  assertEquals([list.items, list.metadata], [[], {}]);
  const stream = await pods.watch({ resourceVersion: "7" });
  for await (const _ of stream) {
    // The fake's stream is empty.
  }
  assertEquals(sender.requests[1].query?.watch, 1);
  assertEquals(sender.requests[1].query?.allowWatchBookmarks, true);
  assertEquals(sender.requests[1].query?.resourceVersion, "7");
  assertEquals(sender.requests[0].query?.labelSelector, "app=web");
});
