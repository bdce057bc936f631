/**
 * Paging, watch resumption and relisting against a real kube-apiserver: the
 * informer's store must end up equal to the server's collection, with every
 * change delivered once.
 */

import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals } from "../../_harness/assert.ts";
import { compactEtcd, kubectl } from "../../_harness/cluster.ts";
import {
  CONFIG_MAPS,
  Informer,
  type KubeList,
  type ListerWatcher,
  type ListOptions,
  metaKey,
  Reflector,
  type ResourceClient,
  Store,
  type WatchOptions,
  type WatchStream,
} from "../../../lib/kube/mod.ts";
import { eventually, withNamespace } from "./_e2e.ts";

/** Wraps a resource client: records calls, can cut open watches and hold back new ones. */
class CuttableSource implements ListerWatcher<ConfigMap> {
  readonly listCalls: ListOptions[] = [];
  readonly watchCalls: WatchOptions[] = [];
  readonly streams: WatchStream<ConfigMap>[] = [];
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  constructor(readonly inner: ResourceClient<ConfigMap>) {}

  listAll(options: ListOptions): Promise<KubeList<ConfigMap>> {
    this.listCalls.push(options);
    return this.inner.listAll(options);
  }

  async watch(options: WatchOptions): Promise<WatchStream<ConfigMap>> {
    this.watchCalls.push(options);
    if (this.#gate !== undefined) await this.#gate;
    const stream = await this.inner.watch(options);
    this.streams.push(stream);
    return stream;
  }

  /** Closes every open watch and holds back new ones until {@linkcode reopen}. */
  cut(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
    for (const stream of this.streams) stream.close();
  }

  reopen(): void {
    this.#open?.();
    this.#gate = undefined;
  }
}

interface Recorded {
  events: string[];
  adds: Map<string, number>;
}

function record(informer: Informer<ConfigMap>): Recorded {
  const recorded: Recorded = { events: [], adds: new Map() };
  informer.addHandlers({
    onAdd: (o) => {
      recorded.events.push(`add ${o.metadata?.name}`);
      recorded.adds.set(metaKey(o), (recorded.adds.get(metaKey(o)) ?? 0) + 1);
    },
    onUpdate: (_, n) => void recorded.events.push(`update ${n.metadata?.name} ${n.data?.v ?? ""}`),
    onDelete: (o) => void recorded.events.push(`delete ${o.metadata?.name}`),
  });
  return recorded;
}

function names(store: Store<ConfigMap>): string[] {
  return store.list().map((o) => o.metadata?.name ?? "").sort();
}

function cm(name: string, v = "1"): ConfigMap {
  return { metadata: { name, labels: { suite: "watch" } }, data: { v } };
}

Deno.test("list pages have the asked size and listAll follows continue over 25 ConfigMaps", async () => {
  await withNamespace("kube-paging", async (client, ns) => {
    const cms = client.resource<ConfigMap>(CONFIG_MAPS, ns);
    await Promise.all(
      Array.from({ length: 25 }, (_, i) => cms.create(cm(`page-${String(i).padStart(2, "0")}`))),
    );
    const sizes: number[] = [];
    let next: string | undefined;
    const seen: string[] = [];
    do {
      const page = await cms.list({ labelSelector: "suite=watch", limit: 10, continue: next });
      sizes.push(page.items.length);
      seen.push(...page.items.map((i) => i.metadata?.name ?? ""));
      next = page.metadata.continue || undefined;
    } while (next !== undefined);
    assertEquals(sizes, [10, 10, 5]);
    assertEquals(new Set(seen).size, 25);

    const all = await cms.listAll({ labelSelector: "suite=watch", limit: 7 });
    assertEquals(all.items.length, 25);
    assertEquals(new Set(all.items.map((i) => i.metadata?.name)).size, 25);
    assertEquals(all.metadata.continue, undefined);
    assert(all.metadata.resourceVersion);
  });
});

Deno.test("after the watch connection is cut, the informer resumes and sees every change made in the gap once", async () => {
  await withNamespace("kube-resume", async (client, ns) => {
    const cms = client.resource<ConfigMap>(CONFIG_MAPS, ns);
    await cms.create(cm("a"));
    await cms.create(cm("b"));
    const source = new CuttableSource(cms);
    const informer = new Informer<ConfigMap>(source, {
      labelSelector: "suite=watch",
      initialBackoffMs: 20,
      name: "resume",
    });
    const recorded = record(informer);
    const controller = new AbortController();
    const running = informer.run(controller.signal);
    try {
      assertEquals(await informer.waitForSync(controller.signal), true);
      await cms.create(cm("c"));
      await eventually("c in the store", () => informer.store.get(`${ns}/c`) !== undefined);

      source.cut();
      await cms.create(cm("d"));
      const a = await cms.get("a");
      await cms.update({ ...a, data: { v: "2" } });
      await cms.delete("b");
      await kubectl(["label", "configmap", "c", "-n", ns, "touched=yes"]);
      source.reopen();

      await eventually(
        "the gap's changes in the store",
        () =>
          names(informer.store).join() === "a,c,d" &&
          informer.store.get(`${ns}/a`)?.data?.v === "2" &&
          informer.store.get(`${ns}/c`)?.metadata?.labels?.touched === "yes",
      );
    } finally {
      controller.abort();
      await running;
    }
    assertEquals(source.listCalls.length, 1, "resumed without relisting");
    assert(source.watchCalls.length >= 2);
    assertEquals(
      [...recorded.adds.values()].every((n) => n === 1),
      true,
      JSON.stringify([...recorded.adds]),
    );
    assertEquals([...recorded.adds.keys()].sort(), [`${ns}/a`, `${ns}/b`, `${ns}/c`, `${ns}/d`]);
    assertEquals(recorded.events.filter((e) => e === "delete b").length, 1);
    assertEquals(recorded.events.includes("update a 2"), true);
  });
});

Deno.test("watches ended by a short server timeout are resumed without relisting or duplicate adds", async () => {
  await withNamespace("kube-timeout", async (client, ns) => {
    const cms = client.resource<ConfigMap>(CONFIG_MAPS, ns);
    const source = new CuttableSource(cms);
    const informer = new Informer<ConfigMap>(source, {
      labelSelector: "suite=watch",
      watchTimeoutSeconds: 1,
      name: "timeout",
    });
    const recorded = record(informer);
    const controller = new AbortController();
    const running = informer.run(controller.signal);
    try {
      await informer.waitForSync(controller.signal);
      for (let i = 0; i < 8; i++) {
        await cms.create(cm(`t${i}`));
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
      await eventually("all 8 objects", () => informer.store.size === 8);
    } finally {
      controller.abort();
      await running;
    }
    assert(source.watchCalls.length >= 3, `watch calls ${source.watchCalls.length}`);
    assertEquals(source.listCalls.length, 1);
    assertEquals(recorded.adds.size, 8);
    assertEquals([...recorded.adds.values()].every((n) => n === 1), true);
  });
});

Deno.test("a watch from resourceVersion 1 gets 410 Gone and the informer relists", async () => {
  await withNamespace("kube-gone", async (client, ns) => {
    const cms = client.resource<ConfigMap>(CONFIG_MAPS, ns);
    for (const name of ["x", "y", "z"]) await cms.create(cm(name));
    // A young control plane may still hold revision 1; make it history.
    await compactEtcd();
    const source = new CuttableSource(cms);
    const informer = new Informer<ConfigMap>(source, {
      labelSelector: "suite=watch",
      resourceVersion: "1",
      name: "gone",
    });
    const recorded = record(informer);
    const controller = new AbortController();
    const running = informer.run(controller.signal);
    try {
      await eventually(
        "a relist",
        () => source.listCalls.length === 1 && informer.store.size === 3,
      );
      await cms.create(cm("after"));
      await eventually("the object created after the relist", () => informer.store.size === 4);
    } finally {
      controller.abort();
      await running;
    }
    assertEquals(source.watchCalls[0].resourceVersion, "1");
    assert(Number(informer.lastSyncResourceVersion) > 1);
    assertEquals(names(informer.store), ["after", "x", "y", "z"]);
    assertEquals([...recorded.adds.values()].every((n) => n === 1), true);
  });
});

Deno.test("a relist after 410 reports deletes made while disconnected with the last known state", async () => {
  await withNamespace("kube-gap", async (client, ns) => {
    const cms = client.resource<ConfigMap>(CONFIG_MAPS, ns);
    for (const name of ["keep", "change", "remove"]) await cms.create(cm(name));
    const store = new Store<ConfigMap>();
    const first = new Reflector<ConfigMap>(cms, store, { labelSelector: "suite=watch" });
    const stopFirst = new AbortController();
    const runningFirst = first.run(stopFirst.signal);
    await first.waitForSync();
    stopFirst.abort();
    await runningFirst;
    const removedBefore = store.get(`${ns}/remove`);

    // While nothing watches: one delete, one update, one create.
    await cms.delete("remove");
    await cms.update({ ...(await cms.get("change")), data: { v: "2" } });
    await cms.create(cm("new"));
    await compactEtcd();

    const events: string[] = [];
    let deletedState: ConfigMap | undefined;
    const second = new Reflector<ConfigMap>(cms, store, {
      labelSelector: "suite=watch",
      resourceVersion: "1",
      handler: {
        onAdd: (o) => void events.push(`add ${o.metadata?.name}`),
        onUpdate: (_, n) => void events.push(`update ${n.metadata?.name} ${n.data?.v}`),
        onDelete: (o) => {
          events.push(`delete ${o.metadata?.name}`);
          deletedState = o;
        },
      },
    });
    const stopSecond = new AbortController();
    const runningSecond = second.run(stopSecond.signal);
    try {
      await eventually("the relist", () => events.length === 3);
    } finally {
      stopSecond.abort();
      await runningSecond;
    }
    assertEquals(events.sort(), ["add new", "delete remove", "update change 2"]);
    assertEquals(deletedState, removedBefore);
    assertEquals(names(store), ["change", "keep", "new"]);
  });
});
