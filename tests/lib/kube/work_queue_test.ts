import { assertEquals } from "../../_harness/assert.ts";
import { runWorkers, WorkQueue } from "../../../lib/kube/mod.ts";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("WorkQueue hands out keys in order and de-duplicates queued keys", async () => {
  const queue = new WorkQueue();
  queue.add("ns/a");
  queue.add("ns/b");
  queue.add("ns/a");
  assertEquals(queue.length, 2);
  assertEquals(await queue.get(), "ns/a");
  assertEquals(await queue.get(), "ns/b");
  assertEquals(queue.length, 0);
  queue.done("ns/a");
  queue.done("ns/b");
  queue.shutDown();
});

Deno.test("WorkQueue re-runs a key added while it is processed, once, after done", async () => {
  const queue = new WorkQueue();
  queue.add("ns/a");
  const key = await queue.get();
  assertEquals(key, "ns/a");
  queue.add("ns/a");
  queue.add("ns/a");
  // Not handed out again while being processed.
  assertEquals(queue.length, 0);
  queue.done("ns/a");
  assertEquals(queue.length, 1);
  assertEquals(await queue.get(), "ns/a");
  queue.done("ns/a");
  assertEquals(queue.length, 0);
  queue.shutDown();
});

Deno.test("WorkQueue never processes one key concurrently with itself", async () => {
  const queue = new WorkQueue();
  const controller = new AbortController();
  const active = new Set<string>();
  let overlaps = 0;
  let runs = 0;
  const workers = runWorkers(queue, async (key) => {
    if (active.has(key)) overlaps++;
    active.add(key);
    runs++;
    await delay(5);
    active.delete(key);
  }, { workers: 4, signal: controller.signal });
  for (let i = 0; i < 20; i++) {
    queue.add("ns/hot");
    queue.add(`ns/cold-${i % 3}`);
    await delay(1);
  }
  await delay(60);
  controller.abort();
  await workers;
  queue.shutDown();
  assertEquals(overlaps, 0);
  assertEquals(runs >= 4, true, `runs ${runs}`);
});

Deno.test("WorkQueue.addRateLimited backs off per key exponentially until forget", async () => {
  const queue = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 40 });
  const started = performance.now();
  queue.addRateLimited("ns/a");
  assertEquals(queue.numRequeues("ns/a"), 1);
  assertEquals(queue.length, 0);
  assertEquals(await queue.get(), "ns/a");
  const first = performance.now() - started;
  queue.done("ns/a");

  const again = performance.now();
  queue.addRateLimited("ns/a");
  assertEquals(await queue.get(), "ns/a");
  const second = performance.now() - again;
  queue.done("ns/a");
  assertEquals(queue.numRequeues("ns/a"), 2);
  assertEquals(first >= 9, true, `first delay ${first}`);
  assertEquals(second >= 19, true, `second delay ${second}`);

  queue.addRateLimited("ns/a");
  queue.addRateLimited("ns/a");
  assertEquals(queue.numRequeues("ns/a"), 4);
  queue.forget("ns/a");
  assertEquals(queue.numRequeues("ns/a"), 0);
  queue.shutDown();
});

Deno.test("WorkQueue.addAfter delays a key and keeps the earliest of pending delays", async () => {
  const queue = new WorkQueue();
  queue.addAfter("ns/a", 200);
  queue.addAfter("ns/a", 10);
  queue.addAfter("ns/a", 300);
  const started = performance.now();
  assertEquals(await queue.get(), "ns/a");
  const waited = performance.now() - started;
  assertEquals(waited < 150, true, `waited ${waited}`);
  queue.done("ns/a");
  queue.shutDown();
});

Deno.test("WorkQueue.shutDown drains queued keys, then get resolves undefined", async () => {
  const queue = new WorkQueue();
  const waiting = queue.get();
  queue.add("ns/a");
  assertEquals(await waiting, "ns/a");
  queue.add("ns/b");
  queue.addAfter("ns/c", 10_000);
  queue.shutDown();
  queue.add("ns/d");
  assertEquals(await queue.get(), "ns/b");
  assertEquals(await queue.get(), undefined);
  assertEquals(queue.shuttingDown, true);
});

Deno.test("WorkQueue.get resolves undefined when its signal aborts", async () => {
  const queue = new WorkQueue();
  const controller = new AbortController();
  const waiting = queue.get(controller.signal);
  controller.abort();
  assertEquals(await waiting, undefined);
  queue.add("ns/a");
  assertEquals(await queue.get(), "ns/a");
  queue.shutDown();
});

Deno.test("runWorkers forgets keys that sync and requeues failing ones with backoff", async () => {
  const queue = new WorkQueue({ baseDelayMs: 1 });
  const controller = new AbortController();
  const attempts = new Map<string, number>();
  let requeuesSeen = 0;
  const workers = runWorkers(queue, (key) => {
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    if (key === "ns/flaky" && n < 3) {
      requeuesSeen = queue.numRequeues(key);
      return Promise.reject(new Error("provider unavailable"));
    }
    if (n === 3) controller.abort();
    return Promise.resolve();
  }, { workers: 2, signal: controller.signal });
  queue.add("ns/ok");
  queue.add("ns/flaky");
  await workers;
  assertEquals(attempts.get("ns/ok"), 1);
  assertEquals(attempts.get("ns/flaky"), 3);
  assertEquals(requeuesSeen, 1);
  assertEquals(queue.numRequeues("ns/flaky"), 0);
  queue.shutDown();
});
