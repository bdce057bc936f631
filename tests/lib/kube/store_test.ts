import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { metaKey, splitMetaKey, Store } from "../../../lib/kube/mod.ts";

function cm(
  namespace: string,
  name: string,
  resourceVersion: string,
  uid = `uid-${name}`,
): ConfigMap {
  return { metadata: { namespace, name, resourceVersion, uid } };
}

Deno.test("metaKey is namespace/name, or name for cluster-scoped objects", () => {
  assertEquals(metaKey(cm("ns", "a", "1")), "ns/a");
  assertEquals(metaKey({ metadata: { name: "node-1" } }), "node-1");
  assertThrows(() => metaKey({ metadata: {} }), TypeError, "metadata.name: expected a name");
  assertEquals(splitMetaKey("ns/a"), { namespace: "ns", name: "a" });
  assertEquals(splitMetaKey("node-1"), { namespace: "", name: "node-1" });
});

Deno.test("Store adds, updates, gets, lists and deletes by key", () => {
  const store = new Store<ConfigMap>();
  assertEquals(store.add(cm("ns", "a", "1")), undefined);
  assertEquals(store.update(cm("ns", "a", "2"))?.metadata?.resourceVersion, "1");
  store.add(cm("other", "a", "3"));
  assertEquals(store.get("ns/a")?.metadata?.resourceVersion, "2");
  assertEquals(store.keys().sort(), ["ns/a", "other/a"]);
  assertEquals(store.list().length, 2);
  assertEquals(store.delete("ns/a")?.metadata?.resourceVersion, "2");
  assertEquals(store.delete(cm("other", "a", "9"))?.metadata?.resourceVersion, "3");
  assertEquals(store.size, 0);
});

Deno.test("Store.replace reports added, changed and deleted objects", () => {
  const store = new Store<ConfigMap>();
  store.add(cm("ns", "same", "1"));
  store.add(cm("ns", "changed", "1"));
  store.add(cm("ns", "gone", "1"));
  store.add(cm("ns", "recreated", "1", "old-uid"));
  const diff = store.replace([
    cm("ns", "same", "1"),
    cm("ns", "changed", "5"),
    cm("ns", "new", "6"),
    cm("ns", "recreated", "7", "new-uid"),
  ]);
  assertEquals(diff.added.map(metaKey).sort(), ["ns/new", "ns/recreated"]);
  assertEquals(
    diff.updated.map((
      [o, n],
    ) => [metaKey(o), o.metadata?.resourceVersion, n.metadata?.resourceVersion]),
    [
      ["ns/changed", "1", "5"],
    ],
  );
  assertEquals(
    diff.deleted.map((o) => [metaKey(o), o.metadata?.uid]).sort(),
    [["ns/gone", "uid-gone"], ["ns/recreated", "old-uid"]],
  );
  assertEquals(store.keys().sort(), ["ns/changed", "ns/new", "ns/recreated", "ns/same"]);
  assertEquals(store.get("ns/recreated")?.metadata?.uid, "new-uid");
});
