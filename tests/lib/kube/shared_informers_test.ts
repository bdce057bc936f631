import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertThrows } from "../../_harness/assert.ts";
import {
  CONFIG_MAPS,
  LEASES,
  type ListerWatcher,
  PODS,
  type ResourceDescriptor,
  resourceName,
  SharedInformerFactory,
} from "../../../lib/kube/mod.ts";
import { configMap, FakeCollection, line } from "./_fakes.ts";

/** A resource source handing out one fake collection per resource, namespace and call. */
class FakeSource {
  readonly collections: { resource: string; namespace?: string; fake: FakeCollection }[] = [];

  resource<T>(descriptor: ResourceDescriptor, namespace?: string): ListerWatcher<T> {
    const fake = new FakeCollection();
    fake.items.set("ns/a", configMap("a", "1"));
    this.collections.push({ resource: descriptor.plural, namespace, fake });
    return fake as unknown as ListerWatcher<T>;
  }

  watches(): number {
    return this.collections.reduce((sum, { fake }) => sum + fake.watchCalls.length, 0);
  }
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("shared informers: the same resource and selector is one informer, one list and one watch", async () => {
  const source = new FakeSource();
  const factory = new SharedInformerFactory(source);
  const first = factory.informer<ConfigMap>(CONFIG_MAPS);
  const second = factory.informer<ConfigMap>(CONFIG_MAPS);
  const pods = factory.informer(PODS, { fieldSelector: "spec.nodeName=n1" });
  const samePods = factory.informer(PODS, { fieldSelector: "spec.nodeName=n1" });
  const otherPods = factory.informer(PODS, { fieldSelector: "spec.nodeName=n2" });
  assert(first === second, "one informer for ConfigMaps");
  assert(pods === samePods, "one informer for the same pod selector");
  assert(pods !== otherPods, "another selector is another informer");
  const stop = new AbortController();
  factory.start(stop.signal);
  assertEquals(await factory.waitForSync(stop.signal), true);
  await until(() => source.watches() === 3);
  assertEquals(source.collections.map(({ resource }) => resource), ["configmaps", "pods", "pods"]);
  assertEquals(source.collections.map(({ fake }) => fake.listCalls.length), [1, 1, 1]);
  assertEquals(source.collections[1].fake.listCalls[0].fieldSelector, "spec.nodeName=n1");
  assertEquals(first.store.keys(), ["ns/a"]);
  stop.abort();
  await factory.stopped();
});

Deno.test("shared informers: one asked for after start starts at once; entries describe them all", async () => {
  const source = new FakeSource();
  const factory = new SharedInformerFactory(source);
  factory.informer(CONFIG_MAPS);
  const stop = new AbortController();
  factory.start(stop.signal);
  const leases = factory.informer(LEASES, { namespace: "kube-node-lease", labelSelector: "a=b" });
  assertEquals(await leases.waitForSync(stop.signal), true);
  assertEquals(source.collections[1].namespace, "kube-node-lease");
  assertEquals(factory.entries(), [
    { resource: "configmaps", options: {}, synced: true },
    {
      resource: "leases.coordination.k8s.io",
      options: { namespace: "kube-node-lease", labelSelector: "a=b" },
      synced: true,
    },
  ]);
  assertThrows(() => factory.start(stop.signal), Error, "expected start() once");
  stop.abort();
  await factory.stopped();
  assertEquals(resourceName(PODS), "pods");
});

Deno.test("shared informers: waitForSync is false when the signal aborts first", async () => {
  const factory = new SharedInformerFactory(new FakeSource());
  factory.informer(CONFIG_MAPS);
  const stop = new AbortController();
  const waiting = factory.waitForSync(stop.signal);
  stop.abort();
  assertEquals(await waiting, false);
});

Deno.test("shared informers keep listed and watched objects without managedFields", async () => {
  const managedFields = [{ manager: "kubectl", operation: "Update", fieldsType: "FieldsV1" }];
  const fake = new FakeCollection();
  fake.items.set("ns/a", {
    ...configMap("a", "1"),
    metadata: { ...configMap("a", "1").metadata, managedFields },
  });
  const watched = {
    ...configMap("b", "11"),
    metadata: { ...configMap("b", "11").metadata, managedFields },
  };
  fake.scripts.push({ lines: [line("ADDED", watched)] });
  const factory = new SharedInformerFactory({
    resource: <T>() => fake as unknown as ListerWatcher<T>,
  });
  const informer = factory.informer<ConfigMap>(CONFIG_MAPS);
  const stop = new AbortController();
  factory.start(stop.signal);
  await until(() => informer.store.keys().length === 2);
  assertEquals(informer.store.get("ns/a")?.metadata?.managedFields, undefined);
  assertEquals(informer.store.get("ns/b")?.metadata?.managedFields, undefined);
  assertEquals(informer.store.get("ns/b")?.metadata?.name, "b");
  stop.abort();
  await factory.stopped();
});
