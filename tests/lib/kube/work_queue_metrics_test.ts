import { assertEquals } from "../../_harness/assert.ts";
import { findSamples, parsePrometheusText, sampleValue } from "../../_harness/prometheus.ts";
import { runWorkers, WorkQueue } from "../../../lib/kube/mod.ts";
import { renderMetrics } from "../../../lib/metrics/mod.ts";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function uniqueName(): string {
  return `test-${crypto.randomUUID().slice(0, 8)}`;
}

async function scrape() {
  return parsePrometheusText(await renderMetrics());
}

Deno.test("a work queue reports depth, adds, queue and work durations and work in progress", async () => {
  const name = uniqueName();
  const queue = new WorkQueue({ name });
  queue.add("ns/a");
  queue.add("ns/b");
  queue.add("ns/a"); // already waiting: not an add
  let families = await scrape();
  assertEquals(sampleValue(families, "vkedge_workqueue_depth", { name }), 2);
  assertEquals(sampleValue(families, "vkedge_workqueue_adds_total", { name }), 2);

  await delay(20);
  const key = await queue.get();
  assertEquals(key, "ns/a");
  queue.add("ns/a"); // added again while processed: counts, and waits for done
  await delay(20);
  families = await scrape();
  assertEquals(sampleValue(families, "vkedge_workqueue_depth", { name }), 2);
  assertEquals(sampleValue(families, "vkedge_workqueue_adds_total", { name }), 3);
  assertEquals(
    sampleValue(families, "vkedge_workqueue_queue_duration_seconds_count", { name }),
    1,
  );
  assertEquals(
    sampleValue(families, "vkedge_workqueue_queue_duration_seconds_sum", { name }) >= 0.015,
    true,
  );
  const longest = sampleValue(families, "vkedge_workqueue_longest_running_processor_seconds", {
    name,
  });
  assertEquals(longest >= 0.015 && longest < 5, true, `longest ${longest}`);
  assertEquals(
    sampleValue(families, "vkedge_workqueue_unfinished_work_seconds", { name }) >= 0.015,
    true,
  );

  queue.done("ns/a");
  families = await scrape();
  assertEquals(sampleValue(families, "vkedge_workqueue_work_duration_seconds_count", { name }), 1);
  assertEquals(
    sampleValue(families, "vkedge_workqueue_work_duration_seconds_sum", { name }) >= 0.015,
    true,
  );
  assertEquals(
    sampleValue(families, "vkedge_workqueue_longest_running_processor_seconds", { name }),
    0,
  );
  assertEquals(sampleValue(families, "vkedge_workqueue_depth", { name }), 2);

  queue.shutDown();
  families = await scrape();
  assertEquals(findSamples(families, "vkedge_workqueue_depth", { name }), []);
  // Counters outlive the queue.
  assertEquals(sampleValue(families, "vkedge_workqueue_adds_total", { name }), 3);
});

Deno.test("runWorkers' failed syncs count as work queue retries", async () => {
  const name = uniqueName();
  const queue = new WorkQueue({ name, baseDelayMs: 1 });
  const controller = new AbortController();
  let attempts = 0;
  const workers = runWorkers(queue, () => {
    if (++attempts < 3) return Promise.reject(new Error("provider unavailable"));
    controller.abort();
    return Promise.resolve();
  }, { signal: controller.signal });
  queue.add("ns/flaky");
  await workers;
  queue.shutDown();
  const families = await scrape();
  assertEquals(sampleValue(families, "vkedge_workqueue_retries_total", { name }), 2);
  assertEquals(sampleValue(families, "vkedge_workqueue_adds_total", { name }), 3);
  assertEquals(sampleValue(families, "vkedge_workqueue_work_duration_seconds_count", { name }), 3);
});

Deno.test("queues of one name report together: depths add up", async () => {
  const name = uniqueName();
  const first = new WorkQueue({ name });
  const second = new WorkQueue({ name });
  first.add("a");
  second.add("a");
  second.add("b");
  assertEquals(sampleValue(await scrape(), "vkedge_workqueue_depth", { name }), 3);
  first.shutDown();
  assertEquals(sampleValue(await scrape(), "vkedge_workqueue_depth", { name }), 2);
  second.shutDown();
});
