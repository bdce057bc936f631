import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import { assertEquals } from "../../_harness/assert.ts";
import { Informer, metaKey, Reflector, Store } from "../../../lib/kube/mod.ts";
import { configMap, FakeCollection, line } from "./_fakes.ts";

function recorder(informer: Informer<ConfigMap>): string[] {
  const seen: string[] = [];
  const rv = (o: ConfigMap) => `${metaKey(o)}@${o.metadata?.resourceVersion}`;
  informer.addHandlers({
    onAdd: (o) => void seen.push(`add ${rv(o)}`),
    onUpdate: (o, n) => void seen.push(`update ${rv(o)}->${n.metadata?.resourceVersion}`),
    onDelete: (o) => void seen.push(`delete ${rv(o)}`),
  });
  return seen;
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("Informer lists, syncs, then applies watch events to its store and handlers", async () => {
  const fake = new FakeCollection();
  fake.lists.push(["10", [configMap("a", "5"), configMap("b", "6")]]);
  fake.scripts.push({
    lines: [
      line("MODIFIED", configMap("a", "11")),
      line("ADDED", configMap("c", "12")),
      line("DELETED", configMap("b", "13")),
      line("BOOKMARK", { kind: "ConfigMap", metadata: { resourceVersion: "20" } }),
    ],
  });
  const informer = new Informer<ConfigMap>(fake, { pageSize: 50, labelSelector: "app=x" });
  const seen = recorder(informer);
  const controller = new AbortController();
  const running = informer.run(controller.signal);
  assertEquals(await informer.waitForSync(controller.signal), true);
  await until(() => informer.lastSyncResourceVersion === "20");
  controller.abort();
  await running;
  assertEquals(seen, [
    "add ns/a@5",
    "add ns/b@6",
    "update ns/a@5->11",
    "add ns/c@12",
    "delete ns/b@13",
  ]);
  assertEquals(informer.store.keys().sort(), ["ns/a", "ns/c"]);
  assertEquals(fake.listCalls[0].limit, 50);
  assertEquals(fake.listCalls[0].labelSelector, "app=x");
  assertEquals(fake.watchCalls.map((c) => c.resourceVersion).slice(0, 2), ["10", "20"]);
});

Deno.test("Informer relists after 410 and reports changes missed in the gap, deletes with last known state", async () => {
  const fake = new FakeCollection();
  fake.lists.push(
    ["10", [configMap("a", "5"), configMap("b", "6"), configMap("c", "7")]],
    ["30", [configMap("a", "25"), configMap("c", "7"), configMap("d", "28")]],
  );
  fake.scripts.push({
    lines: [
      line("MODIFIED", configMap("b", "11", "last-known")),
      line("ERROR", { kind: "Status", code: 410, reason: "Expired", message: "too old" }),
    ],
  });
  const informer = new Informer<ConfigMap>(fake, { initialBackoffMs: 1 });
  const seen = recorder(informer);
  const controller = new AbortController();
  const running = informer.run(controller.signal);
  await until(() => fake.listCalls.length === 2 && fake.watchCalls.length === 2);
  controller.abort();
  await running;
  assertEquals(seen, [
    "add ns/a@5",
    "add ns/b@6",
    "add ns/c@7",
    "update ns/b@6->11",
    "delete ns/b@11",
    "add ns/d@28",
    "update ns/a@5->25",
  ]);
  assertEquals(informer.store.keys().sort(), ["ns/a", "ns/c", "ns/d"]);
  assertEquals(fake.watchCalls[1].resourceVersion, "30");
});

Deno.test("Reflector starts from a saved resourceVersion and relists when it is gone", async () => {
  const fake = new FakeCollection();
  fake.scripts.push({ status: 410, reason: "Gone" });
  fake.lists.push(["40", [configMap("a", "39")]]);
  const store = new Store<ConfigMap>();
  const reflector = new Reflector<ConfigMap>(fake, store, { resourceVersion: "1" });
  const controller = new AbortController();
  const running = reflector.run(controller.signal);
  assertEquals(await reflector.waitForSync(controller.signal), true);
  await until(() => fake.watchCalls.length === 2);
  controller.abort();
  await running;
  assertEquals(fake.watchCalls.map((c) => c.resourceVersion), ["1", "40"]);
  assertEquals(fake.listCalls.length, 1);
  assertEquals(store.keys(), ["ns/a"]);
  assertEquals(reflector.lastSyncResourceVersion, "40");
});

Deno.test("Informer handler failures are logged and do not stop delivery", async () => {
  const fake = new FakeCollection();
  fake.lists.push(["10", [configMap("a", "1"), configMap("b", "2")]]);
  const informer = new Informer<ConfigMap>(fake);
  const added: string[] = [];
  informer.addHandlers({
    onAdd: () => {
      throw new Error("handler bug");
    },
  });
  informer.addHandlers({ onAdd: () => Promise.reject(new Error("async handler bug")) });
  informer.addHandlers({ onAdd: (o) => void added.push(metaKey(o)) });
  const controller = new AbortController();
  const running = informer.run(controller.signal);
  await informer.waitForSync();
  controller.abort();
  await running;
  assertEquals(added, ["ns/a", "ns/b"]);
});

Deno.test("Informer replays stored objects to handlers added after sync, and resyncs periodically", async () => {
  const fake = new FakeCollection();
  fake.lists.push(["10", [configMap("a", "1")]]);
  const informer = new Informer<ConfigMap>(fake, { resyncMs: 20 });
  const controller = new AbortController();
  const running = informer.run(controller.signal);
  await informer.waitForSync();
  const seen = recorder(informer);
  assertEquals(seen, ["add ns/a@1"]);
  await until(() => seen.length >= 2);
  controller.abort();
  await running;
  assertEquals(seen[1], "update ns/a@1->1");
});

Deno.test("waitForSync resolves false when the signal aborts first", async () => {
  const informer = new Informer<ConfigMap>(new FakeCollection());
  const controller = new AbortController();
  const waiting = informer.waitForSync(controller.signal);
  controller.abort();
  assertEquals(await waiting, false);
  assertEquals(informer.hasSynced(), false);
});

Deno.test("Informer handlers keep their own resync period; handlers without one get none", async () => {
  const fake = new FakeCollection();
  fake.lists.push(["10", [configMap("a", "1")]]);
  const informer = new Informer<ConfigMap>(fake);
  const resynced: string[] = [];
  const quiet: string[] = [];
  informer.addHandlers({
    onUpdate: (o, n) => void resynced.push(`${metaKey(o)} ${o === n}`),
  }, { resyncMs: 20 });
  informer.addHandlers({ onUpdate: (o) => void quiet.push(metaKey(o)) });
  const controller = new AbortController();
  const running = informer.run(controller.signal);
  await informer.waitForSync();
  await until(() => resynced.length >= 2);
  // One added after the start resyncs too.
  const late: string[] = [];
  informer.addHandlers({ onUpdate: (o) => void late.push(metaKey(o)) }, { resyncMs: 20 });
  await until(() => late.length >= 1);
  controller.abort();
  await running;
  assertEquals(resynced.slice(0, 2), ["ns/a true", "ns/a true"]);
  assertEquals(quiet, []);
  assertEquals(late[0], "ns/a");
  // Stopped informers resync no more.
  const count = resynced.length;
  await new Promise((resolve) => setTimeout(resolve, 60));
  assertEquals(resynced.length, count);
});
